"""A latency model of an hls4ml design, per layer and in total, from hls4ml's converted ModelGraph
(the layers, shapes, reuse factors and strategies it synthesises), for both IO styles. Modeled, and
labelled so: no HLS report exists without Vitis HLS, and hls4ml.report only parses one.

The basis of each number (hls4ml 1.3's templates, nnet_utils):

- A dense kernel with reuse factor R (nnet_dense_latency.h / nnet_dense_resource.h, also the kernel
  of every convolution per output pixel) takes R cycles of multiplies, an adder tree of
  ceil(log2(n_in / R)) levels and 2 cycles of registers (`dense_cycles`).
- io_parallel (the MLPs): the top function is one pipeline; each Dense takes dense_cycles, an
  activation, batch norm or merge one cycle, and the accelerator reads its n_in input words and
  writes its n_out output words one per cycle.
- io_stream (the CNNs): every layer is a process of a dataflow region, reading one packet (one
  pixel's channels) per initiation interval: under the Latency strategy a convolution's pixel loop is
  pipelined at II = R (nnet_conv2d_stream.h `PIPELINE II=reuse_factor`, Latency and
  DistributedArithmetic only) over every input pixel of its zero-padded input; under the Resource
  strategy that loop is not pipelined: every input pixel shifts the line buffer (PIXEL_CYCLES) and
  only a pixel that completes an output window (one in stride^2 for a strided convolution) runs the
  dense kernel (`dense_cycles`), so a stride-4 convolution costs 1/16 of its input pixels' kernels.
  Pooling, activation, padding, add and clone layers take one packet per cycle; a dense layer or a
  global pooling after them reads its whole input first. The model's input and output cross the board
  IP's AXI-stream top one 32-bit word a cycle (accel_axis.cpp): an input packet of C channels arrives
  every C cycles, and the last output packet takes its channels' cycles to leave. Every packet of every stream is followed
  through the graph (a layer takes a packet when it has arrived and the layer is free), so the
  outputs a convolution can compute only once the zero padding after the last real row has arrived
  (the last rows of a 'same' convolution) are counted after it, and the total is the time the last
  layer writes its last packet: one inference's latency, as the EEMBC loop runs one inference at a
  time, not the initiation interval. FIFOs are taken to be deep enough not to stall (hls4ml sizes
  each to its tensor's packets; fifo_depths.py to the occupancy this timeline gives them). Each packet's
  read time is kept beside its write time (`reads`, `writes`) for that.
"""

from __future__ import annotations

import math

# an input pixel of a Resource-strategy convolution that completes no output window: the call of
# compute_output_buffer_2d (INLINE OFF), the line-buffer shift and the window check (an assumption:
# no synthesis report here; it moves a 32x32 layer by about 3k cycles)
PIXEL_CYCLES = 3
CONV_KINDS = ("Conv1D", "Conv2D", "Conv2DBatchnorm", "PointwiseConv1D", "PointwiseConv2D", "DepthwiseConv1D",
              "DepthwiseConv2D")


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


def _words_per_packet(var) -> int:
    """32-bit words of one packet (one pixel's channels) of a stream, as the board IP's top moves them."""
    shape = [int(d) for d in var.shape]
    return shape[-1] if shape else 1


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
        if kind == "Dense" or kind in CONV_KINDS:
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


def _windows(layer, n: int, kind: str) -> list[bool]:
    """For each input packet of a sliding-window layer (raster order over its already padded input): does
    it complete an output window? (nnet_conv_stream.h's pixel and stride counters: row >= KH-1, column >=
    KW-1, and both on the stride grid.)"""
    a = layer.get_attr
    pool = kind.startswith("Pooling")
    kh = (a("pool_height") if pool else a("filt_height")) or 1
    kw = a("pool_width") if pool else a("filt_width")
    sh, sw = (a("stride_height") or 1), (a("stride_width") or 1)
    iw = a("in_width")
    done = []
    for p in range(n):
        y, x = divmod(p, iw)
        done.append(y >= kh - 1 and x >= kw - 1 and (y - kh + 1) % sh == 0 and (x - kw + 1) % sw == 0)
    return done


def _sliding(arrive: list[float], windows: list[bool], pixel: float, kernel: float,
             pipelined: bool) -> tuple[list[float], list[float]]:
    """Output packet times, and the times each input packet is read, of a layer that reads one packet per
    iteration and computes when a window is complete: pipelined at II = `pixel` (every iteration takes
    it, the kernel's depth `kernel` after it), or unpipelined (every iteration takes `pixel`, a window's
    iteration `kernel` more)."""
    out, reads, t = [], [], -math.inf
    for when, full in zip(arrive, windows):
        if pipelined:
            t = max(t + pixel, when)
            reads.append(t)
            if full:
                out.append(t + kernel)
        else:
            reads.append(max(t, when))
            t = reads[-1] + pixel + (kernel if full else 0)
            if full:
                out.append(t)
    return out, reads


