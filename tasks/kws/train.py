"""Training for kws01: the QKeras DS-CNN on the MFCC features (inputs as the DUT gets them: the
kws01 int8 encoding minus its zero point), gated on top-1 of the test files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tasks.gate import top1_gate
from tasks.kws import testset
from tasks.kws.config import KWSTask

MODEL_FILE = "model.h5"


def to_model_input(features: np.ndarray, cfg: KWSTask) -> np.ndarray:
    """Float MFCCs -> what the model sees: the kws01 bytes (encoded exactly as the test files are) - zero point."""
    q = testset.encode(features, cfg.input).astype(np.float32) - cfg.input.zero_point
    return q.reshape(-1, cfg.features.frames, cfg.features.coefficients, 1)


def train(cfg: KWSTask, data: dict[str, Path], eembc: Path, data_kind: str, out: Path) -> dict:
    from frameworks.keras2 import keras, tf  # first: sets up Keras 2 for everything below

    # isort: split
    from tqdm.keras import TqdmCallback

    from tasks import pruning_keras
    from tasks.kws import model_qkeras

    sets = {name: np.load(data[name]) for name in ("train", "validation")}
    x_train, y_train = to_model_input(sets["train"]["x"], cfg), sets["train"]["y"]
    x_val, y_val = to_model_input(sets["validation"]["x"], cfg), sets["validation"]["y"]
    tf.keras.utils.set_random_seed(cfg.train.seed)
    model, pruning = pruning_keras.wrap(model_qkeras.build(cfg.model, x_train.shape[1:], len(cfg.classes)),
                                        cfg.model.pruning, -(-len(x_train) // cfg.train.batch_size), cfg.train.epochs)
    model.compile(keras.optimizers.Adam(cfg.train.learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    history = model.fit(x_train, y_train, validation_data=(x_val, y_val), batch_size=cfg.train.batch_size,
                        epochs=cfg.train.epochs, shuffle=True, verbose=0,
                        callbacks=[*pruning, TqdmCallback(verbose=0, desc="train")])
    model = pruning_keras.strip(model, cfg.model.pruning)
    model.save(out / MODEL_FILE)

    q, labels = testset.read(eembc, cfg.model_id, cfg.input_bytes)
    x_test = (q.astype(np.float32) - cfg.input.zero_point).reshape(-1, *x_train.shape[1:])
    predicted = model.predict(x_test, batch_size=256, verbose=0).argmax(axis=1)
    return top1_gate(predicted, labels, "QKeras model", data_kind, getattr(cfg.min_top1, data_kind), out,
                     {"model": MODEL_FILE}, validation_accuracy=float(history.history["val_accuracy"][-1]),
                     final_loss=float(history.history["loss"][-1]), sparsity=pruning_keras.sparsity(model))
