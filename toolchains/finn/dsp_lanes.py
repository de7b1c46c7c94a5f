"""DSP slices of FINN's RTL matrix-vector unit as its RTL packs them, not as FINN's estimate assumes.

finn-plus 1.6.1 estimates an MVAU_rtl on a DSP48E1/E2 part at ceil(PE / 4) * SIMD slices
(`MVAU_rtl.dsp_estimation`): four output channels (PE lanes) sharing each slice. The RTL it generates
(finn-rtllib/mvu/mvu.sv, the core `mvu_vvu_axi.sv` instantiates for DSP48E1/E2) packs as many lanes as
fit the slice's A input, each lane a product of WEIGHT_WIDTH + ACTIVATION_WIDTH - 1 bits:

    NUM_LANES = 1 + (A_WIDTH - !NARROW_WEIGHTS - WEIGHT_WIDTH) / (WEIGHT_WIDTH + ACTIVATION_WIDTH - 1)
    A_WIDTH = 25 (DSP48E1), 27 (DSP48E2)

and builds ceil(PE / NUM_LANES) chains of SIMD slices. With 8-bit weights and activations (every int8
MLPerf reference) that is 2 lanes on a 7-series part, twice FINN's estimate; with 3-bit ones 5 lanes,
fewer. This module replaces FINN's figure with the RTL's count (modeled, as every estimate here); Versal's
DSP58 core is a different one (mvu_vvu_8sx9_dsp58) and keeps FINN's estimate."""

from __future__ import annotations

import math

A_WIDTH = {"DSP48E1": 25, "DSP48E2": 27}


def lanes(dsp_block: str, weight_bits: int, activation_bits: int, narrow_weights: bool) -> int | None:
    """Output channels one slice computes at once (mvu.sv's NUM_LANES); None for a core this does not model."""
    width = A_WIDTH.get(dsp_block)
    if width is None:
        return None
    if width == weight_bits:
        return 1
    return 1 + (width - (not narrow_weights) - weight_bits) // (weight_bits + activation_bits - 1)


def mvau_rtl_dsps(model, node, fpgapart: str) -> int | None:
    """DSP slices of one MVAU_rtl node as the RTL builds it; None where FINN's estimate stays."""
    from finn.util.basic import get_dsp_block
    from qonnx.custom_op.registry import getCustomOp

    op = getCustomOp(node)
    wdt = op.get_input_datatype(1)
    weights = model.get_initializer(node.input[1])
    # as MVAU_rtl.generate_hdl decides NARROW_WEIGHTS
    narrow = not (weights is None or weights.min() == wdt.min() or op.get_nodeattr("mem_mode") in ("dynamic", "external_mem"))
    n = lanes(get_dsp_block(fpgapart), wdt.bitwidth(), op.get_input_datatype(0).bitwidth(), narrow)
    if n is None:
        return None
    return math.ceil(op.get_nodeattr("PE") / n) * op.get_nodeattr("SIMD")


def corrected(model_path, resources: dict, fpgapart: str) -> dict:
    """FINN's per-layer resource estimate (estimate_layer_resources.json without its total) with each
    MVAU_rtl's DSP count from the RTL's lanes; returns a new dict, FINN's own figure kept as `DSP_finn`."""
    from qonnx.core.modelwrapper import ModelWrapper

    model = ModelWrapper(str(model_path))
    out = {name: dict(layer) for name, layer in resources.items()}
    for node in model.graph.node:
        if node.op_type != "MVAU_rtl" or node.name not in out:
            continue
        dsps = mvau_rtl_dsps(model, node, fpgapart)
        if dsps is not None:
            out[node.name]["DSP_finn"] = out[node.name]["DSP"]
            out[node.name]["DSP"] = dsps
    return out
