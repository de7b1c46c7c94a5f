"""QKeras ResNet-8 for ic01 (docs/mlperf-tiny.md 1.5's topology: a 3x3 conv, then per entry of `filters` a stack
of two 3x3 convs with a residual add, the later stacks striding by 2 with a 1x1 strided shortcut),
written for bit-exact hls4ml io_stream conversion (docs/toolchains.md Part C): alpha=1 quantizers, no
BatchNorm, quantized_relu, logits out. skip=False drops the adds, as the published RN07/RN08 do."""

from __future__ import annotations

from frameworks.keras2 import keras
from frameworks.schema import Quant
from tasks.ic.config import ModelConfig


def build(cfg: ModelConfig, classes: int) -> keras.Model:
    from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu

    def q(quant: Quant):
        return quantized_bits(quant.bits, quant.integer, alpha=1)

    def conv(filters: int, kernel: int, strides: int, name: str):
        return QConv2D(filters, kernel, strides=strides, padding="same", kernel_quantizer=q(cfg.weight_quant),
                       bias_quantizer=q(cfg.bias_quant), name=name)

    def relu(name: str):
        return QActivation(quantized_relu(cfg.relu_bits, cfg.relu_integer), name=name)

    inputs = keras.Input((32, 32, 3), name="image")
    x = relu("relu0")(conv(cfg.filters[0], 3, 1, "conv0")(inputs))
    for s, filters in enumerate(cfg.filters, start=1):
        stride = 1 if s == 1 else 2
        y = relu(f"relu{s}a")(conv(filters, 3, stride, f"conv{s}a")(x))
        y = conv(filters, 3, 1, f"conv{s}b")(y)
        if cfg.skip:
            same_shape = stride == 1 and x.shape[-1] == filters
            shortcut = x if same_shape else conv(filters, 1, stride, f"shortcut{s}")(x)
            y = keras.layers.Add(name=f"add{s}")([shortcut, y])
        x = relu(f"relu{s}b")(y)
    if cfg.head == "average":
        x = keras.layers.AveragePooling2D(pool_size=x.shape[1:3], name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = QDense(classes, kernel_quantizer=q(cfg.weight_quant), bias_quantizer=q(cfg.bias_quant), name="logits")(x)
    return keras.Model(inputs, outputs, name="resnet8_qkeras")
