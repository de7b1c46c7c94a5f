"""Keras 2 for QKeras and hls4ml, set up in one place.

QKeras 0.9.0 needs Keras 2 (tf-keras), which TensorFlow >= 2.16 only gives with TF_USE_LEGACY_KERAS=1,
and hls4ml 1.3 picks its Keras-3 front end whenever `import keras` resolves to Keras 3
(docs/toolchains.md, Part C). Import everything Keras-related through this module.
"""

import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tf_keras  # noqa: E402

sys.modules["keras"] = tf_keras

import tensorflow as tf  # noqa: E402

keras = tf_keras
__all__ = ["keras", "tf", "load_qkeras_model"]


def load_qkeras_model(path):
    """A saved Keras model that may hold QKeras layers and quantizers."""
    from qkeras.utils import _add_supported_quantized_objects

    objects: dict = {}
    _add_supported_quantized_objects(objects)
    return keras.models.load_model(path, custom_objects=objects, compile=False)
