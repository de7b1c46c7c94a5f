"""Reuse factors chosen to fit the board (settings `reuse: fit`): hls4ml's counterpart of FINN's target_fps
folding, on the project's models (modeled, never synthesised).

hls4ml gives every layer the reuse factor its config names (1 by default: one multiplier per weight, fully
parallel), and its own `target_cycles` sets one layer's factor from a cycle count, not the design's from a
budget. Here every multiply-accumulate layer (Dense, convolutions) the recipe gives no factor of its own runs
the Resource strategy (its weights in a ROM of R words, R cycles per kernel call), and one cycle target T
balances them: each layer takes the largest of hls4ml's valid reuse factors (FPGABackend.get_valid_reuse_factors,
at most one multiplier left) at which its own work stays within T, so the fewest multipliers for that speed.
A dataflow design is as slow as its slowest layer, so a layer faster than T buys nothing. T is the smallest
for which the resource model (resources.py, with the FIFO depths the settings ask for) puts the design within
the budget (a fraction of the part's LUT, FF, BRAM18 and DSP); found by bisection, taking resources to fall
as T grows (fewer multipliers, narrower ROMs). Where even every layer at its largest factor exceeds the budget
in some resource, that resource is mostly not the multipliers' (FIFOs, say): T may then keep it only near its
least (within SLACK of the budget) while the others stay within the budget, and the result says what is over
(`beyond`).

A layer's work for T is the latency model's (latency.py) for that layer alone, its input arriving a packet a
cycle: a Resource convolution PIXEL_CYCLES per input pixel and a dense kernel per output pixel, a Latency one
II = R over its input pixels, a Dense layer one kernel.
"""

from __future__ import annotations

import math

from toolchains.hls4ml import fifo_depths, latency, resources

SLACK = 0.1  # a resource over the budget whatever the factors may exceed its least by 10 % of the budget


def mac_layer_names(keras_model) -> list[str]:
    """The Keras layers with a kernel (Dense, the convolutions): those that take a reuse factor."""
    return [layer.name for layer in keras_model.layers
            if getattr(layer, "kernel", None) is not None or getattr(layer, "depthwise_kernel", None) is not None]


def resource_strategy(keras_model, hls_config: dict, fixed: set[str]) -> list[str]:
    """Strategy Resource on every MAC layer whose strategy the recipe does not set (before conversion: hls4ml
    lays out the weights for it then); returns what was set."""
    changed = []
    for name in mac_layer_names(keras_model):
        if name not in fixed:
            hls_config["LayerName"].setdefault(name, {})["Strategy"] = "Resource"
            changed.append(f"{name}: Strategy <- Resource (reuse: fit)")
    return changed


def valid_factors(layer) -> list[int]:
    """hls4ml's valid reuse factors for this layer, up to its weight count (one multiplier)."""
    backend = layer.model.config.backend
    n_in, n_out = backend.get_layer_mult_size(layer)
    weights = int(layer.weights["weight"].data.size)
    return [r for r in backend.get_valid_reuse_factors(n_in, n_out) if r <= weights]


def layer_cycles(layer, reuse: int) -> int:
    """The layer's own modeled cycles at this reuse factor, its input arriving a packet a cycle."""
    kind = layer.class_name
    kernel = latency.dense_cycles(latency._kernel_inputs(layer), reuse)
    if kind == "Dense":
        return kernel
    if layer.model.config.get_config_value("IOType") != "io_stream":
        return int(layer.get_attr("n_partitions", 1) or 1) * kernel
    pixels, windows = latency._packets(layer.get_input_variable()), latency._packets(layer.get_output_variable())
    if str(layer.get_attr("strategy", "latency")).lower().startswith("resource"):
        return pixels * latency.PIXEL_CYCLES + windows * kernel
    return pixels * reuse + kernel


def _largest_within(options: list[tuple[int, int]], target: float) -> int:
    """options: (cycles, reuse factor), cycles falling as the factor falls; the largest factor within the
    target, else the fastest."""
    within = [r for c, r in options if c <= target]
    return max(within) if within else min(r for _, r in options)


