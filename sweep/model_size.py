"""A QKeras model's size as its quantized weights take it: for the designs whose toolchain has no
resource estimate without the vendor tools (hls4ml), the cost axis a sweep can still compare.
Modeled: nonzero weights after quantization x their quantizer's bits (HLS drops the multipliers of
zero weights; BatchNormalization folded into the layers before it is not counted)."""

from __future__ import annotations

import numpy as np


def weight_kbit(keras_model) -> float:
    """Nonzero quantized weights and biases x their bits, in kbit; float weights (no quantizer) are not counted."""
    bits = 0
    for layer in keras_model.layers:
        quantizers = layer.get_quantizers() if hasattr(layer, "get_quantizers") else []
        for weights, quantizer in zip(layer.get_weights(), quantizers):  # QKeras lists them in the weights' order
            if quantizer is None or not hasattr(quantizer, "bits"):
                continue
            quantized = np.asarray(quantizer(weights.astype(np.float32)))
            bits += int(np.count_nonzero(quantized)) * int(quantizer.bits)
    return bits / 1000.0
