"""Training for ad01: fit the input map, train the QKeras autoencoder, and gate on AUC."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from common.errors import ConfigError, GateError
from common.jsonio import write_json
from tasks.ad.config import ADTask
from tasks.ad.dataset import LabelledFile
from tasks.ad.input_map import InputMap, scores

MODEL_FILE = "model.h5"
INPUT_MAP_FILE = "input_map.json"


def file_auc(predict, files: list[LabelledFile], input_map: InputMap) -> float:
    """AUC over per-file mean window scores (the reference and MLC runner definition)."""
    per_file = [float(np.mean(scores(f.windows, predict(input_map.to_model(f.windows)), input_map))) for f in files]
    return float(roc_auc_score([f.label for f in files], per_file))


def train(cfg: ADTask, train_windows: Path, test_files: list[LabelledFile], data_kind: str, out: Path) -> dict:
    from frameworks.keras2 import keras, tf  # first: sets up Keras 2 for everything below

    # isort: split
    from tqdm.keras import TqdmCallback

    from tasks import pruning_keras
    from tasks.ad import model_qkeras

    windows = np.load(train_windows)
    q = cfg.model.input_quant
    input_map = InputMap.fit(windows, width=q.bits, integer=q.integer)
    if input_map.shift < 0:
        raise ConfigError(f"model.input_quant {q} is too coarse for the feature range (shift {input_map.shift} < 0)")
    write_json(out / INPUT_MAP_FILE, input_map.model_dump())
    x = input_map.to_model(windows)

    tf.keras.utils.set_random_seed(cfg.train.seed)
    model, pruning = pruning_keras.wrap(model_qkeras.build(cfg.model), cfg.model.pruning,
                                        -(-len(x) // cfg.train.batch_size), cfg.train.epochs)
    model.compile(keras.optimizers.Adam(cfg.train.learning_rate), loss="mse")
    history = model.fit(
        x, x, batch_size=cfg.train.batch_size, epochs=cfg.train.epochs, shuffle=True, verbose=0,
        callbacks=[*pruning, TqdmCallback(verbose=0, desc="train")],
    )
    model = pruning_keras.strip(model, cfg.model.pruning)
    model.save(out / MODEL_FILE)

    auc = file_auc(lambda v: model.predict(v, batch_size=4096, verbose=0), test_files, input_map)
    gate = getattr(cfg.min_auc, data_kind)
    metrics = {
        "metric": "AUC",
        "auc_qkeras": auc,
        "host_value": auc,
        "host_what": "QKeras model on the host",
        "final_loss": float(history.history["loss"][-1]),
        "sparsity": pruning_keras.sparsity(model),
        "data_kind": data_kind,
        "min_auc": gate,
        "evaluated_on": "host, QKeras model (float emulation of the quantized graph)",
        "artifacts": {"model": MODEL_FILE, "input_map": INPUT_MAP_FILE},
    }
    write_json(out / "metrics.json", metrics)
    if auc < gate:
        raise GateError(f"train gate failed: AUC {auc:.4f} < {gate} on {data_kind} data (see {out}/metrics.json)")
    return metrics
