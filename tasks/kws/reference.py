"""The MLPerf Tiny reference DS-CNN (kws_ref_model*.tflite) rebuilt as a Keras model from its tensors.

The tflite graph has BatchNorm folded and ReLU fused into each convolution (docs/mlperf-tiny.md 1.3,
docs/toolchains.md C.x): Conv 10x4/2 'same' -> 4 x [depthwise 3x3 'same' -> 1x1 conv] -> average pool
-> Dense 12 -> softmax. The "float32" file is a hybrid model whose Conv2D weights are int8 with
per-channel scales; they are dequantized here. TensorFlow's own TFLite interpreter reads the
file; nothing of the flatbuffer format is parsed by hand.

The rebuilt model takes the kws01 integers (q - zero_point) as its input: the input scale is folded
into the first convolution's weights, so the firmware feeds exact integers (no rounding on the way in).
It outputs logits (the softmax is left to the firmware: argmax is what top-1 needs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.errors import ConfigError

FRAMES, COEFFS, CLASSES = 49, 10, 12


@dataclass
class Tensors:
    """The reference's layers, in graph order: (kind, weights, bias), with kind conv|dw|dense."""

    layers: list[tuple[str, np.ndarray, np.ndarray]]
    input_shape: tuple[int, ...]


def _dequantize(t: dict, values: np.ndarray) -> np.ndarray:
    q = t["quantization_parameters"]
    if values.dtype == np.float32 or len(q["scales"]) == 0:
        return values.astype(np.float32)
    shape = [1] * values.ndim
    shape[q["quantized_dimension"]] = -1
    scales, zps = q["scales"].reshape(shape), q["zero_points"].reshape(shape)
    return ((values.astype(np.float32) - zps) * scales).astype(np.float32)


def read_tflite(path: Path) -> Tensors:
    from frameworks.keras2 import tf

    if not Path(path).is_file():
        raise ConfigError(f"reference model {path} not found (make setup downloads it; see tasks/kws/README.md)")
    interpreter = tf.lite.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    details = {t["index"]: t for t in interpreter.get_tensor_details()}
    kinds = {"CONV_2D": "conv", "DEPTHWISE_CONV_2D": "dw", "FULLY_CONNECTED": "dense"}
    layers = []
    for op in interpreter._get_ops_details():  # the interpreter's op list: no public equivalent
        kind = kinds.get(op["op_name"])
        if kind is None:
            continue
        _, w, b = (details[i] for i in op["inputs"][:3])
        layers.append((kind, _dequantize(w, interpreter.get_tensor(w["index"])),
                       _dequantize(b, interpreter.get_tensor(b["index"]))))
    if [k for k, _, _ in layers] != ["conv"] + ["dw", "conv"] * 4 + ["dense"]:
        raise ConfigError(f"{path}: not the MLPerf Tiny DS-CNN (layers {[k for k, _, _ in layers]})")
    shape = tuple(int(d) for d in interpreter.get_input_details()[0]["shape"][1:])
    return Tensors(layers, shape)


def build_keras(tensors: Tensors, input_scale: float):
    """The DS-CNN in Keras, input (q - zp) integers, logits out. Conv and ReLU are separate layers so
    each has its own fixed-point type in hls4ml (a fused activation would share the conv's). The
    reference's 25 x 5 average pool covers the whole 25 x 5 map: it is the global average, and built as
    one, hls4ml streams it through 64 accumulators; as a 25 x 5 pooling window hls4ml holds the whole
    window, 125 x 64 values, in registers (toolchains/hls4ml/resources.py: 129 k FF, 27 k LUT)."""
    from frameworks.keras2 import keras

    L = keras.layers
    inputs = keras.Input(tensors.input_shape, name="mfcc")
    x = inputs
    conv_i = dw_i = 0
    for kind, w, b in tensors.layers:
        if kind == "conv":
            # tflite OHWI -> Keras HWIO; the first conv absorbs the input scale
            k = np.transpose(w, (1, 2, 3, 0)) * (input_scale if conv_i == 0 else 1.0)
            stride = 2 if conv_i == 0 else 1
            layer = L.Conv2D(k.shape[3], k.shape[:2], strides=stride, padding="same", name=f"conv{conv_i}")
            x = layer(x)
            layer.set_weights([k, b])
            x = L.Activation("relu", name=f"relu_conv{conv_i}")(x)
            conv_i += 1
        elif kind == "dw":
            k = np.transpose(w, (1, 2, 3, 0))  # tflite 1HW(C) -> Keras HWC1
            layer = L.DepthwiseConv2D(k.shape[:2], padding="same", name=f"dw{dw_i}")
            x = layer(x)
            layer.set_weights([k, b])
            x = L.Activation("relu", name=f"relu_dw{dw_i}")(x)
            dw_i += 1
        else:
            if tuple(x.shape[1:3]) != (25, 5):  # 49 x 10 after the stride-2 first convolution
                raise ConfigError(f"the DS-CNN's last map is {tuple(x.shape[1:3])}, not the 25 x 5 its average pool covers")
            x = L.GlobalAveragePooling2D(name="pool")(x)
            layer = L.Dense(w.shape[0], name="logits")
            x = layer(x)
            layer.set_weights([w.T, b])
    return keras.Model(inputs, x, name="ds_cnn_reference")


