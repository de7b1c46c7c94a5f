"""QKeras DS-CNN for kws01 (docs/mlperf-tiny.md 1.3's topology, width from task.yaml), written for bit-exact hls4ml
conversion with io_stream (docs/toolchains.md Part C): an input quantizer holding the integers
int8 - zero_point exactly, alpha=1 quantizers, no BatchNorm, quantized_relu, logits out."""

from __future__ import annotations

from frameworks.keras2 import keras
from frameworks.schema import Quant
from tasks.kws.config import ModelConfig


def build(cfg: ModelConfig, input_shape: tuple[int, int, int], classes: int) -> keras.Model:
    from qkeras import QActivation, QConv2D, QDense, QDepthwiseConv2D, quantized_bits, quantized_relu

    def q(quant: Quant):
        return quantized_bits(quant.bits, quant.integer, alpha=1)

    def relu(name: str):
        return QActivation(quantized_relu(cfg.relu_bits, cfg.relu_integer), name=name)

    inputs = keras.Input(input_shape, name="mfcc")
    x = QActivation(q(cfg.input_quant), name="input_quant")(inputs)
    x = QConv2D(cfg.filters, cfg.first_kernel, strides=2, padding="same", kernel_quantizer=q(cfg.first_weight_quant),
                bias_quantizer=q(cfg.bias_quant), name="conv0")(x)
    x = relu("relu0")(x)
    for i in range(cfg.blocks):
        x = QDepthwiseConv2D(3, padding="same", depthwise_quantizer=q(cfg.weight_quant), bias_quantizer=q(cfg.bias_quant),
                             name=f"dw{i}")(x)
        x = relu(f"relu_dw{i}")(x)
        x = QConv2D(cfg.filters, 1, kernel_quantizer=q(cfg.weight_quant), bias_quantizer=q(cfg.bias_quant), name=f"pw{i}")(x)
        x = relu(f"relu_pw{i}")(x)
    if cfg.head == "average":
        x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    else:
        x = keras.layers.Flatten(name="flatten")(x)
    outputs = QDense(classes, kernel_quantizer=q(cfg.weight_quant), bias_quantizer=q(cfg.bias_quant), name="logits")(x)
    return keras.Model(inputs, outputs, name="ds_cnn_qkeras")

