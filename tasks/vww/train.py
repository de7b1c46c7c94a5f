"""Training for vww01: the QKeras MobileNet on the visual wake words images (real or synthetic) with the
reference's kind of augmentation (horizontal flips, shifts), inputs as the DUT gives them
(pixel / 2**input_shift), gated on top-1 of the vww01 test files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.jsonio import write_json
from tasks.gate import top1_gate
from tasks.vww import testset
from tasks.vww.config import VWWTask

MODEL_FILE = "model.h5"
INPUT_FILE = "input.json"  # how the model's input relates to the pixel bytes, read by the firmware build


def to_model_input(images: np.ndarray, input_shift: int) -> np.ndarray:
    return images.astype(np.float32) / (1 << input_shift)


def train(cfg: VWWTask, data: dict[str, Path], eembc: Path, data_kind: str, out: Path) -> dict:
    from frameworks.keras2 import keras, tf  # first: sets up Keras 2 for everything below

    # isort: split
    from tqdm.keras import TqdmCallback

    from tasks import pruning_keras
    from tasks.vww import model_qkeras

    shift = cfg.model.input_shift
    sets = {name: np.load(data[name]) for name in ("train", "validation")}
    x_train, y_train = to_model_input(sets["train"]["x"], shift), sets["train"]["y"]
    x_val, y_val = to_model_input(sets["validation"]["x"], shift), sets["validation"]["y"]
    tf.keras.utils.set_random_seed(cfg.train.seed)
    augment = keras.Sequential(
        ([keras.layers.RandomFlip("horizontal")] if cfg.augment.flip else [])
        + ([keras.layers.RandomTranslation(cfg.augment.shift, cfg.augment.shift, fill_mode="nearest")]
           if cfg.augment.shift else []))
    batches = (tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(len(x_train), seed=cfg.train.seed)
               .batch(cfg.train.batch_size).map(lambda x, y: (augment(x, training=True), y)).prefetch(2))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    # phase 1: with a BatchNorm after every convolution (model_qkeras.py: without, the network does not train)
    model, pruning = pruning_keras.wrap(model_qkeras.build(cfg.model, len(cfg.classes), batchnorm=True), cfg.model.pruning,
                                        len(batches), cfg.train.epochs)
    model.compile(keras.optimizers.Adam(cfg.train.learning_rate), loss=loss, metrics=["accuracy"])
    schedule = keras.callbacks.LearningRateScheduler(  # cosine decay to 5 % over the run
        lambda epoch: cfg.train.learning_rate * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * epoch / cfg.train.epochs))))
    history = model.fit(batches, validation_data=(x_val, y_val), epochs=cfg.train.epochs, verbose=0,
                        callbacks=[*pruning, schedule, TqdmCallback(verbose=0, desc="train")])
    with_batchnorm = float(model.evaluate(x_val, y_val, verbose=0)[1])
    # phase 2: the BatchNorms folded into the convolutions (the model hls4ml converts), fine-tuned at 1/20 of the rate;
    # the zeros of pruning stay zeros (scaling keeps them, and the wrapper holds the final sparsity)
    model = model_qkeras.fold(pruning_keras.strip(model, cfg.model.pruning), cfg.model, len(cfg.classes))
    hold = cfg.model.pruning.model_copy(update={"start": 0.0, "end": 1e-6})
    model, pruning = pruning_keras.wrap(model, hold, len(batches), max(1, cfg.model.finetune_epochs))
    model.compile(keras.optimizers.Adam(cfg.train.learning_rate / 20), loss=loss, metrics=["accuracy"])
    folded = float(model.evaluate(x_val, y_val, verbose=0)[1])
    if cfg.model.finetune_epochs:
        history = model.fit(batches, validation_data=(x_val, y_val), epochs=cfg.model.finetune_epochs, verbose=0,
                            callbacks=[*pruning, TqdmCallback(verbose=0, desc="fine-tune (BatchNorm folded)")])
    model = pruning_keras.strip(model, cfg.model.pruning)
    model.save(out / MODEL_FILE)
    write_json(out / INPUT_FILE, {"input_shift": shift})

    images, labels = testset.read(eembc, cfg.model_id, cfg.input_bytes)
    predicted = model.predict(to_model_input(images, shift), batch_size=256, verbose=0).argmax(1)
    return top1_gate(predicted, labels, "QKeras model", data_kind, getattr(cfg.min_top1, data_kind), out,
                     {"model": MODEL_FILE, "input": INPUT_FILE},
                     validation_accuracy=float(history.history["val_accuracy"][-1]),
                     validation_accuracy_with_batchnorm=with_batchnorm, validation_accuracy_folded=folded,
                     final_loss=float(history.history["loss"][-1]), sparsity=pruning_keras.sparsity(model))
