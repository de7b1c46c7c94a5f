"""Brevitas MLP for kws01, for FINN: the published KWS-W3A3 (docs/fpga-reference.md 2.2),
490 -> 3 x [QuantLinear 256 without bias -> BatchNorm -> 3-bit ReLU -> dropout] -> QuantLinear 12,
3-bit weights with per-channel scales, widths and bits from task.yaml `brevitas`. Its input is what
the firmware gives every kws01 model, the integers int8 - zero_point (a 9-bit integer graph input)."""

from __future__ import annotations

from torch import nn

from frameworks import brevitas_qat as bq
from tasks.kws.config import BrevitasMLP

INPUT_BITS = 9  # int8 - zero_point spans -128-zp .. 127-zp


def build(cfg: BrevitasMLP, inputs: int, classes: int) -> nn.Sequential:
    layers: list[nn.Module] = [bq.integer_input(INPUT_BITS, signed=True)]
    width = inputs
    for hidden in cfg.hidden:
        layers += [bq.linear(cfg.quant, width, hidden), nn.BatchNorm1d(hidden), bq.activation(cfg.quant),
                   nn.Dropout(cfg.dropout)]
        width = hidden
    layers.append(bq.linear(cfg.quant, width, classes))
    return nn.Sequential(*layers)
