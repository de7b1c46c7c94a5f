"""Training for the ad01 FINN model (model_brevitas.py): the same windows and AUC gate as the
QKeras autoencoder; the model takes the input map's integers and reconstructs in model units."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.errors import ConfigError, GateError
from common.jsonio import write_json
from tasks.ad.config import ADTask
from tasks.ad.dataset import LabelledFile
from tasks.ad.input_map import InputMap
from tasks.ad.train import INPUT_MAP_FILE, file_auc


def train(cfg: ADTask, train_windows: Path, test_files: list[LabelledFile], data_kind: str, out: Path) -> dict:
    import torch

    from frameworks import brevitas_qat as bq
    from tasks.ad import model_brevitas

    b = cfg.brevitas
    windows = np.load(train_windows)
    input_map = InputMap.fit(windows, width=b.input_quant.bits, integer=b.input_quant.integer)
    if input_map.shift < 0:
        raise ConfigError(f"brevitas.input_quant {b.input_quant} is too coarse for the feature range "
                          f"(shift {input_map.shift} < 0)")
    write_json(out / INPUT_MAP_FILE, input_map.model_dump())
    raw = input_map.to_raw(windows).astype(np.float32)
    target = input_map.to_model(windows)
    torch.manual_seed(b.train.seed)
    model = model_brevitas.build(b, cfg.model.inputs)
    fitted = bq.fit(model, raw, target, b.train, b.quant.pruning, torch.nn.MSELoss())
    bq.save(model, out)

    def predict(model_units: np.ndarray) -> np.ndarray:  # file_auc hands model units; the model takes the integers
        return bq.predict(model, np.ldexp(model_units, input_map.frac).astype(np.float32), batch=4096)

    auc = file_auc(predict, test_files, input_map)
    gate = getattr(b.min_auc, data_kind)
    metrics = {
        "metric": "AUC",
        "host_value": auc,
        "host_what": "Brevitas model on the host",
        **fitted,
        "data_kind": data_kind,
        "min_auc": gate,
        "artifacts": {"model": bq.MODEL_FILE, "input_map": INPUT_MAP_FILE},
    }
    write_json(out / "metrics.json", metrics)
    if auc < gate:
        raise GateError(f"train gate failed (Brevitas): AUC {auc:.4f} < {gate} on {data_kind} data (see {out}/metrics.json)")
    return metrics
