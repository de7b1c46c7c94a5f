"""A resource model of an hls4ml design before synthesis: LUT, FF, BRAM18 and DSP per layer and in
total, from hls4ml's converted ModelGraph (types, reuse factors, strategies, weights, stream depths),
for both IO styles. Modeled, never measured, and first-order: for the fit gate and for comparing
designs, to be calibrated against a synthesis report where Vitis HLS exists. The accelerator only
(no AXI DMA, interconnect or processor system).

Existing predictors were tried first: rule4ml 0.2.0 (PyPI) covers only io_parallel Dense/activation
networks at a 10 ns clock (its own README's limits), so not the io_stream CNNs; hls4ml's `report`
only parses a synthesis report. The coefficients and where they come from:

- Multipliers: ceil(nonzero weights / R) per dense kernel (hls4ml's `multiplier_limit`; a
  convolution's kernel is KH*KW*C x F, a depthwise one KH*KW*C). A multiplier takes DSP48E1
  slices (25 x 18 bits each, UG479) when both operands are wider than DSP_MIN_BITS, else LUTs: the
  threshold at which hls4ml's authors report Vivado HLS stops using DSPs (Duarte et al. 2018, JINST
  13 P07027, the DSP-versus-precision scan); an assumption to calibrate.
- A LUT multiplier of W x A bits: (2 * ceil((W + A) / 6) - 1) * (W + A) LUTs, FINN-R's fitted cost
  (Blott et al. 2018, as finn-plus's MVAU lut_estimation codes it).
- Adders: each product is added once into an accumulator of accum_t's width, one LUT per bit (a
  carry-chain adder, one LUT6 + CARRY4 bit per bit on 7-series, UG474).
- Registers: every product (W + A bits) and every adder output (accum bits) registered once, the
  pipelines Vivado HLS builds at 100 MHz; plus each layer's result register.
- Weights: the Latency strategy's weights are constants inside the multipliers (no memory); the
  Resource strategy's are a ROM of R words of (multipliers * weight bits).
- io_stream: a line buffer of (KH - 1) rows x C channels of in_width values is ap_shift_reg, which
  maps to SRLC32E shift registers: ceil(in_width / 32) LUTs per bit (UG474); the KH x KW x C window is
  registers. Every stream between layers is a FIFO of its hls4ml depth (the tensor's packets) and its
  packet width (channels x bits).
- Memories (FIFOs, ROMs): up to DISTRIBUTED_MAX_DEPTH words in LUTs (SRL32 / 64-deep LUT-RAM), deeper
  in BRAM18, the cheapest of its aspect ratios 16K x 1 ... 512 x 36 (UG473).
- Activations, padding, clones, adds: about one LUT and one FF per bit of a packet (compare, mux,
  register); a global pooling also an accumulator (adder and register) per channel.
"""

from __future__ import annotations

import math

DSP_MIN_BITS = 10  # a product of two operands wider than this takes DSP48E1 slices
DISTRIBUTED_MAX_DEPTH = 64  # memories this shallow stay in LUTs
BRAM18_ASPECTS = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))  # depth x width (UG473)
# Conv2DBatchnorm: hls4ml's QConv2DBatchnorm, a Conv2D with the batch norm folded into its weights
MAC_KINDS = ("Dense", "Conv1D", "Conv2D", "Conv2DBatchnorm", "PointwiseConv1D", "PointwiseConv2D", "DepthwiseConv1D",
             "DepthwiseConv2D")


def memory(depth: int, width: int, shift: bool = False) -> dict[str, int]:
    """LUT or BRAM18 cost of a depth x width memory (shift: a FIFO/shift register, SRL32-based)."""
    if depth <= 0 or width <= 0:
        return {"lut": 0, "bram18": 0}
    if depth <= DISTRIBUTED_MAX_DEPTH:
        return {"lut": width * math.ceil(depth / (32 if shift else 64)), "bram18": 0}
    return {"lut": 0, "bram18": min(math.ceil(depth / d) * math.ceil(width / w) for d, w in BRAM18_ASPECTS)}


def dsp_per_multiplier(a: int, b: int) -> int:
    if min(a, b) <= DSP_MIN_BITS:
        return 0
    return min(math.ceil(a / 25) * math.ceil(b / 18), math.ceil(b / 25) * math.ceil(a / 18))


def lut_multiplier(a: int, b: int) -> int:
    return (2 * math.ceil((a + b) / 6) - 1) * (a + b)


def _width(precision) -> int:
    return int(precision.width)


