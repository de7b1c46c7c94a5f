"""Brevitas MobileNetV1 for vww01, for FINN: the MobileNet shape of task.yaml `brevitas` (width, blocks) as
MLPerf's model has it (docs/mlperf-tiny.md 1.4: a 3x3/2 conv, then depthwise 3x3 and pointwise 1x1 convs,
each with BatchNorm and ReLU), with integer weights and unsigned activations of `quant` bits (FINN maps
the depthwise convs to its VVAU, the others to its MVAU; BatchNorm and ReLU become thresholds), the
reference's average over the final map and a dense layer to the logits. Its input is the vww01 pixel
bytes themselves, in their HWC order (an unsigned 8-bit integer graph input, N x 96 x 96 x 3: FINN's own
layout, so the transposes cancel in streamlining)."""

from __future__ import annotations

from torch import nn

from frameworks import brevitas_qat as bq
from tasks.vww.config import BrevitasMobileNet


class ChannelsFirst(nn.Module):
    """N x H x W x C -> N x C x H x W (PyTorch's convolutions want channels first)."""

    def forward(self, x):
        return x.permute(0, 3, 1, 2)


def build(cfg: BrevitasMobileNet, classes: int) -> nn.Sequential:
    q = cfg.quant
    stem, blocks = cfg.channels()
    layers: list[nn.Module] = [bq.integer_input(8, signed=False), ChannelsFirst(),
                               bq.conv(q, 3, stem, 3, padding=1, stride=2), nn.BatchNorm2d(stem), bq.activation(q)]
    channels = stem
    for filters, stride in blocks:
        layers += [bq.conv(q, channels, channels, 3, padding=1, stride=stride, groups=channels), nn.BatchNorm2d(channels),
                   bq.activation(q), bq.conv(q, channels, filters, 1), nn.BatchNorm2d(filters), bq.activation(q)]
        channels = filters
    # the average over the whole final map as a global pool: exported as GlobalAveragePool, which FINN builds as an
    # accumulator and a 1/N scale absorbed downstream (toolchains/finn/steps.py); an AvgPool2d(side), the same values,
    # exports as AveragePool, which FINN leaves unmapped (with the Flatten and MatMul after it)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), bq.linear(q, channels, classes, bias=True)]
    return nn.Sequential(*layers)
