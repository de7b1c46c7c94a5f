"""A model brought from elsewhere (model=path/to/model.onnx, a QONNX file), imported where `train`
would train: cleaned by qonnx, checked against the task's input size, and run with qonnx's
execute_onnx on every file of its own EEMBC test folder, which gives the host-side accuracy and
the outputs the toolchain's emulation is compared with.

The user declares how the test files' bytes become the model's float input: the recipe turns the
bytes into integers k with the declared zero point (kws: int8 - zero point, as its firmware does)
and the model takes x = k * input_scale (float_input). Imported models are reported, not gated."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from common.errors import ConfigError
from common.jsonio import write_json

MODEL_FILE, INPUT_FILE, OUTPUTS_FILE = "model.onnx", "input.json", "outputs.npy"


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


def execute(m, x: np.ndarray) -> np.ndarray:
    """qonnx's execute_onnx, one input at a time (the model's batch dimension is what it was exported with)."""
    from qonnx.core.onnx_exec import execute_onnx
    from tqdm import tqdm

    name_in, name_out = m.graph.input[0].name, m.graph.output[0].name
    shape = input_shape(m)
    return np.stack([execute_onnx(m, {name_in: xi.reshape(shape)})[name_out].reshape(-1)
                     for xi in tqdm(x, desc="execute_onnx", unit="input", disable=len(x) < 100)])


def import_qonnx(recipe, path: Path, eembc: Path, data_kind: str, scale: float, zero_point: int, out: Path) -> dict:
    from tasks.gate import top1_gate

    m = load(path)
    n = int(np.prod(input_shape(m)))
    if n != recipe.input_bytes:
        raise ConfigError(f"model={path}: its input {input_shape(m)} has {n} values; a {recipe.model_id} test file "
                          f"has {recipe.input_bytes} bytes, one per input value")
    k, labels = recipe.external_inputs(eembc, zero_point)
    outputs = execute(m, float_input(k, scale))
    m.save(str(out / MODEL_FILE))  # one file: weights kept in ONNX external data are read in and written back inline
    np.save(out / OUTPUTS_FILE, outputs)
    write_json(out / INPUT_FILE, {"scale": scale, "zero_point": zero_point, "k_range": list(recipe.external_range(zero_point)),
                                  "source": str(Path(path).resolve()), "sha256": fingerprint(path)})
    return top1_gate(outputs.argmax(1), labels, f"imported QONNX model {Path(path).name} (execute_onnx)", data_kind, 0.0,
                     out, {"qonnx": MODEL_FILE, "input": INPUT_FILE, "outputs": OUTPUTS_FILE})
