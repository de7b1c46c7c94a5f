"""What a recipe tells hls4ml about its model, as data (a task.yaml section): the I/O style, the
fixed-point types per layer, and how the C++ emulation must agree with the Keras model.

Types are hls4ml precision strings (`fixed<16,6,RND,SAT>`), set per layer name (shell-style
patterns allowed) on the keys hls4ml's `granularity='name'` config has: weight, bias, accum,
result; a softmax's table types are layer-level keys, not Precision keys (toolchains.md C.x).

A float model (an MLPerf reference) may have some result types chosen by the calibration pass instead
(`calibrate`, toolchains/hls4ml/calibration.py): from the largest magnitude each named layer's Keras output
reaches on the train stage's calibration inputs.

A model trained elsewhere may bring its own hls4ml configuration (`config`: hls4ml's HLSConfig,
`Model:` and `LayerName:` as `config_from_keras_model` writes them and as published conversions kept
them, e.g. the hls4ml-FINN submission's `hls4ml_config.yml`): it is merged over the model's own config
before the `layers` patterns apply (`merge_config`).
"""

from __future__ import annotations

import fnmatch
from typing import Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from common.config import Strict
from common.errors import ConfigError

PRECISION_KEYS = {"weight", "bias", "accum", "result", "scale"}
LAYER_KEYS = {"exp_table_t", "inv_table_t", "table_size", "ReuseFactor", "Strategy"}
# what a given hls4ml config may set that hls4ml 1.3 reads (graph.py _parse_hls_config, parse_name_config);
# other keys (a fork's FIFO_opt, EEMBC_power, MergedRelu; Trace, which only adds tracing code) are left
# out and listed in the convert report
MODEL_CONFIG_KEYS = {"Precision", "ReuseFactor", "Strategy", "BramFactor", "ConvImplementation"}
LAYER_CONFIG_KEYS = {"Precision", "ReuseFactor", "Strategy", "ConvImplementation", "accum_t", "table_size",
                     "exp_table_t", "inv_table_t"}


class CalibrateSettings(Strict):
    """The calibration pass: each layer a pattern names gets the result type fixed<width, I, RND, SAT>
    (ufixed where its output is never negative on the calibration inputs), I the integer bits of the
    largest magnitude it reaches plus margin_bits. Weights, biases and accumulators keep their types."""

    # name pattern -> the type's total width (None: `width`); a list of patterns: all at `width`
    layers: dict[str, int | None] = Field(min_length=1)
    width: int = Field(16, ge=2, le=64)
    margin_bits: int = Field(1, ge=0, le=16)  # integer bits above the largest magnitude seen (headroom)

    @field_validator("layers", mode="before")
    @classmethod
    def _list_of_patterns(cls, value):
        return dict.fromkeys(value) if isinstance(value, list) else value

    @field_validator("layers")
    @classmethod
    def _widths(cls, value):
        bad = {k: w for k, w in value.items() if w is not None and not 2 <= w <= 64}
        if bad:
            raise ValueError(f"layer widths must be 2..64 bits: {bad}")
        return value

    def width_of(self, pattern: str) -> int:
        return self.layers[pattern] or self.width


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
    # hls4ml's own HLSConfig for the model (Model: / LayerName:), merged over config_from_keras_model's
    config: dict = Field(default_factory=dict)
    # the calibration pass over some layers' result types (needs the train stage's calibration inputs)
    calibrate: CalibrateSettings | None = None
    # io_stream FIFO depths: tensor (hls4ml's, every FIFO as deep as its tensor's pixels) or modeled (each chain
    # stream's largest occupancy on the modeled timeline, fifo_depths.py; forks and joins keep hls4ml's), or
    # modeled_branches (a fork/join's streams too, but for the branch that runs ahead, which keeps hls4ml's)
    fifo_depth: Literal["tensor", "modeled", "modeled_branches"] = "tensor"
    # reuse factors: as `layers` and `config` give them (else 1: fully parallel), or fit (toolchains/hls4ml/reuse.py):
    # every other Dense/convolution on Strategy Resource at the largest valid factor within one cycle target, the
    # smallest at which the modeled design takes at most reuse_budget of the board's LUT, FF, BRAM18 and DSP
    reuse: Literal["layers", "fit"] = "layers"
    reuse_budget: float = Field(1.0, gt=0, le=1)

    @model_validator(mode="after")
    def _tolerance_with_close(self):
        if (self.agreement == "close") != (self.tolerance is not None):
            raise ValueError("agreement: close needs a tolerance, and only close takes one")
        return self

    @model_validator(mode="after")
    def _fifo_depth_in_a_stream(self):
        if self.fifo_depth != "tensor" and self.io_type != "io_stream":
            raise ValueError(f"fifo_depth: {self.fifo_depth} is for io_stream (io_parallel has no FIFOs between layers)")
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
        changed = merge_config(hls_config, self.config) if self.config else []
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
        return changed + _clamp_reuse(keras_model, layers)

    def results_set(self, names, input_name: str) -> set[str]:
        """Which of the layer names get a result type from `input` or `layers` (the calibration pass must not
        choose one for them too)."""
        named = {n for n in names for pattern, keys in self.layers.items()
                 if "result" in keys and fnmatch.fnmatchcase(n, pattern)}
        return named | ({input_name} if self.input else set())

    def given(self, key: str, names) -> set[str]:
        """Which of the layer names `layers` or `config` (LayerName) give this key (e.g. ReuseFactor): reuse: fit
        leaves those as given."""
        named = {n for n in names for pattern, keys in self.layers.items() if key in keys and fnmatch.fnmatchcase(n, pattern)}
        config = self.config.get("LayerName", {}) or {}
        return named | {n for n in names if isinstance(config.get(n), dict) and key in config[n]}

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


