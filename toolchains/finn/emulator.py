"""A fast, bit-exact emulator of a streamlined FINN graph: C generated from the graph's integer
MatMuls (and XNOR-popcount MatMuls of binary layers), MultiThresholds, Im2Col (depthwise too: its
MatMul holds the zeros), NHWC max pooling, global accumulation (GlobalAccPool), transposes, per-channel
Mul/Add and the residual adds of two tensors, compiled into the emulated DUT (behind accel.h,
accel_finn.c) and, as a shared library, called from Python to check it against qonnx's
execute_onnx on every test input.

Exactness: the graph's tensors are float32 holding integers (execute_onnx's arithmetic). Here a
MatMul accumulates in integers (int32 where the input's datatype and the weights bound every sum
below 2^31, else int64), equal to float32 as long as every sum stays below 2^24 (else execute_onnx
itself rounds, and the check says so), and skips the zero weights of a mostly-zero (depthwise)
layer; thresholds compare the same values (bisected where they ascend); the
Mul/Add (a residual branch's scale and shift, its join, the final ones) are single float32 operations, as numpy does
them (compiled with -ffp-contract=off).
Supported: the ops of the KWS/AD MLPs, of CNV-style networks and of the MLPerf int8 DS-CNN and ResNet-8; any other
op stops the build with its name."""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path

import numpy as np

from common import shared_library
from common.errors import BuildError

SUPPORTED = ("MatMul", "XnorPopcountMatMul", "MultiThreshold", "Mul", "Add", "Transpose", "Im2Col", "MaxPoolNHWC",
             "GlobalAccPool", "Flatten", "Reshape")
SOURCE, HEADER, LIBRARY = "finn_model.c", "finn_model.h", "libfinn_model.so"
_ROW_BUFFER = {"int32_t": "row_int32", "int64_t": "row_int64"}  # a MatMul's input row as the integers it sums


def _c_array(name: str, values: np.ndarray, ctype: str) -> str:
    flat = values.ravel()
    if ctype == "float":
        fmt = lambda v: f"{float(v)!r}f".replace("inff", "INFINITY")  # noqa: E731
    else:
        suffix = "ULL" if ctype == "uint64_t" else ""
        fmt = lambda v: f"{int(v)}{suffix}"  # noqa: E731
    rows = [", ".join(fmt(v) for v in flat[i:i + 16]) for i in range(0, len(flat), 16)]
    return f"static const {ctype} {name}[{len(flat)}] = {{\n  " + ",\n  ".join(rows) + "\n};\n"


def _int_type(w: np.ndarray) -> str:
    lo, hi = int(w.min()), int(w.max())
    for ctype, bits in (("int8_t", 8), ("int16_t", 16), ("int32_t", 32)):
        if -(2 ** (bits - 1)) <= lo and hi < 2 ** (bits - 1):
            return ctype
    raise BuildError(f"weights outside int32 ({lo}..{hi})")


def _attr(node, name: str, default=None):
    for a in node.attribute:
        if a.name == name:
            return a.f if a.type == 1 else a.i if a.type == 2 else a.s.decode()
    return default


def _ints(node, name: str, default: list[int] | None = None) -> list[int]:
    """An integer-list attribute of a node; a missing one without a default is an error."""
    for a in node.attribute:
        if a.name == name:
            return [int(v) for v in a.ints]
    if default is None:
        raise BuildError(f"{node.name}: no attribute {name}")
    return default


def _loops(shape: list[int], body: str, indent: str = "    ") -> str:
    """Nested C loops over every index of shape (variables i0, i1, ...) around body."""
    code, pad = "", indent
    for d, n in enumerate(shape):
        code += f"{pad}for (int i{d} = 0; i{d} < {n}; ++i{d})\n"
        pad += "    "
    return code + f"{pad}{body}\n"


def _flat(shape: list[int], names: list[str]) -> str:
    """The row-major flat index of a multi-index given as C expressions."""
    terms, stride = [], 1
    for n, name in reversed(list(zip(shape, names))):
        terms.append(f"({name}) * {stride}" if stride != 1 else f"({name})")
        stride *= n
    return " + ".join(reversed(terms))


