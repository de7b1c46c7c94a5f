"""model=reference for FINN: MLPerf's own int8 TF Lite model as QONNX (frameworks/tflite_qonnx.py),
checked against TF Lite's interpreter, and through FINN's estimate build to the emulated board's
accelerator (tasks/reference_int8.py, toolchains/finn). The official model and kws01 files come from
../shared; those tests skip without it."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from common.errors import ConfigError
from tests.conftest import shared


def _kws01_subset(tmp_path, n: int):
    """The first n official kws01 files as a test folder of their own."""
    source = shared("datasets/kws01")
    folder = tmp_path / "tests" / "kws01"
    folder.mkdir(parents=True)
    rows = source.joinpath("y_labels.csv").read_text().splitlines()[:n]
    for row in rows:
        shutil.copy(source / row.split(",")[0], folder)
    (folder / "y_labels.csv").write_text("\n".join(rows) + "\n")
    return folder.parent, rows


def test_the_int8_reference_as_qonnx_computes_what_the_interpreter_computes(tmp_path):
    from qonnx.core.modelwrapper import ModelWrapper

    from frameworks import qonnx_import, tflite_qonnx

    tflite = shared("models/reference/kws_ref_model.tflite")
    converted = tflite_qonnx.convert(tflite, tmp_path / "model.onnx")
    m = ModelWrapper(str(tmp_path / "model.onnx"))
    ops = {n.op_type for n in m.graph.node}
    assert not ops & {"QuantizeLinear", "DequantizeLinear", "Softmax", "AveragePool"} and "GlobalAveragePool" in ops
    activations = [n for n in m.graph.node if n.op_type == "Quant" and m.get_initializer(n.input[0]) is None]
    assert len(activations) == 10 and all(float(m.get_initializer(n.input[2])) == 0 for n in activations)
    assert (converted.input.scale, converted.input.zero_point) == (pytest.approx(0.5847029), 83)

    root, _ = _kws01_subset(tmp_path, 40)
    q = np.stack([np.fromfile(f, dtype=np.int8) for f in sorted((root / "kws01").glob("*.bin"))])
    interpreter = tflite_qonnx.interpreter_tensor(tflite, q, converted.logits_tensor)
    graph = qonnx_import.execute(m, qonnx_import.float_input(q.astype(np.int64) - 83, converted.input.scale))
    assert np.array_equal(graph.argmax(1), interpreter.argmax(1))
    assert np.mean(np.all(converted.logits.apply(graph) == interpreter, axis=1)) >= 0.95  # rounding ties aside


def _one_quant_graph(zero_point: float, signed: int):
    from onnx import TensorProto, helper, numpy_helper
    from qonnx.core.modelwrapper import ModelWrapper

    inits = [numpy_helper.from_array(np.asarray(v, dtype=np.float32), name)
             for name, v in (("s", 0.1), ("z", zero_point), ("b", 8.0))]
    node = helper.make_node("Quant", ["x", "s", "z", "b"], ["y"], domain="qonnx.custom_op.general", signed=signed, narrow=0,
                            rounding_mode="ROUND")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])], inits)
    return ModelWrapper(helper.make_model(graph))


def test_int8_activations_with_zero_point_minus_128_become_uint8_with_the_same_values():
    from qonnx.core.onnx_exec import execute_onnx

    from frameworks.tflite_qonnx import unsigned_activations

    m = _one_quant_graph(-128, 1)
    x = np.linspace(-5, 30, 64, dtype=np.float32).reshape(1, 64)  # below, inside and above the range
    before = execute_onnx(m, {"x": x})["y"]
    unsigned_activations(m)
    assert float(m.get_initializer("z")) == 0 and m.graph.node[0].attribute[0].i == 0  # signed=0
    assert np.array_equal(execute_onnx(m, {"x": x})["y"], before)

    with pytest.raises(ConfigError, match="zero point .*14"):
        unsigned_activations(_one_quant_graph(14, 1))


def test_flow_finn_takes_a_reference_only_where_the_task_has_an_int8_one(tmp_path):
    from pipeline.flow import Flow

    with pytest.raises(ConfigError, match="task ic has none"):
        Flow(task="ic", board="pynq_z2", flow="finn", model="reference", build_root=tmp_path)
    flow = Flow(task="kws", board="pynq_z2", flow="finn", model="reference", build_root=tmp_path)
    assert "int8 reference (kws_ref_model.tflite)" in flow.model_origin()


def test_the_kws_int8_reference_through_finn_fits_the_pynq_z2_and_agrees_with_the_interpreter(tmp_path):
    from pipeline.execute import run_stages
    from pipeline.flow import Flow

    root, rows = _kws01_subset(tmp_path, 30)
    flow = Flow(task="kws", board="pynq_z2", flow="finn", model="reference", testset=str(root),
                build_root=tmp_path / "build", overrides={"reference.finn.check_inputs": 10})
    run_stages(flow, stop="convert")
    train, convert = flow.manifest("train")["outputs"], flow.manifest("convert")["outputs"]
    assert train["qonnx_agreement_with_interpreter"] == 1.0 and train["data_kind"] == "real"
    assert convert["exact_fraction"] == 1.0  # the generated emulator, global accumulation included, is execute_onnx
    assert convert["interpreter_argmax_agreement"] >= 29 / 30
    est = convert["estimates"]
    assert 0 < est["lut"] <= 53_200 and est["dsp"] <= 220 and est["bram18"] <= 280  # the XC7Z020's totals
    source = (flow.artifacts("convert")["convert"] / "finn_model.c").read_text()
    assert "GlobalAccPool" not in source and "acc += (int64_t)" in source
