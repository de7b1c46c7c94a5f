"""model=reference for ic01: the MLPerf Tiny pretrained ResNet-8 (pretrainedResnet.h5, float Keras,
raw pixels 0..255 in) loaded as it is, with its final softmax dropped: the accelerator returns the
logits (hls4ml's softmax tables break argmax agreement, docs/toolchains.md C.y) and the firmware computes
the softmax. Checked on the test files: the same argmax as the original model on every file, and on
real CIFAR-10 the published accuracy."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.errors import GateError
from common.jsonio import write_json
from tasks.ic import testset
from tasks.ic.train import INPUT_FILE, MODEL_FILE


def logits_model(original):
    """A copy of the model whose last layer's softmax activation is linear (same weights)."""
    from frameworks.keras2 import keras

    config = original.get_config()
    last = config["layers"][-1]
    if last["config"].get("activation") != "softmax":
        raise GateError(f"the reference's last layer {last['name']} has activation {last['config'].get('activation')}, "
                        f"not softmax: not the expected ResNet-8")
    last["config"]["activation"] = "linear"
    model = keras.Model.from_config(config)
    model.set_weights(original.get_weights())
    return model


def calibration_inputs(cfg, samples: np.ndarray) -> np.ndarray:
    """The data stage's calibration images (uint8 HWC) as the reference takes them: raw pixels (input_shift 0)."""
    return (samples.astype(np.float32) / 2.0**cfg.reference.input_shift).astype(np.float32)


def import_model(cfg, path: Path, eembc: Path, data_kind: str, out: Path) -> dict:
    from frameworks.keras2 import keras

    original = keras.models.load_model(path, compile=False)
    model = logits_model(original)
    model.save(out / MODEL_FILE)
    write_json(out / INPUT_FILE, {"input_shift": cfg.reference.input_shift})
    images, labels = testset.read(eembc, cfg.model_id, cfg.input_bytes)
    x = images.astype(np.float32)  # input_shift 0: raw pixels
    logits = model.predict(x, batch_size=256, verbose=0)
    same = float(np.mean(logits.argmax(1) == original.predict(x, batch_size=256, verbose=0).argmax(1)))
    top1 = float(np.mean(logits.argmax(1) == labels))
    what = ("real CIFAR-10 test files" if data_kind == "real"
            else "synthetic test files (shapes, not the reference's classes: top-1 is not meaningful)")
    metrics = {
        "metric": "top-1 %",
        "host_value": 100 * top1,
        "host_what": f"MLPerf reference ResNet-8 (Keras, float) on the host, {len(labels)} {what}",
        "reference_file": str(path),
        "data_kind": data_kind,
        "artifacts": {"model": MODEL_FILE, "input": INPUT_FILE},
    }
    write_json(out / "metrics.json", metrics)
    if same < 1.0:
        raise GateError(f"dropping the softmax of {path.name} changed the argmax of {1 - same:.1%} of test files")
    if data_kind == "real" and top1 < cfg.reference.min_top1:
        raise GateError(f"reference top-1 {top1:.1%} < {cfg.reference.min_top1:.1%} on the real test files {eembc}")
    return metrics