def _estimate(hls_model, fifos: str) -> dict:
    """The resource model of the graph as its reuse factors stand, with the FIFO depths the settings ask for
    (fifo_depth; put back afterwards: the convert stage sets them on the final design)."""
    variables = [layer.get_output_variable(name) for layer in hls_model.get_layers() for name in layer.outputs]
    saved = [(var, getattr(var, "pragma", None)) for var in variables]
    try:
        if fifos != "tensor":
            fifo_depths.apply(hls_model, latency.model(hls_model), branches=fifos == "modeled_branches")
        return resources.model(hls_model)
    finally:
        for var, pragma in saved:
            if pragma is not None:
                var.pragma = pragma


def fit(hls_model, limit: dict[str, float], fixed: frozenset[str] | set[str] = frozenset(), fifos: str = "tensor") -> dict:
    """Choose the reuse factors of the converted graph's MAC layers (all but `fixed`) for the budget `limit`
    ({lut, ff, bram18, dsp}), with the FIFO depths `fifos` (settings fifo_depth) gives; sets them on the graph
    (reuse_factor) and returns {"layers": {name: {reuse_factor, multipliers, cycles, valid}}, "target_cycles",
    "fits", "over", "beyond": the resources over even at the largest factors, "estimate": {lut, ff, bram18, dsp},
    "given": the MAC layers whose factor the recipe gives}."""
    free = [layer for layer in hls_model.get_layers() if layer.class_name in resources.MAC_KINDS and layer.name not in fixed]
    options = {layer.name: sorted({(layer_cycles(layer, r), r) for r in valid_factors(layer)}) for layer in free}
    floor = max((min(c for c, _ in opts) for opts in options.values()), default=0)  # the slowest layer at its fastest
    targets = sorted({c for opts in options.values() for c, _ in opts if c >= floor}) or [floor]

    def apply(target: float) -> dict:
        for layer in free:
            layer.set_attr("reuse_factor", _largest_within(options[layer.name], target))
        return _estimate(hls_model, fifos)

    smallest = apply(targets[-1])
    # a resource over the budget even at the largest factors is mostly not the multipliers' (e.g. FIFOs): the
    # factors cannot bring it within the budget, only keep it near its least (within SLACK of the budget, or a
    # slightly uneven model would push the target to the slowest design), and the result says what is over
    beyond = [k for k in resources.BUDGET_KEYS if smallest[k] > limit[k]]
    within = {k: smallest[k] + SLACK * v if k in beyond else v for k, v in limit.items()}
    lo, hi = 0, len(targets) - 1
    while lo < hi:  # the smallest target that fits
        mid = (lo + hi) // 2
        if resources.over(apply(targets[mid]), within):
            lo = mid + 1
        else:
            hi = mid
    estimate = apply(targets[lo])
    cost = {layer["name"]: layer for layer in estimate["layers"]}
    layers = {layer.name: {"reuse_factor": int(layer.get_attr("reuse_factor")),
                           "multipliers": cost[layer.name].get("multipliers"),
                           "cycles": layer_cycles(layer, int(layer.get_attr("reuse_factor"))),
                           "valid": _span([r for _, r in options[layer.name]])} for layer in free}
    exceeded = resources.over(estimate, limit)
    given = [layer.name for layer in hls_model.get_layers() if layer.class_name in resources.MAC_KINDS and layer.name in fixed]
    return {"layers": layers, "target_cycles": targets[lo], "fits": not exceeded, "over": exceeded, "beyond": beyond,
            "budget": {k: math.floor(v) for k, v in limit.items()}, "given": given,
            "estimate": {k: estimate[k] for k in resources.BUDGET_KEYS},
            "what": "reuse factors chosen by toolchains/hls4ml/reuse.py: the smallest per-layer cycle target at which the "
                    "modeled design fits the budget, each MAC layer at the largest valid factor within it (modeled)"}


def _span(factors: list[int]) -> str:
    """hls4ml's valid factors of a layer, shortened: the first few and the largest."""
    factors = sorted(set(factors))
    return ", ".join(map(str, factors)) if len(factors) <= 8 else f"{', '.join(map(str, factors[:6]))}, ..., {factors[-1]}"

