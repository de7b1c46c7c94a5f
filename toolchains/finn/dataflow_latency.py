"""One inference's latency through a FINN dataflow pipeline whose layers overlap (modeled, cycles).

FINN's critical path (finn.analysis.fpgadataflow.dataflow_performance) adds up every layer's whole-frame
cycles, "very pessimistic, it assumes no overlap between executions" (its own docstring). In the
hardware a layer starts as soon as its first input words arrive: a convolution's sliding window emits
its first window after K-1 rows, so on a CNN most of the layers run at the same time and one image's
latency lies well below the sum (on an MLP, where each layer needs its whole input vector, the two
nearly agree). Here every layer is followed word by word through its folded stream:

    t_out[j] = max(t_out[j-1], t_in[need(j)]) + c(j)

(a step j of the layer starts when its previous step is done and the input word it needs has arrived,
and takes c(j) cycles), solved in closed form with cumulative maxima. The steps follow the layers'
loops: an MVAU runs NF x SF steps of one cycle per input vector, reading its SF input words during
the first neuron fold (finn-hlslib's Matrix_Vector_Activate_Batch), a sliding window emits one word
per cycle, each needing the input pixel and channel fold it copies, a Pool reads one word per cycle;
other layers (thresholds, elementwise, width converters) emit their outputs evenly over their own
cycle estimate, each after the proportional share of its input (a LabelSelect or a global pool writes
after reading its whole input). The input arrives one word per cycle from cycle 0 (a data mover at the first
layer's stream width).

Assumptions that make this a lower bound of the pipeline's latency rather than a measurement: FIFOs
between layers never fill (FINN sizes them so that they rarely throttle), each layer's few cycles of
pipeline depth and the width converters and FIFOs the stitched design inserts are not counted, nor
the output's data mover."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.errors import ConfigError

WHOLE_FRAME = ("LabelSelect", "GlobalAccPool")  # an output that depends on the whole input


def _kind(op_type: str) -> str:
    for suffix in ("_hls", "_rtl"):
        op_type = op_type.removesuffix(suffix)
    return op_type


def _run(steps_c: np.ndarray, arrival: np.ndarray) -> np.ndarray:
    """Finishing time of each step: t[j] = max(t[j-1], arrival[j]) + c[j] (arrival -inf: no input needed)."""
    done = np.cumsum(steps_c)
    before = done - steps_c  # the steps' own work before j
    return done + np.maximum.accumulate(np.maximum(arrival - before, 0.0))


def _words(shape) -> int:
    return int(np.prod(shape[:-1]))


def mvau(op, t_in: np.ndarray) -> np.ndarray:
    """Matrix_Vector_Activate_Batch: per input vector NF x SF one-cycle steps; the steps of the first
    neuron fold read the SF input words; each neuron fold's last step writes an output word."""
    mw, mh, simd, pe = (op.get_nodeattr(a) for a in ("MW", "MH", "SIMD", "PE"))
    sf, nf = mw // simd, mh // pe
    vectors = len(t_in) // sf
    arrival = np.full((vectors, nf, sf), -np.inf)
    arrival[:, 0, :] = t_in.reshape(vectors, sf)
    done = _run(np.ones(arrival.size), arrival.ravel()).reshape(vectors, nf, sf)
    return done[:, :, -1].ravel()


def sliding_window(op, t_in: np.ndarray) -> np.ndarray:
    """One output word per cycle, each after the input pixel and channel fold it copies has arrived."""
    (kh, kw), (ih, iw), (oh, ow) = (op.get_nodeattr(a) for a in ("ConvKernelDim", "IFMDim", "OFMDim"))
    (sh, sw), (dh, dw) = op.get_nodeattr("Stride"), op.get_nodeattr("Dilation")
    cf = op.get_nodeattr("IFMChannels") // op.get_nodeattr("SIMD")
    if len(t_in) != ih * iw * cf:
        raise ConfigError(f"{op.onnx_node.name}: {len(t_in)} input words, expected {ih * iw * cf}")
    if op.get_nodeattr("parallel_window"):  # a whole window (of one channel fold) per word, after its last pixel
        oy, ox, c = np.meshgrid(np.arange(oh), np.arange(ow), np.arange(cf), indexing="ij")
        need = (((oy * sh + (kh - 1) * dh) * iw + ox * sw + (kw - 1) * dw) * cf + c).ravel()
        return _run(np.ones(need.size), t_in[need])
    oy, ox, ky, kx, c = np.meshgrid(np.arange(oh), np.arange(ow), np.arange(kh), np.arange(kw), np.arange(cf), indexing="ij")
    if op.get_nodeattr("depthwise"):  # windows emitted channel fold first
        oy, ox, ky, kx, c = (a.transpose(0, 1, 4, 2, 3) for a in (oy, ox, ky, kx, c))
    need = (((oy * sh + ky * dh) * iw + ox * sw + kx * dw) * cf + c).ravel()
    return _run(np.ones(need.size), t_in[need])


