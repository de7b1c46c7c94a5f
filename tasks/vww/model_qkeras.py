"""QKeras MobileNetV1 for vww01 (docs/mlperf-tiny.md 1.4's topology: a 3x3/2 conv, then depthwise-separable
blocks, each a 3x3 depthwise conv (stride 1 or 2) and a 1x1 pointwise conv, at width alpha), written
for bit-exact hls4ml io_stream conversion (docs/toolchains.md Part C): alpha=1 quantizers, quantized_relu,
logits out, and no BatchNorm in the model hls4ml converts (hls4ml would keep it unfolded at fixed<16,6>).

A 27-layer network without BatchNorm does not train from scratch (measured: the loss stays at ln 2 on
the synthetic set), so it is trained in two phases: `build(..., batchnorm=True)` puts a BatchNorm between
each convolution and its ReLU; `fold` then writes each BatchNorm into its convolution's weights and bias
(quantized again by the same quantizers) in the model without BatchNorm, which is fine-tuned (train.py).
`blocks` keeps the first blocks of MobileNetV1's 13; the head takes the maximum over the final map (exact in
hls4ml, and as blind to where a person is as the reference's average), or flattens it."""

from __future__ import annotations

import numpy as np

from frameworks.keras2 import keras
from frameworks.schema import Quant
from tasks.vww.config import CHANNELS, SIDE, ModelConfig


def build(cfg: ModelConfig, classes: int, batchnorm: bool = False) -> keras.Model:
    from qkeras import QActivation, QConv2D, QDense, QDepthwiseConv2D, quantized_bits

    def q(quant: Quant):
        return quantized_bits(quant.bits, quant.integer, alpha=1)

    def relu(x, name: str):
        if batchnorm:
            x = keras.layers.BatchNormalization(name=f"bn_{name}")(x)
        # The quantized ReLU as an unsigned quantized_bits: the same values as quantized_relu(bits, integer) (round half
        # to even, clipped to 0 .. 2^integer - 2^-fraction), but hls4ml folds a quantized_bits activation into the
        # convolution before it (the convolution's result type, ufixed with RND_CONV and SAT, is the ReLU: recipe.py),
        # where a quantized_relu stays a layer of its own with a FIFO as deep as its tensor (BRAM: README)
        return QActivation(quantized_bits(cfg.relu_bits, cfg.relu_integer, keep_negative=False, alpha=1),
                           name=f"relu_{name}")(x)

    # With BatchNorm the convolutions have no bias (the BatchNorm's beta is one), without they have a quantized one
    bias = {"use_bias": False} if batchnorm else {"bias_quantizer": q(cfg.bias_quant)}
    # He initialisation; a depthwise kernel's outputs each see 9 inputs, which Keras' fan_in (9 x channels) miscounts
    he = "he_normal"

    def he_depthwise():  # one initializer per layer: a shared one gives every layer of a shape the same start
        return keras.initializers.VarianceScaling(2.0, "fan_out", "truncated_normal")

    stem, blocks = cfg.channels()
    inputs = keras.Input((SIDE, SIDE, CHANNELS), name="image")
    x = QConv2D(stem, 3, strides=2, padding="same", kernel_quantizer=q(cfg.weight_quant), kernel_initializer=he,
                name="conv0", **bias)(inputs)
    x = relu(x, "conv0")
    for i, (filters, stride) in enumerate(blocks, start=1):
        x = QDepthwiseConv2D(3, strides=stride, padding="same", depthwise_quantizer=q(cfg.weight_quant),
                             depthwise_initializer=he_depthwise(), name=f"dw{i}", **bias)(x)
        x = relu(x, f"dw{i}")
        x = QConv2D(filters, 1, padding="same", kernel_quantizer=q(cfg.weight_quant), kernel_initializer=he,
                    name=f"pw{i}", **bias)(x)
        x = relu(x, f"pw{i}")
    if cfg.head == "max":
        x = keras.layers.MaxPooling2D(pool_size=x.shape[1:3], name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = QDense(classes, kernel_quantizer=q(cfg.weight_quant), bias_quantizer=q(cfg.bias_quant), name="logits")(x)
    return keras.Model(inputs, outputs, name="mobilenet_v1_qkeras")


def fold(trained: keras.Model, cfg: ModelConfig, classes: int) -> keras.Model:
    """The model without BatchNorm whose convolutions hold the trained ones' weights with each BatchNorm
    (inference form: scale gamma / sqrt(var + eps), shift beta - mean * scale) folded in, per output channel."""
    folded = build(cfg, classes, batchnorm=False)
    for layer in folded.layers:
        if not layer.get_weights():
            continue
        source = trained.get_layer(layer.name)
        if layer.name == "logits":
            layer.set_weights(source.get_weights())
            continue
        bn = trained.get_layer(f"bn_{layer.name}")
        gamma, beta, mean, var = bn.get_weights()
        scale = gamma / np.sqrt(var + bn.epsilon)
        (kernel,) = source.get_weights()
        # Conv2D kernels are H x W x in x out (scale the outputs), depthwise kernels H x W x channels x 1
        kernel = kernel * (scale[None, None, :, None] if layer.name.startswith("dw") else scale)
        layer.set_weights([kernel, beta - mean * scale])
    return folded
