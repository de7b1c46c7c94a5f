"""model=reference for vww01 (hls4ml): the MLPerf Tiny pretrained MobileNetV1 0.25 (vww_96.h5, float Keras,
pixel / 255 in, BatchNorm after every convolution, softmax out) rebuilt for hls4ml in the same float
arithmetic with four changes that keep every result but the last rounding:
* each BatchNorm (inference form: scale gamma / sqrt(var + eps)) folded into its convolution's weights and
  bias, per output channel (hls4ml would keep a BatchNorm after a depthwise conv unfolded, at fixed<16,6>);
* the input pixel / 256 instead of pixel / 255: the first convolution's weights are multiplied by 256 / 255,
  so the firmware feeds each byte exactly as ufixed<8,0> (as the trained model's input);
* the 3 x 3 average pool over the 3 x 3 map, and its flatten, as the global average it is: as a 3 x 3 window
  hls4ml holds the whole map in registers (9 x 256 values), as a global pooling 256 accumulators;
* the softmax dropped: the accelerator returns the logits (hls4ml's softmax tables break the argmax,
  docs/toolchains.md C.y; the firmware computes the softmax).
Checked on the test files: the same argmax as the original model (within float rounding), and on real data
the published accuracy."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.errors import GateError
from common.jsonio import write_json
from tasks.vww import testset
from tasks.vww.train import INPUT_FILE, MODEL_FILE

INPUT_SHIFT = 8  # the rebuilt model's input is pixel / 2**8
# The rebuilt model against the original, argmax over the test files: folding changes only float rounding, so
# only a near-tie can differ; more is a wrong rebuild.
MIN_AGREEMENT = 0.995


def _layers(original):
    """The original's layers in order as (kind, layer, its BatchNorm or None), kind conv|dw|pool|dense."""
    kinds = {"Conv2D": "conv", "DepthwiseConv2D": "dw", "AveragePooling2D": "pool", "Dense": "dense"}
    out = []
    layers = original.layers
    for i, layer in enumerate(layers):
        kind = kinds.get(type(layer).__name__)
        if kind is None:
            continue
        bn = layers[i + 1] if i + 1 < len(layers) and type(layers[i + 1]).__name__ == "BatchNormalization" else None
        out.append((kind, layer, bn))
    shape = [k for k, _, _ in out]
    if shape[0] != "conv" or shape[-2:] != ["pool", "dense"] or shape[1:-2] != ["dw", "conv"] * ((len(shape) - 3) // 2):
        raise GateError(f"not the MLPerf Tiny vww MobileNetV1 (layers {shape})")
    if any(bn is None for k, _, bn in out if k in ("conv", "dw")) or out[-1][1].get_config().get("activation") != "softmax":
        raise GateError("not the MLPerf Tiny vww MobileNetV1: a convolution without BatchNorm, or no softmax at the end")
    return out


def rebuild(original):
    """The folded model: conv0, relu0, (dw<i>, relu_dw<i>, pw<i>, relu_pw<i>) x 13, pool, logits."""
    from frameworks.keras2 import keras

    L = keras.layers
    inputs = keras.Input(original.input_shape[1:], name="image")
    x, weights, dw = inputs, {}, 0
    for kind, layer, bn in _layers(original):
        cfg = layer.get_config()
        if kind in ("conv", "dw"):
            kernel, bias = layer.get_weights() if cfg["use_bias"] else (layer.get_weights()[0], 0.0)
            gamma, beta, mean, var = bn.get_weights()
            scale = gamma / np.sqrt(var + bn.epsilon)
            if kind == "dw":
                dw += 1
                name = f"dw{dw}"
                x = L.DepthwiseConv2D(cfg["kernel_size"], strides=cfg["strides"], padding=cfg["padding"], name=name)(x)
                kernel = kernel * scale[None, None, :, None]
            else:
                name = "conv0" if dw == 0 else f"pw{dw}"
                x = L.Conv2D(cfg["filters"], cfg["kernel_size"], strides=cfg["strides"], padding=cfg["padding"], name=name)(x)
                kernel = kernel * scale * (256 / 255 if name == "conv0" else 1.0)
            weights[name] = [kernel.astype(np.float32), ((bias - mean) * scale + beta).astype(np.float32)]
            x = L.Activation("relu", name=f"relu_{name}" if name != "conv0" else "relu0")(x)
        elif kind == "pool":
            if tuple(x.shape[1:3]) != tuple(cfg["pool_size"]):
                raise GateError(f"the MobileNet's last map is {tuple(x.shape[1:3])}, not the {cfg['pool_size']} its pool covers")
            x = L.GlobalAveragePooling2D(name="pool")(x)
        else:
            x = L.Dense(cfg["units"], name="logits")(x)
            weights["logits"] = layer.get_weights()
    model = keras.Model(inputs, x, name="mobilenet_v1_reference_folded")
    for name, w in weights.items():
        model.get_layer(name).set_weights(w)
    return model


def import_model(cfg, path: Path, eembc: Path, data_kind: str, out: Path) -> dict:
    from frameworks.keras2 import keras

    original = keras.models.load_model(path, compile=False)
    model = rebuild(original)
    model.save(out / MODEL_FILE)
    write_json(out / INPUT_FILE, {"input_shift": INPUT_SHIFT})
    images, labels = testset.read(eembc, cfg.model_id, cfg.input_bytes)
    logits = model.predict(images.astype(np.float32) / (1 << INPUT_SHIFT), batch_size=128, verbose=0)
    probabilities = original.predict(images.astype(np.float32) / 255.0, batch_size=128, verbose=0)
    same = float(np.mean(logits.argmax(1) == probabilities.argmax(1)))
    top1 = float(np.mean(logits.argmax(1) == labels))
    what = ("real test files" if data_kind == "real"
            else "synthetic test files (rendered figures, not COCO people: top-1 is not meaningful)")
    metrics = {
        "metric": "top-1 %",
        "host_value": 100 * top1,
        "host_what": f"MLPerf reference MobileNetV1 (Keras, float, BatchNorm folded) on the host, {len(labels)} {what}",
        "top1_original": 100 * float(np.mean(probabilities.argmax(1) == labels)),
        "agreement_with_original": same,
        "reference_file": str(path),
        "data_kind": data_kind,
        "artifacts": {"model": MODEL_FILE, "input": INPUT_FILE},
    }
    write_json(out / "metrics.json", metrics)
    if same < MIN_AGREEMENT:
        raise GateError(f"the folded rebuild of {path.name} picks the original's class on only {same:.1%} of the test "
                        f"files (< {MIN_AGREEMENT:.1%}): the rebuild is wrong")
    if data_kind == "real" and top1 < cfg.reference.min_top1:
        raise GateError(f"reference top-1 {top1:.1%} < {cfg.reference.min_top1:.1%} on the real test files {eembc}")
    return metrics
