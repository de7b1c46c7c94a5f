"""A model brought from elsewhere (model=path/to/model.onnx, a QONNX file), imported where `train`
would train: checked against the task's input size and run with qonnx's execute_onnx on every file
of its own EEMBC test folder (frameworks/qonnx_import.py), which gives the host-side accuracy and the
outputs the toolchain's emulation is compared with. The recipe turns the test files' bytes into the
integers k (Recipe.external_inputs); the model takes k * input_scale. Imported models are reported,
not gated."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.errors import ConfigError
from common.jsonio import write_json
from frameworks.qonnx_import import execute, fingerprint, float_input, input_shape, load
from tasks.gate import top1_gate

MODEL_FILE, INPUT_FILE, OUTPUTS_FILE = "model.onnx", "input.json", "outputs.npy"


def import_qonnx(recipe, path: Path, eembc: Path, data_kind: str, scale: float, zero_point: int, out: Path) -> dict:
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
