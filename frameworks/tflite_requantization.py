"""How TF Lite's interpreter requantizes the int32 accumulator of an int8 convolution, depthwise
convolution or fully connected layer, and the integer thresholds that reproduce it exactly.

Python's interpreter runs these layers in its default XNNPACK delegate, whose x86 kernels requantize
in float32 ("fp32" requantization): q = rne(fp32(fp32(acc + bias) * scale)) + zero_point, clamped to
the int8 range, with scale = fp32(fp32(input_scale * filter_scale) / output_scale) per output channel
(XNNPACK's operator set-up) and rne rounding half to even (its magic-bias rounding). A QONNX Quant node
rounds the same real value computed in other float steps, so where a product lands within float error
of a rounding boundary the two disagree by one step; FINN's thresholds then inherit the Quant node's
boundary. `thresholds` gives the accumulator values where XNNPACK's q steps up instead.

The layers and their parameters travel with the imported QONNX graph as one metadata property (JSON,
float32 scales written exactly), so FINN's build can put them into its thresholds after streamlining
(toolchains/finn/tflite_thresholds.py) without the TF Lite file. TF Lite's built-in kernels (and
TFLM on a microcontroller) requantize with a fixed-point multiplier instead; that is another
arithmetic and not this module's."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.errors import BuildError

METADATA_KEY = "tflite_requantization"
LAYER_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


@dataclass(frozen=True)
class Layer:
    """One layer's requantization: per output channel, the float32 scale and the int32 bias."""

    op: str
    scale: np.ndarray  # float32, one per output channel
    bias: np.ndarray  # int64, one per output channel
    zero_point: int

    @property
    def channels(self) -> int:
        return len(self.bias)

    def requantize(self, acc: np.ndarray) -> np.ndarray:
        """q (before the int8 clamp) for accumulators acc (without the bias), channel first: (channels, ...)."""
        acc = np.asarray(acc, dtype=np.int64)
        shape = (self.channels,) + (1,) * (acc.ndim - 1)
        total = (acc + self.bias.reshape(shape)).astype(np.float32)  # int32 -> float: rounded to nearest, as in C
        return np.rint(total * self.scale.reshape(shape)).astype(np.int64) + self.zero_point  # float32 product, rne

    def thresholds(self, levels: np.ndarray) -> np.ndarray:
        """(channels, len(levels)): for each channel and level L, the smallest accumulator acc (without the
        bias) whose q is at least L. q is non-decreasing in acc (every step rounds monotonically), so the
        transition is bisected between integers either side of the real-valued boundary: a few steps
        away, or as far as float32's spacing at that magnitude (beyond 2^24 an int32 sum is rounded to a
        float32 before the multiply), which levels no real accumulator reaches can need."""
        levels = np.broadcast_to(np.asarray(levels, dtype=np.int64)[None, :], (self.channels, len(levels)))
        scale = self.scale.astype(np.float64)[:, None]
        guess = np.ceil((levels - self.zero_point - 0.5) / scale - self.bias[:, None]).astype(np.int64)
        magnitude = np.abs(guess + self.bias[:, None]).astype(np.float32)
        reach = 4 + 2 * np.spacing(magnitude).astype(np.int64)
        lo, hi = guess - reach, guess + reach
        if np.any(self.requantize(lo) >= levels) or np.any(self.requantize(hi) < levels):
            raise BuildError(f"{self.op}: a requantization boundary farther from its real value than float32 error allows")
        while np.any(hi - lo > 1):  # invariant: q(lo) < L <= q(hi)
            mid = (lo + hi) // 2
            up = self.requantize(mid) >= levels
            hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
        return hi


def layers(tflite: Path) -> list[Layer]:
    """The convolution and fully connected layers of an int8 TF Lite model, in execution order."""
    from frameworks.keras2 import tf

    interpreter = tf.lite.Interpreter(model_path=str(tflite))
    interpreter.allocate_tensors()
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    found = []
    for op in interpreter._get_ops_details():  # (the interpreter's own op list; no public accessor)
        if op["op_name"] not in LAYER_OPS or len(op["inputs"]) < 3 or op["inputs"][2] < 0:
            continue
        x, w, b = (tensors[i] for i in op["inputs"][:3])
        y = tensors[op["outputs"][0]]
        bias = interpreter.get_tensor(b["index"]).astype(np.int64).ravel()
        s_in, s_out = (np.float32(t["quantization_parameters"]["scales"][0]) for t in (x, y))
        s_w = np.broadcast_to(w["quantization_parameters"]["scales"].astype(np.float32), bias.shape)
        scale = (s_in * s_w / s_out).astype(np.float32)  # float32 throughout, left to right, as XNNPACK's C
        found.append(Layer(op["op_name"], scale, bias, int(y["quantization_parameters"]["zero_points"][0])))
    return found


def to_metadata(found: list[Layer]) -> str:
    return json.dumps([{"op": la.op, "scale": [float(s) for s in la.scale], "bias": [int(b) for b in la.bias],
                        "zero_point": la.zero_point} for la in found])


def from_metadata(text: str) -> list[Layer]:
    return [Layer(d["op"], np.asarray(d["scale"], dtype=np.float32), np.asarray(d["bias"], dtype=np.int64),
                  int(d["zero_point"])) for d in json.loads(text)]