def reading(t_in: np.ndarray, n_out: int) -> np.ndarray:
    """One input word read per cycle; output k written with the last of its share of the input (a Pool)."""
    done = _run(np.ones(len(t_in)), t_in)
    per = len(t_in) // n_out
    return done[per - 1::per][:n_out]


def even(t_in: np.ndarray, n_out: int, cycles: float) -> np.ndarray:
    """Outputs spread evenly over the layer's cycles, each after its proportional share of the input."""
    need = np.ceil((np.arange(n_out) + 1) * len(t_in) / n_out).astype(int) - 1
    return _run(np.full(n_out, max(cycles, n_out) / n_out), t_in[need])


def whole_frame(t_in: np.ndarray, n_out: int, cycles: float) -> np.ndarray:
    """Every input word read (evenly over the layer's cycles but its outputs), then one output word per cycle."""
    read = _run(np.full(len(t_in), max(cycles - n_out, len(t_in)) / len(t_in)), t_in)
    return read[-1] + np.arange(1, n_out + 1)


def layer_times(op, kind: str, t_in: np.ndarray) -> np.ndarray:
    n_out = _words(op.get_folded_output_shape())
    if kind == "MVAU":
        out = mvau(op, t_in)
    elif kind == "ConvolutionInputGenerator":
        out = sliding_window(op, t_in)
    elif kind == "Pool":
        out = reading(t_in, n_out)
    else:
        out = (whole_frame if kind in WHOLE_FRAME else even)(t_in, n_out, float(op.get_exp_cycles()))
    if len(out) != n_out:
        raise ConfigError(f"{op.onnx_node.name}: modeled {len(out)} output words, its folded shape has {n_out}")
    return out


def latency(model_path: Path) -> dict:
    """{'cycles': one inference's modeled latency with overlapping layers, 'layers': {name: cycle of the
    layer's last output word}} for a folded FINN model (e.g. finn_build/intermediate_models/
    step_hw_codegen.onnx); layers in graph order, each fed by its predecessors (the latest word of any)."""
    from finn.util.fpgadataflow import is_hls_node, is_rtl_node
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    model = ModelWrapper(str(model_path))
    finished: dict[str, np.ndarray] = {}  # tensor name -> arrival cycle of each of its words
    layers = {}
    for node in model.graph.node:
        if not (is_hls_node(node) or is_rtl_node(node)):
            continue
        op = getCustomOp(node)
        n_in = _words(op.get_folded_input_shape())
        streams = [finished[name] for name in node.input if name in finished]
        if not streams:  # the graph's input: one word per cycle from the data mover
            t_in = np.arange(n_in, dtype=float)
        else:
            t_in = np.max([_resample(s, n_in) for s in streams], axis=0)
        out = layer_times(op, _kind(node.op_type), t_in)
        for name in node.output:
            finished[name] = out
        layers[node.name] = float(out[-1])
    if not layers:
        raise ConfigError(f"{model_path}: no FINN hardware layers")
    return {"cycles": max(layers.values()), "layers": layers}


def _resample(times: np.ndarray, n: int) -> np.ndarray:
    """A stream seen at another word width (a width change between layers): word k of n waits for its
    proportional share of the producer's words."""
    if len(times) == n:
        return times
    return times[np.ceil((np.arange(n) + 1) * len(times) / n).astype(int) - 1]
