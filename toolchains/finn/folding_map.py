"""A folding JSON written for FINN 2022 (v0.7/v0.8, the hls4ml-FINN MLPerf Tiny v0.7 designs) put onto
a finn-plus graph. FINN names each layer `<op type>_<i>`, i counting that op type's layers in graph
order; FINN 2022's op types (StreamingFCLayer_Batch, ConvolutionInputGenerator, Thresholding_Batch)
are finn-plus's MVAU_hls/MVAU_rtl, ConvolutionInputGenerator_rtl, Thresholding_rtl/_hls, so a JSON by
name configures nothing in finn-plus (its ApplyConfig only warns). Here each published entry goes to
the layer of the same kind and the same position among that kind's layers.

That is only right when the two graphs are the same network: the sequence of compute layers
(MVAU, VVAU, sliding windows), which fixes the network's shape, must be the same kinds in the same
order, and each PE/SIMD must divide the layer's dimensions; otherwise a ConfigError says where they
part. Layers of other kinds (an input Thresholding the other export turned into integer pixels, a
LabelSelect for a TopK) are mapped by order when both graphs have as many of them, and otherwise
listed: published entries with no layer here are dropped, layers here with no entry keep FINN's
defaults (PE = SIMD = 1). One exception: a max pool. FINN 2022 made it a StreamingMaxPool_Batch, which
had no folding and took one pixel of all channels per cycle (so no JSON entry); finn-plus makes it a
sliding window feeding a Pool, which FINN's defaults would fold to one channel per cycle (64 times
slower on 64 channels). Those get SIMD = PE = channels, the old layer's rate."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from common.errors import ConfigError

# FINN 2022 op type (and later upstream names) -> the finn-plus kind (op type without _hls/_rtl)
LEGACY_KINDS = {
    "StreamingFCLayer_Batch": "MVAU", "MatrixVectorActivation": "MVAU",
    "Vector_Vector_Activate_Batch": "VVAU", "VectorVectorActivation": "VVAU",
    "ConvolutionInputGenerator": "ConvolutionInputGenerator", "ConvolutionInputGenerator1D": "ConvolutionInputGenerator",
    "Thresholding_Batch": "Thresholding", "StreamingMaxPool_Batch": "StreamingMaxPool", "LabelSelect_Batch": "LabelSelect",
    "ChannelwiseOp_Batch": "ChannelwiseOp", "FMPadding_Batch": "FMPadding", "GlobalAccPool_Batch": "GlobalAccPool",
    "DuplicateStreams_Batch": "DuplicateStreams", "AddStreams_Batch": "AddStreams", "Pool_Batch": "Pool",
}
COMPUTE = ("MVAU", "VVAU", "ConvolutionInputGenerator")  # their sequence is the network's shape
# attributes carried over; FINN 2022's mem_mode values under their finn-plus names
ATTRIBUTES = ("PE", "SIMD", "ram_style", "resType", "mem_mode", "runtime_writeable_weights")
MEM_MODES = {"const": "internal_embedded", "decoupled": "internal_decoupled", "external": "external"}
# which dimension each folding factor must divide, per kind (finn-plus node attributes)
DIVIDES = {
    "MVAU": {"PE": "MH", "SIMD": "MW"},
    "VVAU": {"PE": "Channels"},
    "ConvolutionInputGenerator": {"SIMD": "IFMChannels"},
    "Thresholding": {"PE": "NumChannels"},
    "LabelSelect": {"PE": "Labels"},
    "StreamingMaxPool": {"PE": "NumChannels"},
    "ChannelwiseOp": {"PE": "NumChannels"},
    "Pool": {"PE": "Channels"},
    "PoolWindow": {"SIMD": "IFMChannels"},
}
POOL = ("PoolWindow", "Pool")  # a max pool in finn-plus: a sliding window (kind PoolWindow here) feeding a Pool


@dataclass
class Layer:
    """A finn-plus hardware layer as the folding step sees it: its name, kind and dimensions."""

    name: str
    kind: str  # op type without the _hls/_rtl suffix; PoolWindow: a sliding window that feeds a Pool
    dims: dict[str, int] = field(default_factory=dict)


@dataclass
class Mapping:
    config: dict  # a folding JSON for finn-plus (FinnSettings.folding_config)
    pairs: list[tuple[str, str]]  # (published name, layer here)
    dropped: list[tuple[str, str]]  # (published name, why it has no layer here)
    unconfigured: list[str]  # layers here that no published entry configures (FINN's defaults)
    pools: list[str]  # max-pool layers here given one pixel of all channels per cycle (StreamingMaxPool_Batch's rate)


def kind_of(op_type: str) -> str:
    return re.sub(r"_(hls|rtl)$", "", op_type)


def layers_of(model_path: Path) -> list[Layer]:
    """The hardware layers of a FINN model (e.g. a build's intermediate_models/step_apply_folding_config.onnx,
    whose names are the ones FINN's folding step matches), in graph order."""
    from finn.util.fpgadataflow import is_hls_node, is_rtl_node
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    model = ModelWrapper(str(model_path))
    layers = []
    for node in model.graph.node:
        if not (is_hls_node(node) or is_rtl_node(node)):
            continue
        kind, op = kind_of(node.op_type), getCustomOp(node)
        if kind == "ConvolutionInputGenerator" and any(kind_of(n.op_type) == "Pool"
                                                       for n in model.find_direct_successors(node) or []):
            kind = "PoolWindow"
        dims = {}
        for dim in DIVIDES.get(kind, {}).values():
            value = op.get_nodeattr(dim)
            dims[dim] = int(value[0] if isinstance(value, (list, tuple)) else value)
        layers.append(Layer(node.name, kind, dims))
    return layers


def layers_before_folding(onnx: Path, board, out: Path) -> list[Layer]:
    """The layers FINN's folding step will see for `onnx` on `board`: the harness's FINN steps (build.py)
    up to step_apply_folding_config, without a folding (about a minute, no code generation)."""
    from toolchains.finn import novivado  # noqa: F401  (before anything from finn.builder)

    # isort: split
    import finn.builder.build_dataflow_config as fc
    from finn.builder.build_dataflow import build_dataflow_cfg

    from common.errors import BuildError
    from toolchains.finn import build

    steps = build._steps(fc.hw_codegen_dataflow_steps)
    steps = steps[:steps.index("step_apply_folding_config") + 1]
    out.mkdir(parents=True, exist_ok=True)
    (out / "no_folding.json").write_text('{"Defaults": {}}')  # FINN's config wants a folding source
    cfg = fc.DataflowBuildConfig(output_dir=str(out), synth_clk_period_ns=board.clock_period_ns, fpga_part=board.part,
                                 steps=steps, generate_outputs=[], folding_config_file=out / "no_folding.json",
                                 console_log_level=fc.LogLevel.ERROR)  # not "No HW configuration for nodes: ..."
    with build._own_logging_kept():
        code = build_dataflow_cfg(str(onnx), fc.DataflowBuildConfig.construct_from(cfg))
    model = out / "intermediate_models" / "step_apply_folding_config.onnx"
    if code != 0 or not model.is_file():
        raise BuildError(f"the FINN steps before folding failed: see {out / 'build_dataflow.log'}")
    return layers_of(model)


def _published(config: dict) -> list[tuple[str, str, int]]:
    """(name, kind, index) of each published entry, in the JSON's order (FINN writes graph order)."""
    if config.get("Defaults"):
        raise ConfigError(f"published folding: 'Defaults' {config['Defaults']} names FINN 2022 op types; "
                          f"give each layer's entry instead")
    entries = []
    for name in config:
        if name == "Defaults":
            continue
        m = re.fullmatch(r"(.+)_(\d+)", name)
        if m is None or m.group(1) not in LEGACY_KINDS:
            raise ConfigError(f"published folding: {name!r} is not a FINN layer name (<op type>_<i>, op types: "
                              f"{', '.join(sorted(LEGACY_KINDS))})")
        entries.append((name, LEGACY_KINDS[m.group(1)], int(m.group(2))))
    return entries


def _attributes(name: str, entry: dict) -> dict:
    unknown = sorted(set(entry) - set(ATTRIBUTES))
    if unknown:
        raise ConfigError(f"published folding: {name} sets {', '.join(unknown)}, which this mapping does not carry over "
                          f"(it carries {', '.join(ATTRIBUTES)})")
    out = dict(entry)
    if "mem_mode" in out:
        out["mem_mode"] = MEM_MODES.get(out["mem_mode"], out["mem_mode"])
    return out


def map_folding(published: dict, layers: list[Layer]) -> Mapping:
    """The published folding (FINN 2022 names) as a finn-plus folding JSON for `layers` (layers_of);
    ConfigError when the compute layers do not correspond one to one or a factor does not divide."""
    entries = _published(published)
    theirs = [kind for _, kind, _ in entries if kind in COMPUTE]
    ours = [layer.kind for layer in layers if layer.kind in COMPUTE]
    if theirs != ours:
        at = next((i for i, (a, b) in enumerate(zip(theirs, ours)) if a != b), min(len(theirs), len(ours)))
        raise ConfigError(
            f"published folding: its compute layers do not correspond to this graph's: {len(theirs)} published "
            f"({_count(theirs)}) against {len(ours)} here ({_count(ours)}), first different at position {at} "
            f"({theirs[at] if at < len(theirs) else 'none'} published, {ours[at] if at < len(ours) else 'none'} here)")
    by_kind: dict[str, list[Layer]] = {}
    for layer in layers:
        by_kind.setdefault(layer.kind, []).append(layer)
    published_by_kind: dict[str, list[tuple[str, int]]] = {}
    for name, kind, index in entries:
        published_by_kind.setdefault(kind, []).append((name, index))

    config: dict = {"Defaults": {}}
    pairs, dropped = [], []
    for kind, named in published_by_kind.items():
        named.sort(key=lambda item: item[1])  # FINN's index: the layer's position among its kind, in graph order
        here = by_kind.get(kind, [])
        if len(here) != len(named):
            why = (f"no {kind} layer here" if not here else
                   f"{len(named)} published {kind} layers, {len(here)} here: which is which is unknown")
            dropped += [(name, why) for name, _ in named]
            continue
        for (name, _), layer in zip(named, here):
            entry = _attributes(name, published[name])
            for factor, dim in DIVIDES.get(kind, {}).items():
                if factor in entry and layer.dims.get(dim, 0) % int(entry[factor]):
                    raise ConfigError(f"published folding: {name} -> {layer.name}: {factor} {entry[factor]} does not divide "
                                      f"{dim} {layer.dims[dim]} (the graphs differ there)")
            config[layer.name] = entry
            pairs.append((name, layer.name))
    pools = []
    for layer in layers:
        if layer.kind in POOL and layer.name not in config:
            factor, dim = next(iter(DIVIDES[layer.kind].items()))
            config[layer.name] = {factor: layer.dims[dim]}
            pools.append(layer.name)
    unconfigured = [layer.name for layer in layers if layer.name not in config]
    return Mapping(config, pairs, dropped, unconfigured, pools)


def not_applied(config: dict, applied: dict) -> list[str]:
    """What of a mapped config the build did not apply (its report/applied_folding_config.json): empty when
    every layer got every attribute, as a name FINN did not match would not."""
    return [f"{name}.{attr} {value!r} (applied: {applied.get(name, {}).get(attr)!r})"
            for name, entry in config.items() if name != "Defaults"
            for attr, value in entry.items() if applied.get(name, {}).get(attr) != value]


def _count(kinds: list[str]) -> str:
    return ", ".join(f"{kinds.count(k)} {k}" for k in dict.fromkeys(kinds))
