"""What a recipe tells hls4ml about its model, as data (a task.yaml section): the I/O style, the
fixed-point types per layer, and how the C++ emulation must agree with the Keras model.

Types are hls4ml precision strings (`fixed<16,6,RND,SAT>`), set per layer name (shell-style
patterns allowed) on the keys hls4ml's `granularity='name'` config has: weight, bias, accum,
result; a softmax's table types are layer-level keys, not Precision keys (toolchains.md C.x).
"""

from __future__ import annotations

import fnmatch
from typing import Literal

from pydantic import Field, model_validator

from common.config import Strict
from common.errors import ConfigError

PRECISION_KEYS = {"weight", "bias", "accum", "result", "scale"}
LAYER_KEYS = {"exp_table_t", "inv_table_t", "table_size", "ReuseFactor", "Strategy"}


class Hls4mlSettings(Strict):
    io_type: Literal["io_parallel", "io_stream"] = "io_parallel"  # CNNs need io_stream (toolchains.md Part C)
    input: str | None = None  # the input layer's result type, when not given by an input quantizer
    layers: dict[str, dict[str, str | int]] = Field(default_factory=dict)  # name pattern -> {key: type}
    # bit-identical outputs, the same argmax, or (close) every output within `tolerance` of the Keras model's
    agreement: Literal["exact", "argmax", "close"] = "exact"
    tolerance: float | None = Field(None, gt=0)  # close: in the outputs' own units (e.g. dB for an autoencoder)
    min_agreement: float = Field(1.0, gt=0, le=1)
    # the emulated DUT runs the emulator generated from the ModelGraph (emulator.py); false: hls4ml's
    # C simulation (slow: a few inferences/s for a CNN), e.g. to rule the emulator out
    emulator: bool = True
    # the resource-fit gate (estimates against the board's device): refuse stops the convert stage;
    # warn logs it and goes on. warn by default: a design without reuse factors in task.yaml is fully
    # parallel (ReuseFactor 1), which the resource model puts far over the Pynq-Z2
    fit: Literal["refuse", "warn"] = "warn"

    @model_validator(mode="after")
    def _tolerance_with_close(self):
        if (self.agreement == "close") != (self.tolerance is not None):
            raise ValueError("agreement: close needs a tolerance, and only close takes one")
        return self

    @model_validator(mode="after")
    def _keys(self):
        for pattern, keys in self.layers.items():
            unknown = set(keys) - PRECISION_KEYS - LAYER_KEYS
            if unknown:
                raise ValueError(f"layers.{pattern}: unknown key(s) {sorted(unknown)}; "
                                 f"known: {sorted(PRECISION_KEYS | LAYER_KEYS)}")
        return self

    def apply(self, keras_model, hls_config: dict) -> list[str]:
        """Set the types on hls4ml's per-layer config; returns what was set. A pattern that names no
        layer is an error: a typo must not leave a layer on a silently wrong default."""
        layers = hls_config["LayerName"]
        changed = []
        if self.input:
            name = keras_model.layers[0].name
            layers[name]["Precision"]["result"] = self.input
            changed.append(f"{name}: result <- {self.input}")
        for pattern, keys in self.layers.items():
            names = [n for n in layers if fnmatch.fnmatchcase(n, pattern)]
            if not names:
                raise ConfigError(f"hls4ml settings: layer pattern '{pattern}' matches no layer of the model "
                                  f"({', '.join(layers)})")
            for name in names:
                for key, value in keys.items():
                    if key in PRECISION_KEYS:
                        layers[name].setdefault("Precision", {})[key] = value
                    else:
                        layers[name][key] = value
                    changed.append(f"{name}: {key} <- {value}")
        return changed

    def what(self) -> str:
        if self.agreement == "close":
            return f"every output within {self.tolerance:g} of the Keras model's"
        return "bit-identical outputs" if self.agreement == "exact" else "the same argmax"

    def gate_text(self) -> str:
        return f">= {self.min_agreement:.1%} of test inputs with {self.what()}"

    def agreement_of(self, emulated, expected) -> float:
        """The fraction of test inputs (rows) on which the emulation agrees as the settings require."""
        import numpy as np

        if self.agreement == "close":
            assert self.tolerance is not None  # the validator pairs them
            return float(np.mean(np.max(np.abs(emulated - expected), axis=1) <= self.tolerance))
        if self.agreement == "argmax" and expected.shape[1] > 1:
            return float(np.mean(emulated.argmax(axis=1) == expected.argmax(axis=1)))
        return float(np.mean(np.all(emulated == expected, axis=1)))

    def check(self, value: float) -> str | None:
        """None when the agreement (agreement_of) is as required, else what failed."""
        if value >= self.min_agreement:
            return None
        return f"{value:.2%} of test inputs with {self.what()}, below the required {self.min_agreement:.1%}"
