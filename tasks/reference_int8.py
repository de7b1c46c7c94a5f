"""model=reference for the FINN flow: the task's official int8 TF Lite model, post-training quantized
by MLPerf (closed division allows nothing else to be done to it), imported where `train` would train.

frameworks/tflite_qonnx.py turns it into a QONNX graph that ends at the float logits (or, for an
autoencoder, the float reconstruction); this stage runs that graph (qonnx's execute_onnx) and TF Lite's
own interpreter on every test input, checks they agree and scores the interpreter's outputs with the
task's metric. It hands FINN the graph in the imported-model form (tasks/imported_model.py: model.onnx,
input.json, outputs.npy: the graph's own outputs), so the FINN convert stage treats it as any imported
QONNX model; interpreter.npy keeps the interpreter's int8 outputs, which FINN's emulation is compared
with as well (toolchains/finn/convert.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.errors import GateError
from common.jsonio import write_json
from frameworks import qonnx_import, tflite_qonnx
from tasks.imported_model import INPUT_FILE, MODEL_FILE, OUTPUTS_FILE

INTERPRETER_FILE = "interpreter.npy"
# The QONNX graph against the interpreter, over the test inputs: the same argmax (a classifier) or the same
# int8 reconstructed values (an autoencoder). Measured: 99.9 % on the 1000 kws01 files (docs/toolchains.md
# C.z); below this the conversion is wrong, not merely inexact.
MIN_AGREEMENT = 0.995


def import_int8_reference(recipe, tflite: Path, eembc: Path, data_kind: str, out: Path) -> dict:
    from qonnx.core.modelwrapper import ModelWrapper

    converted = tflite_qonnx.convert(tflite, out / MODEL_FILE)
    given, output = converted.input, converted.output
    k = recipe.quantized_inputs(eembc, given.scale, given.zero_point)
    interpreter = tflite_qonnx.interpreter_tensor(tflite, k + given.zero_point, converted.output_tensor)
    graph = qonnx_import.execute_batched(ModelWrapper(str(out / MODEL_FILE)), qonnx_import.float_input(k, given.scale))
    np.save(out / OUTPUTS_FILE, graph)
    np.save(out / INTERPRETER_FILE, interpreter)
    write_json(out / INPUT_FILE, {"scale": given.scale, "zero_point": given.zero_point,
                                  "k_range": list(recipe.external_range(given.zero_point)), "source": str(tflite),
                                  "sha256": qonnx_import.fingerprint(tflite),
                                  "output": {"scale": output.scale, "zero_point": output.zero_point}})
    agreed = tflite_qonnx.agreement(graph, interpreter, output, classifier=recipe.metric == "top-1 %")
    dequantized = ((interpreter.astype(np.float64) - output.zero_point) * output.scale).astype(np.float32)
    value = recipe.score_reference_outputs(eembc, dequantized)
    metrics = {
        "metric": recipe.metric,
        "host_value": value,
        "host_what": f"the int8 reference {tflite.name} in TF Lite's interpreter, {len(k)} {data_kind} test inputs",
        "qonnx_value": recipe.score_reference_outputs(eembc, graph),
        "qonnx_agreement_with_interpreter": agreed,
        "qonnx_int8_outputs_identical": float(np.mean(np.all(output.apply(graph) == interpreter, axis=1))),
        "reference_file": str(tflite),
        "quantization": "post-training (MLPerf's int8 reference, unchanged)",
        "data_kind": data_kind,
        "artifacts": {"qonnx": MODEL_FILE, "input": INPUT_FILE, "outputs": OUTPUTS_FILE, "interpreter": INTERPRETER_FILE},
    }
    write_json(out / "metrics.json", metrics)
    if agreed < MIN_AGREEMENT:
        raise GateError(f"the QONNX graph of {tflite.name} agrees with TF Lite's interpreter on only {agreed:.1%} of "
                        f"the test inputs (< {MIN_AGREEMENT:.1%}): the conversion is wrong")
    target = recipe.reference_target()
    if data_kind == "real" and value < target:
        raise GateError(f"the int8 reference scores {recipe.metric} {value:.4g} < {target:.4g} on the real test files {eembc}")
    return metrics