def _elementwise(arrive: list[float], depth: float) -> tuple[list[float], list[float]]:
    """One packet per cycle, each `depth` cycles after it is read (activations, batch norm, merges,
    clones, and the reading of a dense layer or global pooling): output and read times."""
    reads, t = [], -math.inf
    for when in arrive:
        t = max(t + 1, when)
        reads.append(t)
    return [r + depth for r in reads], reads


def _padding(layer, arrive: list[float]) -> tuple[list[float], list[float]]:
    """ZeroPadding2D/1D: the padded image in raster order, a pad packet one cycle after the one before,
    a real packet when it has arrived (and is read); output and read times."""
    a = layer.get_attr
    ow = a("out_width")
    oh = a("out_height") or 1
    top, left = (a("pad_top", 0) or 0), (a("pad_left", 0) or 0)
    iw, ih = a("in_width"), (a("in_height") or 1)
    out, reads, t, k = [], [], -math.inf, 0
    for y in range(oh):
        for x in range(ow):
            real = top <= y < top + ih and left <= x < left + iw
            t = max(t + 1, arrive[k]) if real else (t + 1 if out else (arrive[0] if arrive else 0.0))
            if real:
                reads.append(t)
            k += real
            out.append(t)
    return out, reads


def _stream(hls_model) -> dict:
    timing: dict[str, list[float]] = {}  # tensor -> the cycle each of its packets is written
    reads: dict[str, list[float]] = {}  # stream -> the cycle its reader takes each packet
    stream_of: dict[str, str] = {}  # a reshape's tensor -> the stream it aliases
    layers = []
    for layer in hls_model.get_layers():
        kind, a = layer.class_name, layer.get_attr
        out = layer.get_output_variable()
        if kind == "Input":  # the board IP's top reads one 32-bit word a cycle: a packet per channels' worth
            words = _words_per_packet(out)
            timing[layer.outputs[0]] = [float(words * (i + 1) - 1) for i in range(_packets(out))]
            continue
        srcs = [timing[name] for name in layer.inputs if name in timing]
        if not srcs:
            raise KeyError(f"{layer.name}: no timing for its inputs {layer.inputs}")
        arrive = [max(ts) for ts in zip(*srcs)]  # a merge takes packet i when every input has it
        n = len(arrive)
        if kind == "Reshape":
            for name in layer.outputs:
                timing[name] = arrive  # an alias of the same stream (io_stream reshapes copy nothing)
                stream_of[name] = stream_of.get(layer.inputs[0], layer.inputs[0])
            continue
        r = _reuse(layer)
        entry = {"name": layer.name, "kind": kind, "reuse_factor": r, "packets_in": n}
        if kind in CONV_KINDS:
            kernel = dense_cycles(_kernel_inputs(layer), r)
            resource = str(a("strategy", "latency")).lower().startswith("resource")
            times, taken = _sliding(arrive, _windows(layer, n, kind), PIXEL_CYCLES if resource else r, kernel, not resource)
            entry.update(kernel_cycles=kernel, pixel_loop="unpipelined" if resource else f"II={r}")
        elif kind in ("Pooling1D", "Pooling2D"):
            depth = math.ceil(math.log2(max((a("pool_height", 1) or 1) * a("pool_width"), 2))) + 3
            times, taken = _sliding(arrive, _windows(layer, n, kind), 1, depth, True)
        elif kind in ("GlobalPooling1D", "GlobalPooling2D"):  # reads its whole input a packet a cycle
            _, taken = _elementwise(arrive, 0)
            times = [taken[-1] + 3]
        elif kind == "Dense":  # reads its whole input, then one dense kernel
            _, taken = _elementwise(arrive, 0)
            times = [taken[-1] + dense_cycles(_kernel_inputs(layer), r)] * _packets(out)
        elif kind in ("ZeroPadding1D", "ZeroPadding2D"):
            times, taken = _padding(layer, arrive)
        else:
            times, taken = _elementwise(arrive, 3 if kind == "BatchNormalization" else 1)
        for name in layer.inputs:
            reads[stream_of.get(name, name)] = taken
        if len(times) != _packets(out):
            raise ValueError(f"{layer.name} ({kind}): {len(times)} output packets modeled, its tensor has {_packets(out)}")
        for name in layer.outputs:
            timing[name] = times
        entry.update(first_out=round(times[0]), last_out=round(times[-1]), cycles=round(times[-1] - arrive[0]))
        layers.append(entry)
    (out_name,) = hls_model.outputs
    # + writing the last packet out, a word a cycle (the board IP's top: toolchains/hls4ml/accel_axis.cpp)
    total = math.ceil(timing[out_name][-1]) + _words_per_packet(hls_model.get_output_variables()[0])
    return {"cycles": total, "layers": layers, "writes": {k: v for k, v in timing.items() if k not in stream_of},
            "reads": reads,
            "basis": "io_stream: a dataflow of layers followed packet by packet (Latency convolutions II = R "
                     "over their padded input; Resource convolutions a dense kernel per completed window and "
                     f"{PIXEL_CYCLES} cycles per input pixel, unpipelined; other layers one packet per cycle); "
                     "the time of the last output packet"}

