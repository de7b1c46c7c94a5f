"""A fast, bit-exact emulator of a streamlined FINN graph: C generated from the graph's integer
MatMuls, MultiThresholds and final per-channel Mul/Add, compiled into the emulated DUT (behind
accel.h, accel_finn.c) and, as a shared library, called from Python to check it against qonnx's
execute_onnx on every test input.

Exactness: the graph's tensors are float32 holding integers (execute_onnx's arithmetic). Here a
MatMul accumulates in int64, equal to float32 as long as every sum stays below 2^24 (else
execute_onnx itself rounds, and the check says so); thresholds compare the same values; the final
Mul/Add are single float32 operations, as numpy does them (compiled with -ffp-contract=off).
Supported: fully connected graphs (the KWS and AD MLPs). Convolution graphs (Im2Col, pooling)
are not yet: they stop with the op's name."""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path

import numpy as np

from common.errors import BuildError

SUPPORTED = ("MatMul", "MultiThreshold", "Mul", "Add")
SOURCE, HEADER, LIBRARY = "finn_model.c", "finn_model.h", "libfinn_model.so"


def _c_array(name: str, values: np.ndarray, ctype: str) -> str:
    flat = values.ravel()
    fmt = (lambda v: f"{float(v)!r}f".replace("inff", "INFINITY")) if ctype == "float" else (lambda v: str(int(v)))
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


def generate(model_path: Path, out: Path) -> tuple[int, int]:
    """Write finn_model.c/.h under out for the streamlined graph; returns (inputs, outputs)."""
    from qonnx.core.modelwrapper import ModelWrapper

    m = ModelWrapper(str(model_path))
    unsupported = sorted({n.op_type for n in m.graph.node} - set(SUPPORTED))
    if unsupported:
        raise BuildError(f"the FINN emulator handles fully connected graphs ({', '.join(SUPPORTED)}); "
                         f"{model_path.name} also has {', '.join(unsupported)} (convolutions are not supported yet)")
    name_in = m.graph.input[0].name
    shape_in = m.get_tensor_shape(name_in)
    if len(shape_in) != 2:
        raise BuildError(f"the FINN emulator expects a (1, N) input, got {shape_in}")
    sizes = {name_in: shape_in[1]}
    data, body = [], []
    current = name_in
    body.append(f"    const float *t0 = in;\n")
    var = {name_in: "t0"}
    for i, node in enumerate(m.graph.node):
        x = node.input[0]
        if x != current:
            raise BuildError(f"the FINN emulator expects a chain of layers; {node.name} reads {x}")
        n_in = sizes[x]
        src, dst = var[x], f"t{i + 1}"
        param = m.get_initializer(node.input[1])
        if param is None:
            raise BuildError(f"{node.name}: its second input {node.input[1]} is not a constant")
        if node.op_type == "MatMul":
            k, n = param.shape
            if k != n_in or not np.array_equal(param, np.round(param)):
                raise BuildError(f"{node.name}: expected integer weights {n_in} x N, got {param.shape}")
            data.append(_c_array(f"w{i}", param.T.astype(np.int64), _int_type(param)))  # row j: output j's weights
            body.append(f"    static float {dst}[{n}];\n"
                        f"    for (int j = 0; j < {n}; ++j) {{\n"
                        f"        int64_t acc = 0;\n"
                        f"        for (int k = 0; k < {k}; ++k) acc += (int64_t){src}[k] * w{i}[j * {k} + k];\n"
                        f"        {dst}[j] = (float)acc;\n"
                        f"    }}\n")
        elif node.op_type == "MultiThreshold":
            if _attr(node, "data_layout", "NC") not in ("NC", "NHWC", "NCHW") or param.ndim != 2:
                raise BuildError(f"{node.name}: unexpected thresholds {param.shape}")
            n = n_in
            channels, steps = param.shape
            scale, bias = float(_attr(node, "out_scale", 1.0)), float(_attr(node, "out_bias", 0.0))
            data.append(_c_array(f"th{i}", param.astype(np.float32), "float"))
            row = "j" if channels == n else "0"
            body.append(f"    static float {dst}[{n}];\n"
                        f"    for (int j = 0; j < {n}; ++j) {{\n"
                        f"        int count = 0;\n"
                        f"        for (int s = 0; s < {steps}; ++s) count += {src}[j] >= th{i}[{row} * {steps} + s];\n"
                        f"        {dst}[j] = (float)count * {scale!r}f + {bias!r}f;\n"
                        f"    }}\n")
        else:  # Mul / Add by a constant, per channel or scalar
            flat = param.astype(np.float32).ravel()
            n = n_in
            if flat.size not in (1, n):
                raise BuildError(f"{node.name}: a constant of {param.shape} for {n} channels")
            data.append(_c_array(f"c{i}", flat, "float"))
            op = "*" if node.op_type == "Mul" else "+"
            idx = "j" if flat.size == n else "0"
            body.append(f"    static float {dst}[{n}];\n"
                        f"    for (int j = 0; j < {n}; ++j) {dst}[j] = {src}[j] {op} c{i}[{idx}];\n")
        sizes[node.output[0]], var[node.output[0]], current = n, dst, node.output[0]
    if current != m.graph.output[0].name:
        raise BuildError("the FINN emulator expects the last node to give the graph output")
    n_out = sizes[current]
    (out / HEADER).write_text(
        "/* Generated from the streamlined FINN graph by toolchains/finn/emulator.py: do not edit. */\n"
        "#ifndef FINN_MODEL_H\n#define FINN_MODEL_H\n"
        f"#define FINN_N_IN {shape_in[1]}\n#define FINN_N_OUT {n_out}\n"
        "void finn_model(const float *in, float *out);\n"
        "void finn_model_batch(const float *in, float *out, int n);\n#endif\n")
    (out / SOURCE).write_text(
        f"/* Generated from {model_path.name} by toolchains/finn/emulator.py: do not edit. */\n"
        "#include <math.h>\n#include <stdint.h>\n\n#include \"finn_model.h\"\n\n" + "".join(data) +
        "\nvoid finn_model(const float *in, float *out) {\n" + "".join(body) +
        f"    for (int j = 0; j < FINN_N_OUT; ++j) out[j] = {var[current]}[j];\n}}\n\n"
        "void finn_model_batch(const float *in, float *out, int n) {\n"
        "    for (int i = 0; i < n; ++i) finn_model(in + (long)i * FINN_N_IN, out + (long)i * FINN_N_OUT);\n}\n")
    return shape_in[1], n_out


def compile_library(out: Path) -> Path:
    lib = out / LIBRARY
    proc = subprocess.run(["gcc", "-O2", "-ffp-contract=off", "-shared", "-fPIC", str(out / SOURCE), "-o", str(lib)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"compiling the FINN emulator failed:\n{proc.stderr[-3000:]}")
    return lib


def run(lib: Path, inputs: np.ndarray, n_out: int) -> np.ndarray:
    """The emulator on every input (N x n_in float32 integers) -> N x n_out float32."""
    so = ctypes.CDLL(str(lib))
    x = np.ascontiguousarray(inputs, dtype=np.float32)
    y = np.zeros((len(x), n_out), dtype=np.float32)
    ptr = ctypes.POINTER(ctypes.c_float)
    so.finn_model_batch(x.ctypes.data_as(ptr), y.ctypes.data_as(ptr), ctypes.c_int(len(x)))
    return y