def _mac(layer, in_width: int) -> dict:
    a = layer.get_attr
    w = layer.weights["weight"]
    wb = _width(w.type.precision)
    acc = _width(a("accum_t").precision)
    r = int(a("reuse_factor", 1) or 1)
    nonzero = int((w.data != 0).sum())
    mults = math.ceil(nonzero / r)
    per = dsp_per_multiplier(in_width, wb)
    n_out = int(layer.get_output_variable().shape[-1])
    res_bits = _width(layer.get_output_variable().type.precision)
    cost = {"multipliers": mults, "dsp": mults * per, "lut": (0 if per else mults * lut_multiplier(in_width, wb)) + mults * acc,
            "ff": mults * (in_width + wb + acc) + n_out * res_bits, "bram18": 0}
    if str(a("strategy", "latency")).lower().startswith("resource"):  # the weights in a ROM of R words
        rom = memory(r, mults * wb)
        cost["lut"] += rom["lut"]
        cost["bram18"] += rom["bram18"]
    return cost


def model(hls_model) -> dict:
    """{"lut", "ff", "bram18", "dsp", "layers": [{name, kind, ...}], "basis"} of the accelerator."""
    stream = hls_model.config.get_config_value("IOType") == "io_stream"
    widths: dict[str, int] = {}  # tensor -> value bits
    packets: dict[str, int] = {}  # tensor -> values per packet
    layers = []
    for layer in hls_model.get_layers():
        kind, a = layer.class_name, layer.get_attr
        for name in layer.outputs:
            var = layer.get_output_variable(name)
            widths[name] = _width(var.type.precision)
            packets[name] = int(var.shape[-1]) if stream else int(var.size())
        in_width = widths.get(layer.inputs[0], widths[layer.outputs[0]]) if layer.inputs else widths[layer.outputs[0]]
        in_packet = packets.get(layer.inputs[0], 1) if layer.inputs else 1
        cost = {"lut": 0, "ff": 0, "bram18": 0, "dsp": 0}
        if kind in MAC_KINDS:
            cost = _mac(layer, in_width)
        elif kind in ("Input", "Reshape"):
            pass
        else:  # activations, padding, clone, add, pooling: per packet bit a compare/mux/adder and a register
            bits = in_packet * in_width
            cost = {"lut": bits, "ff": bits, "bram18": 0, "dsp": 0}
            if kind.startswith("GlobalPooling"):  # and a running sum per channel: an accumulator's adder and register
                acc = in_packet * (_width(a("accum_t").precision) if a("accum_t") is not None else in_width)
                cost["lut"] += acc
                cost["ff"] += acc
        if stream and kind in MAC_KINDS + ("Pooling1D", "Pooling2D") and (a("filt_height") or a("pool_height") or 1) > 1:
            kh = a("filt_height") or a("pool_height")
            kw = a("filt_width") or a("pool_width")
            c = int(a("n_chan") or a("n_filt"))
            cost["lut"] += (kh - 1) * c * in_width * math.ceil(int(a("in_width")) / 32)  # line buffer: SRLs
            cost["ff"] += kh * kw * c * in_width  # the window
        if stream and kind != "Reshape":  # the FIFO of each output stream
            for name in layer.outputs:
                var = layer.get_output_variable(name)
                pragma = getattr(var, "pragma", None)
                depth = int(pragma[1]) if isinstance(pragma, tuple) and len(pragma) > 1 else 1
                fifo = memory(depth, packets[name] * widths[name], shift=True)
                cost["lut"] += fifo["lut"]
                cost["bram18"] += fifo["bram18"]
                cost["fifo_depth"] = depth
        layers.append({"name": layer.name, "kind": kind, **cost})
    totals = {k: sum(layer[k] for layer in layers) for k in ("lut", "ff", "bram18", "dsp")}
    return {**totals, "layers": layers,
            "basis": "first-order resource model (toolchains/hls4ml/resources.py: multipliers per reuse factor, DSP above "
                     f"{DSP_MIN_BITS}-bit operands, FINN-R LUT multipliers, carry-chain adders, SRL line buffers, FIFOs "
                     "and ROMs in LUTs or BRAM18)"}


BUDGET_KEYS = ("lut", "ff", "bram18", "dsp")  # what a board's device has of what the model estimates


def budget(board, fraction: float = 1.0) -> dict[str, float]:
    """The share of the board's device a design may take."""
    r = board.resources
    return {"lut": fraction * r.lut, "ff": fraction * r.ff, "bram18": fraction * 2 * r.bram36, "dsp": fraction * r.dsp}


def over(estimate: dict, limit: dict[str, float]) -> list[str]:
    """What of the estimate exceeds the limit, with the numbers."""
    return [f"{k.upper()} {estimate[k]:,.0f} > {limit[k]:,.0f}" for k in BUDGET_KEYS if estimate[k] > limit[k]]


def check_fit(estimate: dict, board, hint: str) -> str | None:
    """None when the estimate fits the board's device, else what exceeds it (with the numbers)."""
    exceeded = over(estimate, budget(board))
    return f"the hls4ml design does not fit the {board.name} ({'; '.join(exceeded)}): {hint}" if exceeded else None
