"""model=reference for the FINN flow: the task's official int8 TF Lite model, post-training quantized
by MLPerf (closed division allows nothing else to be done to it), imported where `train` would train.

frameworks/tflite_qonnx.py turns it into a QONNX graph that ends at the float logits; this stage runs
that graph (qonnx's execute_onnx) and TF Lite's own interpreter on every test file and checks they
agree, then hands FINN the graph in the imported-model form (tasks/imported_model.py: model.onnx,
input.json, outputs.npy: the graph's own outputs), so the FINN convert stage treats it as any imported
QONNX model; interpreter.npy keeps the interpreter's int8 logits, which FINN's emulation is compared
with as well (toolchains/finn/convert.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.errors import GateError
from common.jsonio import write_json
from frameworks import qonnx_import, tflite_qonnx
from tasks.imported_model import INPUT_FILE, MODEL_FILE, OUTPUTS_FILE

INTERPRETER_FILE = "interpreter.npy"

# The QONNX graph against the interpreter, argmax of the logits over the test files. Measured: 100 % on
# the 1000 kws01 files (docs/toolchains.md C.z); below this the conversion is wrong, not merely inexact.
MIN_AGREEMENT = 0.995


def import_int8_reference(recipe, tflite: Path, eembc: Path, data_kind: str, out: Path) -> dict:
    from qonnx.core.modelwrapper import ModelWrapper

    converted = tflite_qonnx.convert(tflite, out / MODEL_FILE)
    given = converted.input
    k, labels = recipe.external_inputs(eembc, given.zero_point)
    interpreter = tflite_qonnx.interpreter_tensor(tflite, k + given.zero_point, converted.logits_tensor)
    logits = converted.logits
    graph = qonnx_import.execute(ModelWrapper(str(out / MODEL_FILE)), qonnx_import.float_input(k, given.scale))
    np.save(out / OUTPUTS_FILE, graph)
    np.save(out / INTERPRETER_FILE, interpreter)
    write_json(out / INPUT_FILE, {"scale": given.scale, "zero_point": given.zero_point,
                                  "k_range": list(recipe.external_range(given.zero_point)), "source": str(tflite),
                                  "sha256": qonnx_import.fingerprint(tflite),
                                  "logits": {"scale": logits.scale, "zero_point": logits.zero_point}})
    agreement = float(np.mean(graph.argmax(1) == interpreter.argmax(1)))
    identical = float(np.mean(np.all(logits.apply(graph) == interpreter, axis=1)))
    top1 = float(np.mean(interpreter.argmax(1) == labels))
    metrics = {
        "metric": "top-1 %",
        "host_value": 100 * top1,
        "host_what": f"the int8 reference {tflite.name} in TF Lite's interpreter, {len(labels)} {data_kind} test files",
        "top1_qonnx": 100 * float(np.mean(graph.argmax(1) == labels)),
        "qonnx_agreement_with_interpreter": agreement,
        "qonnx_int8_logits_identical": identical,
        "reference_file": str(tflite),
        "quantization": "post-training (MLPerf's int8 reference, unchanged)",
        "data_kind": data_kind,
        "artifacts": {"qonnx": MODEL_FILE, "input": INPUT_FILE, "outputs": OUTPUTS_FILE, "interpreter": INTERPRETER_FILE},
    }
    write_json(out / "metrics.json", metrics)
    if agreement < MIN_AGREEMENT:
        raise GateError(f"the QONNX graph of {tflite.name} agrees with TF Lite's interpreter on only {agreement:.1%} of "
                        f"the test files (< {MIN_AGREEMENT:.1%}): the conversion is wrong")
    if data_kind == "real" and top1 < recipe.cfg.reference.min_top1:
        raise GateError(f"the int8 reference scores {top1:.1%} < {recipe.cfg.reference.min_top1:.1%} on the real test "
                        f"files {eembc}")
    return metrics
