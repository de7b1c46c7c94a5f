"""Brevitas autoencoder for ad01, for FINN: the AD MLP of task.yaml `brevitas` (640 -> hidden ->
640, as the QKeras model), each hidden layer QuantLinear without bias -> BatchNorm -> ReLU of
act_bits, a linear output with bias. Its input is the window on the integer grid of the input map
(input_map.py, `input_bits` wide: an integer graph input; the DUT maps the float window as for
hls4ml); its output is the reconstruction in model units, scored as the QKeras model's."""

from __future__ import annotations

from torch import nn

from frameworks import brevitas_qat as bq
from tasks.ad.config import BrevitasMLP


def build(cfg: BrevitasMLP, inputs: int) -> nn.Sequential:
    layers: list[nn.Module] = [bq.integer_input(cfg.input_quant.bits, signed=True)]
    width = inputs
    for hidden in cfg.hidden:
        layers += [bq.linear(cfg.quant, width, hidden), nn.BatchNorm1d(hidden), bq.activation(cfg.quant)]
        width = hidden
    layers.append(bq.linear(cfg.quant, width, inputs, bias=True))
    return nn.Sequential(*layers)
