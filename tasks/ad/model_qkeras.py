"""QKeras dense autoencoder for ad01, in the spirit of AD08 (docs/fpga-reference.md 2.1).

Written for bit-exact hls4ml conversion (docs/toolchains.md Part C): an input quantizer so the firmware
can put the float window on the same grid, alpha=1 quantizers (no hidden scales), no BatchNorm
(unfolded BN is not exact in hls4ml 1.3), quantized_relu (not keras ReLU), a linear output layer.
"""

from __future__ import annotations

from frameworks.keras2 import keras
from frameworks.schema import Quant
from tasks.ad.config import ModelConfig


def input_quantizer(cfg: ModelConfig):
    from qkeras import quantized_bits

    return quantized_bits(cfg.input_quant.bits, cfg.input_quant.integer, alpha=1)


def build(cfg: ModelConfig) -> keras.Model:
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu

    def qbits(q: Quant):
        return quantized_bits(q.bits, q.integer, alpha=1)

    inputs = keras.Input((cfg.inputs,), name="window")
    x = QActivation(input_quantizer(cfg), name="input_quant")(inputs)
    for i, width in enumerate(cfg.hidden):
        x = QDense(width, kernel_quantizer=qbits(cfg.weight_quant), bias_quantizer=qbits(cfg.bias_quant), name=f"dense{i}")(x)
        x = QActivation(quantized_relu(cfg.relu_bits, cfg.relu_integer), name=f"relu{i}")(x)
    outputs = QDense(
        cfg.inputs,
        kernel_quantizer=qbits(cfg.weight_quant),
        bias_quantizer=qbits(cfg.output_bias_quant),
        name="reconstruction",
    )(x)
    return keras.Model(inputs, outputs, name="ad_autoencoder")

