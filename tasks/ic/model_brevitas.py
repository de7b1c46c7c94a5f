"""Brevitas CNV for ic01, for FINN: the published CNV-W1A1 (docs/fpga-reference.md 2.4),
3x3 valid convolutions (64, 64, pool, 128, 128, pool, 256, 256) -> fully connected (512, 512) -> 10 (+ BatchNorm),
each followed by BatchNorm and a binary (or act_bits) activation; widths and bits from task.yaml
`brevitas`. Its input is the ic01 pixel bytes themselves, in their HWC order (an unsigned 8-bit
integer graph input, N x 32 x 32 x 3: FINN's own layout, so the transposes cancel in streamlining)."""

from __future__ import annotations

from torch import nn

from frameworks import brevitas_qat as bq
from tasks.ic.config import BrevitasCNV


class ChannelsFirst(nn.Module):
    """N x H x W x C -> N x C x H x W (PyTorch's convolutions want channels first)."""

    def forward(self, x):
        return x.permute(0, 3, 1, 2)


def build(cfg: BrevitasCNV, classes: int) -> nn.Sequential:
    q = cfg.quant
    layers: list[nn.Module] = [bq.integer_input(8, signed=False), ChannelsFirst()]
    channels, side = 3, 32
    for i, width in enumerate(cfg.conv):
        layers += [bq.conv(q, channels, width, 3), nn.BatchNorm2d(width), bq.activation(q)]
        channels, side = width, side - 2
        if i in cfg.pool_after:
            layers.append(nn.MaxPool2d(2))
            side //= 2
    layers.append(nn.Flatten())
    width = channels * side * side
    for hidden in cfg.fc:
        layers += [bq.linear(q, width, hidden), nn.BatchNorm1d(hidden), bq.activation(q)]
        width = hidden
    # a BatchNorm on the logits (CNV's TensorNorm): +-1 weights give sums in the hundreds
    layers += [bq.linear(q, width, classes), nn.BatchNorm1d(classes)]
    return nn.Sequential(*layers)
