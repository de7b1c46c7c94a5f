"""A latency model of an hls4ml design, per layer and in total, from hls4ml's converted ModelGraph
(the layers, shapes, reuse factors and strategies it synthesises), for both IO styles. Modeled, and
labelled so: no HLS report exists without Vitis HLS, and hls4ml.report only parses one.

The basis of each number (hls4ml 1.3's templates, nnet_utils):

- A dense kernel with reuse factor R (nnet_dense_latency.h / nnet_dense_resource.h, also the kernel
  of every convolution per output pixel) takes R cycles of multiplies, an adder tree of
  ceil(log2(n_in / R)) levels and 2 cycles of registers (`dense_cycles`).
- io_parallel (the MLPs): the top function is one pipeline; each Dense takes dense_cycles, an
  activation, batch norm or merge one cycle, and the accelerator reads its n_in input words and
  writes its n_out output words one per cycle (as the published AD08 top, myproject_axi, moves them).
- io_stream (the CNNs): every layer is a process of a dataflow region, reading one packet (one
  pixel's channels) per initiation interval: a convolution's pixel loop is pipelined at II = R
  (nnet_conv2d_stream.h `PIPELINE II=reuse_factor`) over every input pixel of its zero-padded input,
  and it can first write once its line buffer holds (KH - 1) rows and KW pixels; pooling, activation,
  padding, add and clone layers take one packet per cycle; a dense layer or a global pooling after
  them reads its whole input first. The first and last packet of each layer's output are followed
  through the graph (a layer works at the slower of its own interval and its input's arrival), so
  the total is the time the last layer writes its last packet: one inference's latency, as the
  EEMBC loop runs one inference at a time, not the initiation interval. FIFOs are taken to be deep
  enough not to stall (hls4ml sizes each to its tensor's packets).
"""

from __future__ import annotations

import math


def dense_cycles(n_in: int, reuse: int) -> int:
    """One dense kernel's latency: R multiply cycles, the adder tree, 2 register stages."""
    return reuse + math.ceil(math.log2(max(n_in // reuse, 1))) + 2


def _reuse(layer) -> int:
    return int(layer.get_attr("reuse_factor", 1) or 1)


def _kernel_inputs(layer) -> int:
    """The products summed per output of a dense kernel (per output pixel for a convolution)."""
    a = layer.get_attr
    if layer.class_name == "Dense":
        return int(a("n_in"))
    kernel = (a("filt_height", 1) or 1) * (a("filt_width", 1) or 1)
    return kernel if "Depthwise" in layer.class_name else kernel * int(a("n_chan"))


def _packets(var) -> int:
    """Packets of a stream: one per pixel (all but the channel dimension)."""
    shape = [int(d) for d in var.shape]
    return math.prod(shape[:-1]) if len(shape) > 1 else 1


def model(hls_model) -> dict:
    """{"cycles": the accelerator's cycles per inference, "layers": [{name, kind, ...cycles}], "basis"}."""
    io = hls_model.config.get_config_value("IOType")
    return _stream(hls_model) if io == "io_stream" else _parallel(hls_model)


def _parallel(hls_model) -> dict:
    ins, outs = hls_model.get_input_variables(), hls_model.get_output_variables()
    n_in, n_out = sum(v.size() for v in ins), sum(v.size() for v in outs)
    total, layers = n_in + n_out, [{"name": "I/O words", "kind": "axi", "cycles": n_in + n_out}]
    for layer in hls_model.get_layers():
        kind = layer.class_name
        if kind in ("Dense", "Conv1D", "Conv2D", "PointwiseConv1D", "PointwiseConv2D", "DepthwiseConv1D", "DepthwiseConv2D"):
            partitions = int(layer.get_attr("n_partitions", 1) or 1)  # io_parallel convolutions: output pixel groups
            c = partitions * dense_cycles(_kernel_inputs(layer), _reuse(layer))
        elif kind in ("Input", "Reshape", "Clone"):
            continue
        else:
            c = 1
        total += c
        layers.append({"name": layer.name, "kind": kind, "reuse_factor": _reuse(layer), "cycles": c})
    return {"cycles": total, "layers": layers,
            "basis": "io_parallel: I/O words one per cycle + each layer in turn (dense: R + adder tree + 2)"}


def _stream(hls_model) -> dict:
    timing: dict[str, tuple[float, float, int]] = {}  # tensor -> (first packet, last packet) cycle, packets
    layers = []
    for layer in hls_model.get_layers():
        kind, a = layer.class_name, layer.get_attr
        out = layer.get_output_variable()
        if kind == "Input":
            n = _packets(out)
            timing[layer.outputs[0]] = (0.0, float(n - 1), n)  # one packet per cycle from the DMA
            continue
        srcs = [timing[name] for name in layer.inputs if name in timing]
        if not srcs:
            raise KeyError(f"{layer.name}: no timing for its inputs {layer.inputs}")
        first_in, last_in, n = max(s[0] for s in srcs), max(s[1] for s in srcs), srcs[0][2]
        if kind == "Reshape":
            for name in layer.outputs:
                timing[name] = (first_in, last_in, n)  # an alias of the same stream (io_stream reshapes copy nothing)
            continue
        r = _reuse(layer)
        ii, need, depth = 1, 1, 1
        if kind in ("Conv1D", "Conv2D", "PointwiseConv1D", "PointwiseConv2D", "DepthwiseConv1D", "DepthwiseConv2D"):
            kh, kw, iw = (a("filt_height", 1) or 1), a("filt_width"), a("in_width")
            ii, need, depth = r, (kh - 1) * iw + kw, dense_cycles(_kernel_inputs(layer), r)
        elif kind in ("Pooling1D", "Pooling2D"):
            ph, pw, iw = (a("pool_height", 1) or 1), a("pool_width"), a("in_width")
            need, depth = (ph - 1) * iw + pw, math.ceil(math.log2(max(ph * pw, 2))) + 3
        elif kind in ("GlobalPooling1D", "GlobalPooling2D"):
            need, depth = n, 3
        elif kind == "Dense":  # reads its whole input, then one dense kernel
            need, depth = n, dense_cycles(_kernel_inputs(layer), r)
        elif kind == "BatchNormalization":
            depth = 3
        elif kind in ("ZeroPadding1D", "ZeroPadding2D"):  # writes every padded pixel, one per cycle
            n_out = _packets(out)
            tail = (a("pad_bottom", 0) or 0) * a("out_width") + (a("pad_right", 0) or 0)
            first, last = first_in + 1, max(last_in + tail + 1, first_in + n_out)
            timing[layer.outputs[0]] = (first, last, n_out)
            layers.append({"name": layer.name, "kind": kind, "packets_in": n, "first_out": first, "last_out": last,
                           "cycles": last - first_in})
            continue
        interval = max(ii, (last_in - first_in) / max(n - 1, 1))  # the slower of the layer and its input
        first = first_in + (need - 1) * interval + depth
        last = max(last_in, first_in + (n - 1) * ii) + depth
        for name in layer.outputs:
            timing[name] = (first, last, _packets(out))
        layers.append({"name": layer.name, "kind": kind, "reuse_factor": r, "ii": ii, "packets_in": n,
                       "first_out": round(first), "last_out": round(last), "cycles": round(last - first_in)})
    (out_name,) = hls_model.outputs
    total = math.ceil(timing[out_name][1]) + 1  # + writing the last packet out
    return {"cycles": total, "layers": layers,
            "basis": "io_stream: a dataflow of layers, one packet (pixel) per initiation interval each (convolutions "
                     "II = R over their padded input, first output after (KH-1) rows + KW pixels); the time of the "
                     "last output packet"}

