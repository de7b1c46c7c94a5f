"""A Keras / QKeras model trained elsewhere (an .h5 file), loaded with stock QKeras 0.9.0 for hls4ml.

Stock QKeras does not load `QDenseBatchnorm`: a layer of the QKeras fork the hls4ml-FINN MLPerf Tiny
submission trained its AD08 autoencoder with (`julesmuhizi/qkeras`, branch `qdense_batchnorm`, merged
upstream as google/qkeras#74, `qkeras/qdense_batchnorm.py`). Like its sibling QConv2DBatchnorm (in
stock QKeras; RN07's layers), it keeps a kernel, a bias and a BatchNormalization, and at inference
(the ema_stats_folding branch with frozen statistics) computes

    inv = rsqrt(moving_variance + epsilon) * gamma
    y = x (*) q_kernel(inv * kernel) + q_bias(inv * (bias - moving_mean) + beta)

which is exactly its plain layer (QDense, QConv2D) with the same quantizers and the folded float
weights: the plain layer applies q_kernel and q_bias to its weights in its own call. So each such layer
is rebuilt as its plain layer, folded in float32 with TensorFlow's rsqrt as the layer itself does;
hls4ml converts the plain layer, and the harness's emulator and estimates cover it. Every other layer
is loaded as it was saved.

A classifier's trailing softmax is dropped: the harness needs only the argmax of the logits, and
hls4ml's softmax tables lose it (toolchains.md C.y: a uniform output after an 'auto' Dense result),
as the published RN07 conversion dropped it too (its convert.py RemoveSoftmax)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from common.errors import ConfigError

FOLDED = {"QDenseBatchnorm": "QDense", "QConv2DBatchnorm": "QConv2D"}  # layer with batch norm -> its plain layer
BASE_KEYS = ("name", "trainable", "dtype")  # Keras Layer keys every config has


def _plain_config(class_name: str, config: dict) -> dict:
    """The keys of a folded layer's config that its plain layer takes (the rest configure its batch norm)."""
    import inspect

    from frameworks import keras2  # noqa: F401  (Keras 2 set up before QKeras loads Keras)

    # isort: split
    from qkeras import QConv2D, QDense

    plain = {"QDense": QDense, "QConv2D": QConv2D}[FOLDED[class_name]]
    keys = set(inspect.signature(plain.__init__).parameters) | set(BASE_KEYS)
    return {k: v for k, v in config.items() if k in keys}


@dataclass
class Imported:
    """A loaded model and what loading changed (for reports)."""

    model: object
    folded: list[str] = field(default_factory=list)  # layers with a batch norm folded into their plain layer
    softmax_dropped: str | None = None  # the name of the trailing softmax layer dropped


def fingerprint(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _layers(config: dict) -> list[dict]:
    """The layer configs of a saved Sequential or functional model."""
    inner = config.get("config", {})
    return inner["layers"] if isinstance(inner, dict) and "layers" in inner else inner


def _saved_weights(h5, name: str) -> dict[str, np.ndarray]:
    """A layer's saved weights by their short name (kernel, bias, gamma, moving_mean, ...)."""
    group = h5["model_weights"][name]
    names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
    return {n.rsplit("/", 1)[-1].split(":")[0]: np.asarray(group[n]) for n in names}


def fold(weights: dict[str, np.ndarray], epsilon: float, center: bool, scale: bool) -> tuple[np.ndarray, np.ndarray]:
    """The float kernel and bias of the plain layer equal to a QDenseBatchnorm / QConv2DBatchnorm with these
    weights, computed as those layers do at inference (float32, TensorFlow's rsqrt; the kernel's last
    axis is the output channel's)."""
    from frameworks.keras2 import tf

    kernel = tf.constant(weights["kernel"], tf.float32)
    bias = tf.constant(weights.get("bias", np.zeros(kernel.shape[-1], np.float32)), tf.float32)
    inv = tf.math.rsqrt(tf.constant(weights["moving_variance"], tf.float32) + tf.constant(epsilon, tf.float32))
    if scale:
        inv = inv * tf.constant(weights["gamma"], tf.float32)
    folded_bias = inv * (bias - tf.constant(weights["moving_mean"], tf.float32))
    if center:
        folded_bias = folded_bias + tf.constant(weights["beta"], tf.float32)
    return (inv * kernel).numpy(), folded_bias.numpy()


def load(path: Path) -> Imported:
    """The model of an .h5 file as a Keras 2 model of stock QKeras layers (each QDenseBatchnorm and
    QConv2DBatchnorm folded into its plain layer, a trailing softmax dropped); a ConfigError with one line
    for a file that is not such a model."""
    model, folded = _load(path)
    model, dropped = without_softmax(model)
    return Imported(model, folded, dropped)


def without_softmax(model):
    """(the model without its last layer when that is a softmax activation, that layer's name or None)."""
    from frameworks.keras2 import keras

    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    name = getattr(activation, "__name__", "") or type(activation).__name__
    if type(last).__name__ not in ("Activation", "QActivation", "Softmax") or (type(last).__name__ != "Softmax"
                                                                             and "softmax" not in str(name).lower()):
        return model, None
    return keras.Model(inputs=model.inputs, outputs=last.input, name=model.name), last.name


def _load(path: Path):
    import h5py

    from frameworks.keras2 import keras

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"model={path}: no such file")
    try:
        h5 = h5py.File(path, "r")
    except OSError as e:
        raise ConfigError(f"model={path}: not an HDF5 (.h5) Keras model ({e})") from e
    with h5:
        if "model_config" not in h5.attrs:
            raise ConfigError(f"model={path}: an HDF5 file without a Keras model_config (weights only?)")
        config = json.loads(h5.attrs["model_config"])
        folded = {c["config"]["name"]: c["config"] for c in _layers(config) if c["class_name"] in FOLDED}
        for c in _layers(config):
            if c["class_name"] in FOLDED:
                # the folded layer always adds its folded bias, with or without a bias of its own
                c["config"] = {**_plain_config(c["class_name"], c["config"]), "use_bias": True}
                c["class_name"] = FOLDED[c["class_name"]]
        weights = {name: _saved_weights(h5, name) for name in h5["model_weights"].attrs["layer_names"].astype(str)}
    from qkeras.utils import _add_supported_quantized_objects

    objects: dict = {}
    _add_supported_quantized_objects(objects)
    try:
        model = keras.models.model_from_json(json.dumps(config), custom_objects=objects)
    except (ValueError, TypeError, KeyError) as e:
        raise ConfigError(f"model={path}: stock QKeras 0.9.0 cannot build it ({type(e).__name__}: "
                          f"{str(e).splitlines()[0][:200]})") from e
    for layer in model.layers:
        saved = weights.get(layer.name, {})
        if layer.name in folded:
            bn = folded[layer.name]
            kernel, bias = fold(saved, bn.get("epsilon", 1e-3), bn.get("center", True), bn.get("scale", True))
            layer.set_weights([kernel, bias])
        elif layer.weights:
            short = [w.name.rsplit("/", 1)[-1].split(":")[0] for w in layer.weights]
            missing = [s for s in short if s not in saved]
            if missing:
                raise ConfigError(f"model={path}: layer {layer.name} has no saved {', '.join(missing)}")
            layer.set_weights([saved[s] for s in short])
    return model, sorted(folded)