def _clamp_reuse(keras_model, layers: dict) -> list[str]:
    """A reuse factor above a Dense or convolution's weight count becomes that count: what hls4ml 1.3's own
    validation picks for it (the largest valid factor), except after its pass that turns a 1x1 Conv2D
    into a PointwiseConv2D, which keeps the factor unchecked and names a kernel that does not exist
    (`nnet::DenseResource_rf_gt_nin`; seen with RN07's ReuseFactor 16384 on a 3 x 32 1x1 convolution)."""
    changed = []
    for layer in keras_model.layers:
        kernel = getattr(layer, "kernel", None)
        cfg = layers.get(layer.name, {})
        rf = cfg.get("ReuseFactor")
        if kernel is None or "depthwise" in type(layer).__name__.lower() or not isinstance(rf, int):
            continue
        n = int(np.prod(kernel.shape))
        if rf > n:
            cfg["ReuseFactor"] = n
            changed.append(f"{layer.name}: ReuseFactor {rf} -> {n} (its weight count)")
    return changed


def _precision_dict(value, keys) -> dict:
    """A layer's Precision as a dict: a string (older hls4ml: one type for all of the layer's variables)
    sets every variable hls4ml 1.3's config names for it, and the layer's default."""
    if isinstance(value, dict):
        return dict(value)
    return {**{k: value for k in keys}, "default": value}


def merge_config(hls_config: dict, given: dict) -> list[str]:
    """Merge a given hls4ml config (Model / LayerName) over config_from_keras_model's; returns what
    changed and what was left out. hls4ml before 0.8 had no 'auto' types: every type a config did not
    give was its Model Precision, so with a string Model Precision the types left 'auto' after the
    merge take it (without this hls4ml 1.3 infers wide types the published design never had)."""
    changed, skipped = [], [k for k in given if k not in ("Model", "LayerName")]  # e.g. a fork's SkipOptimizers
    model = given.get("Model", {}) or {}
    for key, value in model.items():
        if key in MODEL_CONFIG_KEYS:
            hls_config.setdefault("Model", {})[key] = value
            changed.append(f"Model: {key} <- {value}")
        else:
            skipped.append(f"Model.{key}")
    layers = hls_config["LayerName"]
    for name, cfg in (given.get("LayerName", {}) or {}).items():
        if not isinstance(cfg, dict):
            raise ConfigError(f"hls4ml config: LayerName.{name} is {cfg!r}, not a mapping")
        ours = layers.setdefault(name, {})  # a name the converter creates (e.g. <layer>_linear) is kept too
        for key, value in cfg.items():
            if key == "Precision":
                have = ours.get("Precision", {})
                keys = have.keys() if isinstance(have, dict) else ()
                ours["Precision"] = {**(have if isinstance(have, dict) else {}), **_precision_dict(value, keys)}
            elif key == "accum_t":  # older hls4ml's layer-level accumulator type
                ours.setdefault("Precision", {})["accum"] = value
            elif key in LAYER_CONFIG_KEYS:
                ours[key] = value
            else:
                skipped.append(f"LayerName.{name}.{key}")
                continue
            changed.append(f"{name}: {key} <- {value}")
    default = model.get("Precision")
    if isinstance(default, str):
        for name, cfg in layers.items():
            precision = cfg.get("Precision")
            if isinstance(precision, dict):
                for key, value in precision.items():
                    if value == "auto":
                        precision[key] = default
                        changed.append(f"{name}: {key} auto <- {default} (the given Model Precision)")
    if skipped:
        changed.append(f"left out (not read by hls4ml 1.3): {', '.join(sorted(set(skipped)))}")
    return changed
