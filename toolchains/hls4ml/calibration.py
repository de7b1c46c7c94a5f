"""The calibration pass (settings.py CalibrateSettings; docs/toolchains.md C.c): post-training result types
from activation ranges. Each hls4ml layer a pattern names gets fixed<W, I, RND, SAT> (ufixed<W, I, RND, SAT>
where its output is never negative on the calibration inputs): the width W kept, I the integer bits of the
largest magnitude the layer's Keras output reaches on those inputs, plus margin_bits. Saturating, so a test
input beyond the calibrated range clips instead of wrapping; rounding, so the fraction bits lose half an LSB
at most. Weights, biases and accumulators keep the types task.yaml gives them (sized from the weights).

hls4ml's own profiling (hls4ml.model.profiling: get_ymodel_keras, activations_keras) was evaluated: it needs
seaborn and matplotlib at import (not installed here), keeps every layer's full output in memory at once and
drops the sign (activations_keras takes |y|); the pass measures the same Keras outputs itself, in batches.

An hls4ml layer's result is a Keras output where the names match: the Keras layer of that name, or, for the
`<name>_linear` layer hls4ml adds after a layer with a linear activation, that layer's output. A layer that
feeds a BatchNormalization is refused: hls4ml folds the BatchNorm into it only while its result type is
`auto`, and its Keras output is not what hls4ml's folded layer computes."""

from __future__ import annotations

import fnmatch
import math

import numpy as np

from common.errors import ConfigError
from toolchains.hls4ml.settings import CalibrateSettings, Hls4mlSettings

LINEAR = "_linear"


def integer_bits(largest: float, signed: bool, margin_bits: int) -> int:
    """The integer bits (sign included) of an ap_fixed that holds every value up to `largest` in magnitude:
    floor(log2(largest)) + 1 bits of magnitude (40 -> 6: up to 63.98), one more for a sign, plus the margin.
    Below 1 the bits may be zero or negative (0.3 -> -1: ufixed<W,-1> holds up to 0.5); nothing reached: 0."""
    magnitude = math.floor(math.log2(largest)) + 1 if largest > 0 else 0
    return magnitude + int(signed) + margin_bits


def result_type(lowest: float, highest: float, width: int, margin_bits: int) -> str:
    """The hls4ml precision string for a layer whose outputs spanned [lowest, highest]."""
    signed = lowest < 0
    bits = integer_bits(max(abs(lowest), abs(highest)), signed, margin_bits)
    if bits > width:
        raise ConfigError(f"outputs reach {max(abs(lowest), abs(highest)):.4g}: {bits} integer bits, more than the "
                          f"type's width {width}")
    return f"{'' if signed else 'u'}fixed<{width},{bits},RND,SAT>"


def _feeds_batchnorm(keras_model) -> set[str]:
    from frameworks.keras2 import keras

    fed = set()
    for layer in keras_model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            inbound = layer.inbound_nodes[0].inbound_layers
            fed |= {x.name for x in (inbound if isinstance(inbound, list) else [inbound])}
    return fed


def keras_source(keras_model, name: str):
    """The Keras layer whose output is hls4ml layer `name`'s result; a ConfigError where there is none."""
    from frameworks.keras2 import keras

    layers = {layer.name: layer for layer in keras_model.layers}
    layer = layers.get(name)
    if layer is None and name.endswith(LINEAR):
        base = layers.get(name[:-len(LINEAR)])
        if base is not None and getattr(getattr(base, "activation", None), "__name__", None) == "linear":
            layer = base
    if layer is None:
        raise ConfigError(f"calibrate: hls4ml layer '{name}' is no Keras layer's output (the pass measures Keras outputs)")
    activation = getattr(layer, "activation", None)
    if activation is not None and not isinstance(layer, keras.layers.Activation) and activation.__name__ != "linear":
        raise ConfigError(f"calibrate: '{name}' has a fused {activation.__name__}: hls4ml's '{name}' is its input, which "
                          f"the Keras model does not output; name the activation hls4ml splits off ('{name}_"
                          f"{activation.__name__}') or make the activation a layer of its own")
    if layer.name in _feeds_batchnorm(keras_model):
        raise ConfigError(f"calibrate: '{name}' feeds a BatchNormalization, which hls4ml folds into it only while its "
                          f"result is auto: calibrate the layer after the BatchNorm instead")
    return layer


def ranges(keras_model, sources: dict[str, object], x: np.ndarray, batch: int = 128) -> dict[str, tuple[float, float]]:
    """{hls4ml name: (lowest, highest)} of each source layer's Keras output over the inputs x."""
    from frameworks.keras2 import keras

    names = list(sources)
    tensors = [sources[n].output for n in names]
    probe = keras.Model(keras_model.inputs, tensors)
    low = np.full(len(names), np.inf)
    high = np.full(len(names), -np.inf)
    for i in range(0, len(x), batch):
        outputs = probe(x[i:i + batch], training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for k, y in enumerate(outputs):
            y = np.asarray(y)
            low[k], high[k] = min(low[k], float(y.min())), max(high[k], float(y.max()))
    return {n: (float(low[k]), float(high[k])) for k, n in enumerate(names)}


def apply(keras_model, hls_config: dict, settings: Hls4mlSettings, x: np.ndarray, what: dict) -> dict:
    """Choose the calibrated result types, set them in hls_config, and return the record the convert report
    keeps: where the inputs came from (`what`, the train stage's record), the rule, and per layer the range
    seen and the type chosen."""
    cal = settings.calibrate
    assert isinstance(cal, CalibrateSettings)  # only called with a calibrate section
    layers = hls_config["LayerName"]
    chosen: dict[str, int] = {}  # hls4ml name -> width, in the model's layer order
    for pattern in cal.layers:
        names = [n for n in layers if fnmatch.fnmatchcase(n, pattern)]
        if not names:
            raise ConfigError(f"hls4ml calibrate: layer pattern '{pattern}' matches no layer of the model ({', '.join(layers)})")
        for name in names:
            chosen[name] = cal.width_of(pattern)
    clash = sorted(set(chosen) & settings.results_set(layers, keras_model.layers[0].name))
    if clash:
        raise ConfigError(f"hls4ml: the result type of {', '.join(clash)} is set in `layers` (or `input`) and by `calibrate`: "
                          f"keep one")
    seen = ranges(keras_model, {n: keras_source(keras_model, n) for n in chosen}, x)
    per_layer = {}
    for name, width in chosen.items():
        lowest, highest = seen[name]
        try:
            t = result_type(lowest, highest, width, cal.margin_bits)
        except ConfigError as e:
            raise ConfigError(f"hls4ml calibrate: {name}: {e}") from None
        layers[name].setdefault("Precision", {})["result"] = t
        per_layer[name] = {"min": lowest, "max": highest, "result": t}
    return {**what, "inputs": int(len(x)), "margin_bits": cal.margin_bits,
            "rule": "result fixed<W,I,RND,SAT> (ufixed where never negative), I = floor(log2(max |y|)) + 1 + sign + "
                    "margin_bits over the calibration inputs; weights, biases and accumulators as task.yaml sets them",
            "layers": per_layer}
