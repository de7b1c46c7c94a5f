"""model=reference for ad01 with hls4ml: the MLPerf Tiny float autoencoder (ad01.h5: 640-128x4-8-128x4-640,
Dense -> BatchNorm -> ReLU, float dB features in) loaded as it is, with post-training fixed-point types
(task.yaml reference.hls4ml). Its input needs no normalisation: the input map is the identity on the
input type's grid (offset 0, scale 2^0, reference.input_frac fraction bits), which the firmware applies
to each float32 window as for a trained model (tasks/ad/input_map.py). Checked on the test files: AUC
of the Keras model, and on real ToyCar data the closed-division target."""

from __future__ import annotations

from pathlib import Path

from common.errors import GateError
from common.jsonio import write_json
from tasks.ad.dataset import LabelledFile
from tasks.ad.input_map import InputMap
from tasks.ad.train import INPUT_MAP_FILE, MODEL_FILE, file_auc


def import_model(cfg, path: Path, files: list[LabelledFile], data_kind: str, out: Path) -> dict:
    from frameworks.keras2 import keras

    model = keras.models.load_model(path, compile=False)
    if model.input_shape[1:] != (cfg.model.inputs,) or model.output_shape[1:] != (cfg.model.inputs,):
        raise GateError(f"{path.name}: input {model.input_shape}, output {model.output_shape}: not the ad01 autoencoder "
                        f"of {cfg.model.inputs} values")
    model.save(out / MODEL_FILE)
    input_map = InputMap(offset=0, scale_log2=0, width=cfg.reference.input_width, frac=cfg.reference.input_frac)
    write_json(out / INPUT_MAP_FILE, input_map.model_dump())
    auc = file_auc(lambda v: model.predict(v, batch_size=4096, verbose=0), files, input_map)
    metrics = {
        "metric": "AUC", "host_value": auc,
        "host_what": f"the float reference {path.name} in Keras, inputs on the input grid, {len(files)} {data_kind} test files",
        "reference_file": str(path), "quantization": "post-training (types in task.yaml reference.hls4ml)",
        "data_kind": data_kind, "artifacts": {"model": MODEL_FILE, "input_map": INPUT_MAP_FILE},
    }
    write_json(out / "metrics.json", metrics)
    if data_kind == "real" and auc < cfg.reference.min_auc:
        raise GateError(f"the float reference scores AUC {auc:.4f} < {cfg.reference.min_auc} on the real test files")
    return metrics
