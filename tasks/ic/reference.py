"""model=reference for ic01: the MLPerf Tiny pretrained ResNet-8 (pretrainedResnet.h5, float Keras,
raw pixels 0..255 in) rebuilt for hls4ml in the same float arithmetic, with changes that keep every result
but float rounding:
* its final softmax dropped: the accelerator returns the logits (hls4ml's softmax tables break argmax
  agreement, docs/toolchains.md C.y) and the firmware computes the softmax;
* each BatchNorm (inference form: scale gamma / sqrt(var + eps)) folded into the convolution before it, per
  output channel: hls4ml folds them too, but only into a convolution whose result type is left 'auto', which
  it then infers 41 to 43 bits wide (every residual stream that wide, in FIFOs of a whole tensor); folded here,
  the convolutions' results take calibrated types;
* the 8 x 8 average pool over the 8 x 8 map, and its flatten, as the global average it is: as an 8 x 8
  window hls4ml holds the whole map in registers (64 x 64 values), as a global pooling 64 accumulators.
Checked on the test files: the same argmax as the original model, and on real CIFAR-10 the published accuracy."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.errors import GateError
from common.jsonio import write_json
from tasks.ic import testset
from tasks.ic.train import INPUT_FILE, MODEL_FILE


def logits_model(original):
    """The rebuilt model (the module's docstring): the same layer names but the BatchNorms and the flatten,
    the softmax linear, BatchNorms folded, the whole-map average pool global."""
    from frameworks.keras2 import keras

    config = original.get_config()
    last = config["layers"][-1]
    if last["config"].get("activation") != "softmax":
        raise GateError(f"the reference's last layer {last['name']} has activation {last['config'].get('activation')}, "
                        f"not softmax: not the expected ResNet-8")
    last["config"]["activation"] = "linear"
    specs = {spec["name"]: spec for spec in config["layers"]}
    weights = {layer.name: layer.get_weights() for layer in original.layers}
    removed: dict[str, str] = {}  # a layer taken out -> the layer whose output replaces it
    for spec in config["layers"]:
        name, kind = spec["name"], spec["class_name"]
        sources = [node[0] for group in spec["inbound_nodes"] for node in group]
        if kind == "BatchNormalization":
            (conv,) = sources
            if specs[conv]["class_name"] != "Conv2D" or _users(config, conv) != [name]:
                raise GateError(f"the reference's {name} does not follow a convolution of its own: not the expected ResNet-8")
            weights[conv] = _folded(original.get_layer(conv), original.get_layer(name))
            specs[conv]["config"]["use_bias"] = True
            removed[name] = conv
        elif kind == "AveragePooling2D":
            (source,) = sources
            if tuple(original.get_layer(source).output_shape[1:3]) != tuple(spec["config"]["pool_size"]):
                raise GateError(f"the reference's {name} does not cover its whole input: not the expected ResNet-8")
            spec["class_name"] = "GlobalAveragePooling2D"
            spec["config"] = {"name": name, "trainable": False, "dtype": "float32", "data_format": "channels_last"}
        elif kind == "Flatten" and specs[sources[0]]["class_name"] == "GlobalAveragePooling2D":
            removed[name] = sources[0]
    config["layers"] = [spec for spec in config["layers"] if spec["name"] not in removed]
    for spec in config["layers"]:
        for group in spec["inbound_nodes"]:
            for node in group:
                while node[0] in removed:
                    node[0] = removed[node[0]]
        spec.pop("build_config", None)  # the input shapes of a layer whose input changed (the dense: 1 x 1 x 64 -> 64)
    model = keras.Model.from_config(config)
    for layer in model.layers:
        layer.set_weights(weights[layer.name])
    return model


def _users(config, name: str) -> list[str]:
    return [spec["name"] for spec in config["layers"] for group in spec["inbound_nodes"] for node in group if node[0] == name]


def _folded(conv, bn) -> list:
    """The convolution's kernel and bias with the BatchNorm after it folded in (keras_import.fold: the
    kernel's last axis is the output channel's, as a Conv2D's is)."""
    from frameworks.keras_import import fold

    weights = dict(zip(("kernel", "bias"), conv.get_weights()))
    weights.update((w.name.split("/")[-1].split(":")[0], w.numpy()) for w in bn.weights)
    return list(fold(weights, bn.epsilon, bn.center, bn.scale))


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
        "host_what": f"MLPerf reference ResNet-8 (Keras, float, BatchNorms folded) on the host, {len(labels)} {what}",
        "reference_file": str(path),
        "data_kind": data_kind,
        "artifacts": {"model": MODEL_FILE, "input": INPUT_FILE},
    }
    write_json(out / "metrics.json", metrics)
    if same < 1.0:
        raise GateError(f"rebuilding {path.name} (softmax dropped, BatchNorms folded) changed the argmax of {1 - same:.1%} "
                        f"of test files")
    if data_kind == "real" and top1 < cfg.reference.min_top1:
        raise GateError(f"reference top-1 {top1:.1%} < {cfg.reference.min_top1:.1%} on the real test files {eembc}")
    return metrics
