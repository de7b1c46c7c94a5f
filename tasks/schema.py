"""Schema pieces every task.yaml shares (pure pydantic, no TensorFlow): quantizer widths, training
settings and the quality gate after training."""

from __future__ import annotations

from pydantic import Field, model_validator

from common.config import Strict


class Quant(Strict):
    """QKeras quantized_bits(bits, integer): `integer` bits left of the point, excluding the sign
    (not negative: qkeras 0.9.0 fails on negative integer bits)."""

    bits: int = Field(ge=2, le=32)
    integer: int = Field(ge=0)

    @model_validator(mode="after")
    def _fits(self):
        if self.integer > self.bits - 1:
            raise ValueError(f"integer={self.integer} leaves no room in {self.bits} bits (sign bit included)")
        return self

    @property
    def frac(self) -> int:
        return self.bits - self.integer - 1


class TrainConfig(Strict):
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    learning_rate: float = Field(gt=0)
    seed: int = 0


class Gate(Strict):
    """Minimum of the task's metric (AUC, or top-1 as a fraction) for the trained model on the test
    files, per kind of data. Both are required: a missing threshold is an error, never a disabled gate."""

    synthetic: float = Field(gt=0, le=1)
    real: float = Field(gt=0, le=1)
