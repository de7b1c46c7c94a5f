"""How a float32 log-mel window becomes the accelerator's integer input (and back).

The firmware (tasks/ad/firmware/ad_model.c) does exactly this in C; training, hls4ml checks and
score references use this module, so all of them see the same integers:

    raw = clip(rint(x * 2^(frac + scale_log2)) - offset * 2^(frac + scale_log2), int<width>)
    model input = raw / 2^frac   (= (x - offset) * 2^scale_log2 on the fixed-point grid)

Offset and the power-of-two scale normalise the dB features without any inexact float step:
the offset is an integer on the grid and the scale only moves the binary point.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel


class InputMap(BaseModel):
    offset: int  # dB, subtracted on the integer grid
    scale_log2: int  # model input = (x - offset) * 2^scale_log2
    width: int  # input word width (bits, signed)
    frac: int  # fractional bits of the model input type

    @classmethod
    def fit(cls, train: np.ndarray, width: int, integer: int) -> "InputMap":
        """Centre on the training mean and scale so the training range fits the input type."""
        offset = int(np.round(float(train.mean())))
        spread = float(np.abs(train - offset).max())
        scale_log2 = -math.ceil(math.log2(spread / 2**integer)) if spread > 0 else 0
        return cls(offset=offset, scale_log2=scale_log2, width=width, frac=width - integer - 1)

    @property
    def shift(self) -> int:
        return self.frac + self.scale_log2

    def to_raw(self, x: np.ndarray) -> np.ndarray:
        raw = np.rint(np.ldexp(np.asarray(x, np.float64), self.shift)) - self.offset * 2.0**self.shift
        return np.clip(raw, -(2 ** (self.width - 1)), 2 ** (self.width - 1) - 1).astype(np.int64)

    def to_model(self, x: np.ndarray) -> np.ndarray:
        return (self.to_raw(x) / 2.0**self.frac).astype(np.float32)

    def to_features(self, y: np.ndarray) -> np.ndarray:
        """Model output (normalised) back to dB features."""
        return np.ldexp(np.asarray(y, np.float64), -self.scale_log2) + self.offset


def scores(windows: np.ndarray, reconstruction: np.ndarray, input_map: InputMap) -> np.ndarray:
    """Per-window anomaly score: MSE between float input and de-normalised reconstruction (the firmware's)."""
    diff = input_map.to_features(reconstruction) - np.asarray(windows, np.float64)
    return np.mean(diff * diff, axis=-1)
