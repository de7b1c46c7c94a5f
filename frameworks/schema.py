"""Schema pieces every task.yaml shares and the frameworks read (pure pydantic, no TensorFlow): quantizer widths, training
settings and the quality gate after training."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from common.config import Strict

# A task.yaml section a toolchain reads (hls4ml:, finn:): kept as data by the task and validated
# against the toolchain's own schema when a flow takes it (ToolchainBase.check), so the tasks need
# not know any toolchain.
ToolchainSettings = dict[str, Any]


class RemoteFile(Strict):
    """A file of the MLPerf Tiny repository: searched in ../shared/models/reference and the cache, else downloaded."""

    file: str
    sha256: str | None
    url: str


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


class Accumulator(Strict):
    """Brevitas accumulator-aware weight quantizers: none, A2Q or A2Q+ (docs/toolchains.md A.5), which
    bound every dot product to `bits` so the hardware accumulator cannot overflow."""

    quantizer: Literal["none", "a2q", "a2q+"] = "none"
    bits: int = Field(16, ge=4, le=32)


class Pruning(Strict):
    """Quantization-aware magnitude pruning: per layer, the smallest weights are zeroed, the sparsity
    ramping from 0 to `sparsity` between the fractions `start` and `end` of the epochs (cubic, as
    Zhu & Gupta's gradual pruning), then held."""

    sparsity: float = Field(0.0, ge=0, lt=1)
    start: float = Field(0.2, ge=0, lt=1)
    end: float = Field(0.8, gt=0, le=1)

    @model_validator(mode="after")
    def _order(self):
        if self.end <= self.start:
            raise ValueError(f"pruning.end ({self.end}) must come after pruning.start ({self.start})")
        return self


class BrevitasQuant(Strict):
    """Bit widths of a Brevitas model for FINN: 1-bit weights and activations are binary (+-1),
    wider ones integers with learned scales; activations are unsigned (ReLU) unless binary."""

    weight_bits: int = Field(ge=1, le=8)
    act_bits: int = Field(ge=1, le=8)
    accumulator: Accumulator = Accumulator()
    pruning: Pruning = Pruning()

    @model_validator(mode="after")
    def _a2q_needs_integers(self):
        if self.accumulator.quantizer != "none" and self.weight_bits == 1:
            raise ValueError("accumulator-aware quantizers (A2Q/A2Q+) need weight_bits >= 2, not binary weights")
        return self
