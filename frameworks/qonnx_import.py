"""A QONNX model trained elsewhere, read with qonnx: loaded and cleaned (a clear message for what
is not one), executed with qonnx's execute_onnx, and fed its float input x = k * scale for the
integers k the firmware gives it (tasks/imported_model.py imports one for a task)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from common.errors import ConfigError


def fingerprint(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def float_input(k: np.ndarray, scale: float) -> np.ndarray:
    """The model's input for firmware integers k: k * scale in float32 (one rounding, as declared)."""
    return np.asarray(k, dtype=np.float32) * np.float32(scale)


def input_shape(m) -> list[int]:
    return [int(d) for d in m.get_tensor_shape(m.graph.input[0].name)]


def load(path: Path):
    """The QONNX file as a cleaned qonnx ModelWrapper, with a message for what is not one."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"model={path}: no such file")
    try:
        return cleanup_model(ModelWrapper(str(path)))
    except Exception as e:  # onnx raises its own DecodeError etc.; all mean the same to the user
        raise ConfigError(f"model={path}: not a readable ONNX/QONNX file ({type(e).__name__}: {e})") from e


def with_batch(m, batch: int):
    """A copy of m whose graph input and output take `batch` inputs at once, its other shapes left to
    qonnx to infer again: every op acts on each batch row alone, numpy doing many rows per call, but a
    batched float MatMul may sum in another order than a single row (last-bit differences, about 1e-7
    relative, measured on the kws and ad references): for checks by argmax or tolerance, not for
    bit-exactness. For graphs with a fixed batch dimension of 1 (frameworks/tflite_qonnx.py)."""
    import copy

    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    m = ModelWrapper(copy.deepcopy(m.model))  # the caller's model stays as it is
    del m.graph.value_info[:]
    for value in (m.graph.input[0], m.graph.output[0]):
        value.type.tensor_type.shape.dim[0].dim_value = batch
    return cleanup_model(m)


def execute_batched(m, x: np.ndarray, batch: int = 256) -> np.ndarray:
    """execute_onnx over x in batches of `batch` (the last one padded with zeros, their outputs dropped)."""
    from qonnx.core.onnx_exec import execute_onnx
    from tqdm import tqdm

    shape = input_shape(m)
    batched = with_batch(m, batch)
    name_in, name_out = batched.graph.input[0].name, batched.graph.output[0].name
    x = np.asarray(x, dtype=np.float32).reshape(len(x), *shape[1:])
    rows = []
    for start in tqdm(range(0, len(x), batch), desc="execute_onnx", unit=f"x{batch} inputs", disable=len(x) <= batch):
        chunk = x[start:start + batch]
        padded = np.concatenate([chunk, np.zeros((batch - len(chunk), *chunk.shape[1:]), np.float32)])
        rows.append(execute_onnx(batched, {name_in: padded})[name_out].reshape(batch, -1)[:len(chunk)])
    return np.concatenate(rows)


def execute(m, x: np.ndarray) -> np.ndarray:
    """qonnx's execute_onnx, one input at a time (the model's batch dimension is what it was exported with)."""
    from qonnx.core.onnx_exec import execute_onnx
    from tqdm import tqdm

    name_in, name_out = m.graph.input[0].name, m.graph.output[0].name
    shape = input_shape(m)
    return np.stack([execute_onnx(m, {name_in: xi.reshape(shape)})[name_out].reshape(-1)
                     for xi in tqdm(x, desc="execute_onnx", unit="input", disable=len(x) < 100)])