class _Writer:
    """C for one streamlined graph: a static float buffer per tensor, one loop nest per node."""

    def __init__(self, m):
        self.m, self.data, self.body, self.var = m, [], [], {}
        self.row = {"int32_t": 0, "int64_t": 0}  # the longest MatMul input row of each sum type: the shared row buffers

    def shape(self, name: str) -> list[int]:
        return [int(d) for d in self.m.get_tensor_shape(name)]

    def const(self, node, i: int = 1) -> np.ndarray:
        value = self.m.get_initializer(node.input[i])
        if value is None:
            raise BuildError(f"{node.name}: its input {node.input[i]} is not a constant")
        return value

    def buffer(self, name: str) -> str:
        self.var[name] = f"t{len(self.var)}"
        self.body.append(f"    static float {self.var[name]}[{int(np.prod(self.shape(name)))}];\n")
        return self.var[name]

    def matmul(self, i: int, node, xnor: bool) -> None:
        w = self.const(node)
        k, n = w.shape
        if not np.array_equal(w, np.round(w)):
            raise BuildError(f"{node.name}: weights are not integers")
        rows = int(np.prod(self.shape(node.input[0]))) // k
        src, dst = self.var[node.input[0]], self.buffer(node.output[0])
        if xnor:
            self._xnor_popcount(i, w, rows, src, dst)
            return
        # Each input row is converted to integers once, not once per product: on a soft-float core
        # (the Arty's MicroBlaze) every float conversion is a library call.
        acc = "int32_t" if self._int32_sums(node.input[0], w) else "int64_t"
        self.row[acc] = max(self.row[acc], k)
        row = _ROW_BUFFER[acc]
        nonzero = np.count_nonzero(w, axis=0)  # per output
        if nonzero.sum() <= w.size // 2:
            # Mostly zeros (a depthwise layer's Im2Col MatMul holds 1 of every C weights): each output
            # keeps only its non-zero weights and their rows. Leaving out zero products changes no sum.
            start = np.concatenate([[0], np.cumsum(nonzero)])
            output_of, input_of = np.nonzero(w.T)  # each non-zero weight's output j and input q, by j then q
            self.data.append(_c_array(f"ws{i}", start, _int_type(start)))
            self.data.append(_c_array(f"wi{i}", input_of, _int_type(input_of)))
            self.data.append(_c_array(f"w{i}", w.T[output_of, input_of].astype(np.int64), _int_type(w)))
            product = f"for (int p = ws{i}[j]; p < ws{i}[j + 1]; ++p) acc += {row}[wi{i}[p]] * w{i}[p];"
        else:
            self.data.append(_c_array(f"w{i}", w.T.astype(np.int64), _int_type(w)))  # row j: output j's weights
            product = f"for (int q = 0; q < {k}; ++q) acc += {row}[q] * w{i}[j * {k} + q];"
        self.body.append(f"    for (int r = 0; r < {rows}; ++r) {{\n"
                         f"        for (int q = 0; q < {k}; ++q) {row}[q] = ({acc}){src}[r * {k} + q];\n"
                         f"        for (int j = 0; j < {n}; ++j) {{\n"
                         f"            {acc} acc = 0;\n"
                         f"            {product}\n"
                         f"            {dst}[r * {n} + j] = (float)acc;\n        }}\n    }}\n")

    def _int32_sums(self, name: str, w: np.ndarray) -> bool:
        """Whether every product and sum of this MatMul fits int32, from the input's integer datatype
        (qonnx's annotation) and the weights; an unannotated (float) input sums in int64."""
        dt = self.m.get_tensor_datatype(name)
        if not dt.is_integer():
            return False
        largest = max(abs(int(dt.min())), abs(int(dt.max())))
        return largest * int(np.abs(w.astype(np.int64)).sum(axis=0).max()) < 2 ** 31

    def _xnor_popcount(self, i: int, w: np.ndarray, rows: int, src: str, dst: str) -> None:
        """Binary x binary (0/1): the number of equal bits, computed on 64-bit words: pack the input
        row, XOR with the packed weights, count the differing bits (padding bits are equal in both)."""
        k, n = w.shape
        words = -(-k // 64)
        packed = np.zeros((n, words), dtype=np.uint64)  # bit q % 64 of word q // 64: weight q of output j
        for q in range(k):
            packed[:, q // 64] |= (w[q, :] != 0).astype(np.uint64) << np.uint64(q % 64)
        self.data.append(_c_array(f"w{i}", packed, "uint64_t"))
        self.body.append(f"    for (int r = 0; r < {rows}; ++r) {{\n"
                         f"        uint64_t x[{words}] = {{0}};\n"
                         f"        for (int q = 0; q < {k}; ++q) "
                         f"x[q >> 6] |= (uint64_t)({src}[r * {k} + q] != 0.0f) << (q & 63);\n"
                         f"        for (int j = 0; j < {n}; ++j) {{\n"
                         f"            int differ = 0;\n"
                         f"            for (int q = 0; q < {words}; ++q) "
                         f"differ += __builtin_popcountll(x[q] ^ w{i}[j * {words} + q]);\n"
                         f"            {dst}[r * {n} + j] = (float)({k} - differ);\n        }}\n    }}\n")

    def multithreshold(self, i: int, node) -> None:
        th = self.const(node)
        shape = self.shape(node.input[0])
        channels, steps = th.shape
        layout = _attr(node, "data_layout", "NCHW" if len(shape) == 4 else "NC")
        scale, bias = float(_attr(node, "out_scale", 1.0)), float(_attr(node, "out_bias", 0.0))
        inner = int(np.prod(shape[2:])) if layout == "NCHW" else 1
        c_dim = shape[1] if layout == "NCHW" else shape[-1]
        if channels not in (1, c_dim):
            raise BuildError(f"{node.name}: {channels} threshold rows for {c_dim} channels")
        self.data.append(_c_array(f"th{i}", th.astype(np.float32), "float"))
        src, dst = self.var[node.input[0]], self.buffer(node.output[0])
        row = "0" if channels == 1 else f"((e / {inner}) % {c_dim})"
        if np.all(np.diff(th, axis=1) >= 0):
            # Ascending thresholds (as FINN's hardware needs them): the count of thresholds <= x is the
            # first one above x, found by bisection in log2(steps) comparisons instead of steps.
            count = (f"int count = 0, hi = {steps};\n        const float *t = &th{i}[{row} * {steps}];\n"
                     f"        while (count < hi) {{ int mid = (count + hi) >> 1; "
                     f"if ({src}[e] >= t[mid]) count = mid + 1; else hi = mid; }}\n")
        else:
            count = (f"int count = 0;\n"
                     f"        for (int s = 0; s < {steps}; ++s) count += {src}[e] >= th{i}[{row} * {steps} + s];\n")
        self.body.append(f"    for (int e = 0; e < {int(np.prod(shape))}; ++e) {{\n        {count}"
                         f"        {dst}[e] = (float)count * {scale!r}f + {bias!r}f;\n    }}\n")

    def elementwise(self, i: int, node) -> None:
        shape = self.shape(node.input[0])
        op = "*" if node.op_type == "Mul" else "+"
        if self.m.get_initializer(node.input[1]) is None:  # a join (a residual add): two tensors of one shape
            if node.input[1] not in self.var or self.shape(node.input[1]) != shape:
                raise BuildError(f"{node.name}: a join of {node.input[1]} (not computed yet, or of another shape)")
            a, b, dst = self.var[node.input[0]], self.var[node.input[1]], self.buffer(node.output[0])
            self.body.append(f"    for (int e = 0; e < {int(np.prod(shape))}; ++e) {dst}[e] = {a}[e] {op} {b}[e];\n")
            return
        c = self.const(node).astype(np.float32).ravel()
        if c.size not in (1, shape[-1]):
            raise BuildError(f"{node.name}: a constant of {c.size} values for a tensor of shape {shape}")
        self.data.append(_c_array(f"c{i}", c, "float"))
        src, dst = self.var[node.input[0]], self.buffer(node.output[0])
        idx = "0" if c.size == 1 else f"e % {c.size}"
        self.body.append(f"    for (int e = 0; e < {int(np.prod(shape))}; ++e) {dst}[e] = {src}[e] {op} c{i}[{idx}];\n")

    def transpose(self, node) -> None:
        perm = _ints(node, "perm")
        shape_in, shape_out = self.shape(node.input[0]), self.shape(node.output[0])
        src, dst = self.var[node.input[0]], self.buffer(node.output[0])
        # output index (i0..): input index d is output index perm.index(d)
        names_in = [f"i{perm.index(d)}" for d in range(len(shape_in))]
        self.body.append(_loops(shape_out, f"{dst}[{_flat(shape_out, [f'i{d}' for d in range(len(shape_out))])}] = "
                                           f"{src}[{_flat(shape_in, names_in)}];"))

    def im2col(self, node) -> None:
        n, h, w, c = self.shape(node.input[0])
        _, oh, ow, _ = self.shape(node.output[0])
        kh, kw = _ints(node, "kernel_size")
        sh, sw = _ints(node, "stride")
        pad = _ints(node, "pad_amount", [0, 0, 0, 0])
        dil = _ints(node, "dilations", [1, 1])
        if dil != [1, 1]:  # (depthwise only tells FINN's hardware mapping; the patches are the same)
            raise BuildError(f"{node.name}: dilated Im2Col is not supported by the emulator")
        pad_value = float(_attr(node, "pad_value", 0))
        src, dst = self.var[node.input[0]], self.buffer(node.output[0])
        y, x = f"(i0 * {sh} + i2 - {pad[0]})", f"(i1 * {sw} + i3 - {pad[1]})"
        inside = f"{y} >= 0 && {y} < {h} && {x} >= 0 && {x} < {w}"
        self.body.append(_loops([oh, ow, kh, kw, c],
                                f"{dst}[{_flat([oh, ow, kh, kw, c], ['i0', 'i1', 'i2', 'i3', 'i4'])}] = ({inside}) ? "
                                f"{src}[({y} * {w} + {x}) * {c} + i4] : {pad_value!r}f;"))

    def maxpool(self, node) -> None:
        _, h, w, c = self.shape(node.input[0])
        _, oh, ow, _ = self.shape(node.output[0])
        kh, kw = _ints(node, "kernel_shape")
        sh, sw = _ints(node, "strides")
        pads = _ints(node, "pads", [0, 0, 0, 0])
        if any(pads):
            raise BuildError(f"{node.name}: padded max pooling is not supported by the emulator")
        src, dst = self.var[node.input[0]], self.buffer(node.output[0])
        self.body.append(_loops([oh, ow, c],
                                f"{{ float v = -INFINITY; for (int a = 0; a < {kh}; ++a) for (int b = 0; b < {kw}; ++b) "
                                f"{{ float u = {src}[((i0 * {sh} + a) * {w} + i1 * {sw} + b) * {c} + i2]; if (u > v) v = u; }} "
                                f"{dst}[(i0 * {ow} + i1) * {c} + i2] = v; }}"))


    def global_acc_pool(self, node) -> None:
        """The sum over the image of each channel (NHWC in, 1 x 1 x C out), exact in int64 as FINN's adder."""
        _, h, w, c = self.shape(node.input[0])
        src, dst = self.var[node.input[0]], self.buffer(node.output[0])
        self.body.append(f"    for (int ch = 0; ch < {c}; ++ch) {{\n        int64_t acc = 0;\n"
                         f"        for (int p = 0; p < {h * w}; ++p) acc += (int64_t){src}[p * {c} + ch];\n"
                         f"        {dst}[ch] = (float)acc;\n    }}\n")


def generate(model_path: Path, out: Path, host_table: tuple[int, np.ndarray] | None = None) -> tuple[int, int]:
    """Write finn_model.c/.h under out for the streamlined graph; returns (inputs, outputs).
    host_table (k_min, table): the host-side input quantizer of an imported model (host_input.py),
    applied to the integers finn_model is given, so the DUT and the checks both run it."""
    from qonnx.core.modelwrapper import ModelWrapper

    m = ModelWrapper(str(model_path))
    unsupported = sorted({n.op_type for n in m.graph.node} - set(SUPPORTED))
    if unsupported:
        raise BuildError(f"the FINN emulator handles {', '.join(SUPPORTED)}; {model_path.name} also has "
                         f"{', '.join(unsupported)}")
    wr = _Writer(m)
    name_in = m.graph.input[0].name
    n_in = int(np.prod(wr.shape(name_in)))
    wr.var[name_in] = "in"
    prologue = ""
    if host_table is not None:
        k_min, table = host_table
        wr.data.append(_c_array("host_in_table", np.asarray(table, dtype=np.float32), "float"))
        last = len(table) - 1  # integers outside the table (a firmware bug) are clamped, never read out of bounds
        prologue = (f"    float q_in[{n_in}];\n    for (int i = 0; i < {n_in}; ++i) {{ int k = (int)in[i] - ({k_min}); "
                    f"q_in[i] = host_in_table[k < 0 ? 0 : k > {last} ? {last} : k]; }}\n")
        wr.var[name_in] = "q_in"
    for i, node in enumerate(m.graph.node):
        if node.input[0] not in wr.var:
            raise BuildError(f"the FINN emulator expects a chain of layers; {node.name} reads {node.input[0]}")
        if node.op_type in ("MatMul", "XnorPopcountMatMul"):
            wr.matmul(i, node, xnor=node.op_type == "XnorPopcountMatMul")
        elif node.op_type == "MultiThreshold":
            wr.multithreshold(i, node)
        elif node.op_type in ("Mul", "Add"):
            wr.elementwise(i, node)
        elif node.op_type == "Transpose":
            wr.transpose(node)
        elif node.op_type == "Im2Col":
            wr.im2col(node)
        elif node.op_type == "MaxPoolNHWC":
            wr.maxpool(node)
        elif node.op_type == "GlobalAccPool":
            wr.global_acc_pool(node)
        else:  # Flatten, Reshape: the same values in the same order
            wr.var[node.output[0]] = wr.var[node.input[0]]
    name_out = m.graph.output[0].name
    if name_out not in wr.var:
        raise BuildError("the FINN emulator expects the last node to give the graph output")
    n_out = int(np.prod(wr.shape(name_out)))
    (out / HEADER).write_text(
        "/* Generated from the streamlined FINN graph by toolchains/finn/emulator.py: do not edit. */\n"
        "#ifndef FINN_MODEL_H\n#define FINN_MODEL_H\n"
        f"#define FINN_N_IN {n_in}\n#define FINN_N_OUT {n_out}\n"
        "void finn_model(const float *in, float *out);\n"
        "void finn_model_batch(const float *in, float *out, int n);\n#endif\n")
    (out / SOURCE).write_text(
        f"/* Generated from {model_path.name} by toolchains/finn/emulator.py: do not edit. */\n"
        "#include <math.h>\n#include <stdint.h>\n\n#include \"finn_model.h\"\n\n" + "".join(wr.data) +
        "".join(f"static {ctype} {_ROW_BUFFER[ctype]}[{n}];\n" for ctype, n in wr.row.items() if n) +
        "\nvoid finn_model(const float *in, float *out) {\n" + prologue + "".join(wr.body) +
        f"    for (int j = 0; j < FINN_N_OUT; ++j) out[j] = {wr.var[name_out]}[j];\n}}\n\n"
        "void finn_model_batch(const float *in, float *out, int n) {\n"
        "    for (int i = 0; i < n; ++i) finn_model(in + (long)i * FINN_N_IN, out + (long)i * FINN_N_OUT);\n}\n")
    return n_in, n_out


def compile_library(out: Path) -> Path:
    lib = out / LIBRARY
    proc = subprocess.run(["gcc", "-O2", "-ffp-contract=off", "-shared", "-fPIC", str(out / SOURCE), "-o", str(lib)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"compiling the FINN emulator failed:\n{proc.stderr[-3000:]}")
    return lib


def run(lib: Path, inputs: np.ndarray, n_out: int) -> np.ndarray:
    """The emulator on every input (N x n_in float32 integers) -> N x n_out float32."""
    so = shared_library.load(lib)
    x = np.ascontiguousarray(inputs, dtype=np.float32)
    y = np.zeros((len(x), n_out), dtype=np.float32)
    ptr = ctypes.POINTER(ctypes.c_float)
    so.finn_model_batch(x.ctypes.data_as(ptr), y.ctypes.data_as(ptr), ctypes.c_int(len(x)))
    return y