def tflite_logits(path: Path, q: np.ndarray) -> np.ndarray:
    """The reference interpreter's outputs for int8 inputs q (N, 490): for checking the rebuilt model."""
    from frameworks.keras2 import tf

    interpreter = tf.lite.Interpreter(model_path=str(path))
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(inp["index"], [len(q), FRAMES, COEFFS, 1])
    interpreter.allocate_tensors()
    if inp["dtype"] == np.int8:
        x = q.reshape(-1, FRAMES, COEFFS, 1).astype(np.int8)
    else:
        scale, zp = 0.5847029, 83
        x = ((q.astype(np.float32) - zp) * scale).reshape(-1, FRAMES, COEFFS, 1)
    interpreter.set_tensor(inp["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(out["index"])


def calibration_inputs(cfg, samples: np.ndarray) -> np.ndarray:
    """The data stage's calibration clips (float MFCCs) as the rebuilt model takes them: the kws01 int8
    encoding, minus the zero point."""
    from tasks.kws import testset

    q = testset.encode(samples, cfg.input).astype(np.float32)
    return (q - cfg.input.zero_point).reshape(-1, FRAMES, COEFFS, 1)


MIN_TFLITE_AGREEMENT = 0.95  # the rebuilt Keras model vs the reference interpreter (C.x measured 99.5 %)


def import_model(cfg, path: Path, eembc: Path, data_kind: str, out: Path) -> dict:
    """The train stage for model=reference: rebuild, save, and check the rebuild against the
    reference's own interpreter and, on real data, against the published accuracy."""
    from common.errors import GateError
    from common.jsonio import write_json
    from tasks.kws import testset

    q, labels = testset.read(eembc, cfg.model_id, cfg.input_bytes)
    model = build_keras(read_tflite(path), cfg.input.scale)
    model.save(out / "model.h5")
    x = (q.astype(np.float32) - cfg.input.zero_point).reshape(-1, FRAMES, COEFFS, 1)
    keras_pred = model.predict(x, batch_size=256, verbose=0).argmax(axis=1)
    tflite_pred = tflite_logits(path, q).argmax(axis=1)
    top1 = float(np.mean(keras_pred == labels))
    agreement = float(np.mean(keras_pred == tflite_pred))
    metrics = {
        "metric": "top-1 %",
        "host_value": 100 * top1,
        "host_what": f"reference rebuilt in Keras, {len(labels)} {data_kind} test files on the host",
        "top1_reference_interpreter": 100 * float(np.mean(tflite_pred == labels)),
        "agreement_with_reference_interpreter": agreement,
        "reference_file": str(path),
        "data_kind": data_kind,
        "artifacts": {"model": "model.h5"},
    }
    write_json(out / "metrics.json", metrics)
    if agreement < MIN_TFLITE_AGREEMENT:
        raise GateError(f"the Keras rebuild of {path.name} agrees with its TFLite interpreter on only {agreement:.1%} "
                        f"of test files (< {MIN_TFLITE_AGREEMENT:.0%}): the rebuild is wrong")
    if data_kind == "real" and top1 < cfg.reference.min_top1:
        raise GateError(f"reference top-1 {top1:.1%} < {cfg.reference.min_top1:.1%} on the real test files {eembc}")
    return metrics
