"""The FINN toolchain: Brevitas -> QONNX export with an integer input, the A2Q export fix, the
estimate build through finn-plus's Python API without Vivado, the resource-fit check, the
generated C emulator bit-identical with execute_onnx, and KWS through flow=finn end to end."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from common.errors import BuildError, ConfigError, GateError
from frameworks import brevitas_qat as bq
from frameworks.schema import BrevitasQuant, Pruning, TrainConfig
from toolchains.base import fit_gate
from toolchains.finn import emulator, export


def _trained_mlp(quant: BrevitasQuant, seed: int = 0) -> tuple[torch.nn.Module, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, 400)
    x = np.clip(np.rint(rng.normal(0, 40, (4, 30))[y] + rng.normal(0, 20, (400, 30))), -128, 127).astype(np.float32)
    model = torch.nn.Sequential(bq.integer_input(8, signed=True), bq.linear(quant, 30, 24), torch.nn.BatchNorm1d(24),
                                bq.activation(quant), bq.linear(quant, 24, 4))
    bq.fit(model, x, y, TrainConfig(epochs=6, batch_size=50, learning_rate=0.01), Pruning(), torch.nn.CrossEntropyLoss(),
           desc="test")
    return model.eval(), x


def test_export_has_an_integer_input_and_computes_what_brevitas_computes(tmp_path):
    from qonnx.core.modelwrapper import ModelWrapper

    model, x = _trained_mlp(BrevitasQuant(weight_bits=3, act_bits=3))
    path = export.export(model, x, tmp_path)
    m = ModelWrapper(str(path))
    assert str(m.get_tensor_datatype(m.graph.input[0].name)) == "INT8"
    assert all(n.input[0] != m.graph.input[0].name for n in m.graph.node if n.op_type == "Quant")  # no input quantizer
    assert np.abs(export.execute(path, x[:40]) - bq.predict(model, x[:40])).max() < 1e-4


@pytest.mark.parametrize("quantizer", ["a2q", "a2q+"])
def test_accumulator_aware_models_export_their_quantized_weights(tmp_path, quantizer):
    """Without baking (docs/toolchains.md A.6) the exported weights differ from the trained ones by up to 0.045."""
    model, x = _trained_mlp(BrevitasQuant(weight_bits=4, act_bits=4, accumulator={"quantizer": quantizer, "bits": 14}))
    path = export.export(model, x, tmp_path)
    assert np.abs(export.execute(path, x[:40]) - bq.predict(model, x[:40])).max() < 1e-4


def test_estimates_emulator_and_fit(tmp_path):
    from boards import board
    from toolchains.finn import build
    from toolchains.finn.settings import FinnSettings

    model, x = _trained_mlp(BrevitasQuant(weight_bits=3, act_bits=3))
    path = export.export(model, x, tmp_path)
    pynq = board.load("pynq_z2")
    settings = FinnSettings(target_fps=100_000)
    est = build.build(path, pynq, settings, x[:1], bq.predict(model, x[:1]), tmp_path, tmp_path)
    assert 0 < est["accelerator_cycles"] <= est["critical_path_cycles"]  # the layers overlapping: at most FINN's series sum
    assert est["accelerator_latency_us"] == pytest.approx(est["accelerator_cycles"] / 100)
    assert est["modeled_latency_us"] == est["accelerator_latency_us"] + pynq.call_overhead.us
    assert est["lut"] > 0 and est["estimated_fps"] > 0
    assert sorted(p.name for p in (tmp_path / build.OUTPUT / "verification_output").iterdir()) == [
        "verify_finn_onnx_python_0_SUCCESS.npy", "verify_initial_python_0_SUCCESS.npy", "verify_streamlined_python_0_SUCCESS.npy"]
    fit_gate("finn", build.over_budget(est, pynq, settings), est, "refuse")
    with pytest.raises(ConfigError, match="finn.folding_config: no such file .*/nope.json"):
        build.build(path, pynq, FinnSettings(folding_config="nope.json"), x[:1], x[:1], tmp_path, tmp_path)
    (tmp_path / "again").mkdir()
    (tmp_path / "folding.json").write_text((tmp_path / build.OUTPUT / "report" / "auto_folding_config.json").read_text())
    again = build.build(path, pynq, FinnSettings(folding_config="folding.json"), x[:1], bq.predict(model, x[:1]),
                        (tmp_path / "again"), tmp_path)  # the folding FINN chose, as a folding JSON: the same design
    assert again["critical_path_cycles"] == est["critical_path_cycles"] and again["lut"] == est["lut"]
    tiny = pynq.model_copy(update={"resources": pynq.resources.model_copy(update={"lut": 10})})
    with pytest.raises(GateError, match=r"does not fit the pynq_z2 \(LUT [0-9,]+ > 10, of which MVAU_\w+ layers "
                       r"[0-9,]+\): lower finn.target_fps \(now 100,000\)"):
        fit_gate("finn", build.over_budget(est, tiny, settings), est, "refuse")

    streamlined = tmp_path / build.OUTPUT / build.STREAMLINED
    n_in, n_out = emulator.generate(streamlined, tmp_path)
    assert (n_in, n_out) == (30, 4)
    emulated = emulator.run(emulator.compile_library(tmp_path), x, n_out)
    assert np.array_equal(emulated, export.execute(streamlined, x))  # every input, bit for bit
    assert np.mean(emulated.argmax(1) == bq.predict(model, x).argmax(1)) > 0.97


def test_the_emulator_names_what_it_cannot_emulate(tmp_path):
    model, x = _trained_mlp(BrevitasQuant(weight_bits=3, act_bits=3))
    path = export.export(model, x, tmp_path)  # not streamlined: Quant and BatchNormalization nodes
    with pytest.raises(BuildError, match="also has .*BatchNormalization.*Quant"):
        emulator.generate(path, tmp_path)


SMALL = {
    "kws": {"data.synthetic.utterances_per_word": 24, "brevitas.min_top1.synthetic": 0.3},
    "ad": {"data.synthetic.machine_ids": [1, 2], "data.synthetic.train_per_id": 6, "data.synthetic.test_normal_per_id": 3,
           "data.synthetic.test_anomaly_per_id": 3, "brevitas.train.epochs": 10, "brevitas.min_auc.synthetic": 0.6},
    "ic": {"data.synthetic.images_per_batch": 300, "brevitas.conv": [16, 16, 32, 32, 64, 64], "brevitas.fc": [64, 64],
           "brevitas.train.epochs": 4, "brevitas.min_top1.synthetic": 0.05},
}


@pytest.mark.slow
@pytest.mark.parametrize("task", ["kws", "ad", "ic"])
def test_through_flow_finn(tmp_path, task):
    """data -> Brevitas model -> QONNX -> FINN estimates -> generated C on the emulated board ->
    runner: the DUT scores what the emulator scores, which is what execute_onnx computes."""
    from pipeline.execute import run_stages
    from pipeline.flow import Flow

    flow = Flow(task=task, board="pynq_z2", flow="finn", data="synthetic", build_root=tmp_path, modes=["accuracy"],
                overrides=SMALL[task])
    run_stages(flow)
    train, convert = flow.manifest("train")["outputs"], flow.manifest("convert")["outputs"]
    acc = flow.manifest("run")["outputs"]["accuracy"]
    assert convert["exact_fraction"] == 1.0 and convert["estimates"]["critical_path_cycles"] > 0
    if task in ("kws", "ic"):
        assert convert["argmax_agreement"] >= 0.9
        assert abs(acc["top1"] - train["host_value"]) <= 100 * (1 - convert["argmax_agreement"]) + 1e-9
    else:  # the emulator is the streamlined integer graph; Brevitas computes in float: scores agree closely
        assert convert["max_abs_diff_source"] < 1.0 and abs(acc["auc"] - train["host_value"]) < 0.02
    assert (tmp_path / task / "finn" / "pynq_z2" / "report" / "results.md").read_text().count("modeled") >= 4
    from results import compare, runs

    table = compare.table(runs.find(tmp_path))
    est = table[table["source"] == "this harness, toolchain estimate"]
    assert list(est["latency_kind"]) == ["modeled"] and list(est["resources_kind"]) == ["modeled"]
    assert est["latency_us"].iloc[0] == convert["estimates"]["modeled_latency_us"]
    assert "finn" in set(table[table["source"].str.startswith("published")]["flow"])  # beside the published designs


def test_the_emulator_is_bit_identical_on_a_binary_cnv_with_random_inputs(tmp_path):
    """A CNV-style network (HWC integer input, binary 3x3 convs, max pooling, binary FC): Im2Col,
    XNOR-popcount and NHWC pooling in the generated C, against execute_onnx on random images."""
    import toolchains
    from boards import board
    from tasks import load_recipe
    from tasks.ic import model_brevitas
    from toolchains.finn import build

    recipe = load_recipe("ic", {"brevitas.conv": [8, 8, 16, 16], "brevitas.pool_after": [1], "brevitas.fc": [32]})
    cfg, settings = recipe.cfg, toolchains.load("finn").settings(recipe, "trained")
    model = model_brevitas.build(cfg.brevitas, 10)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (40, 32, 32, 3)).astype(np.float32)
    bq.recalibrate_batchnorm(model, torch.from_numpy(x), 20)  # untrained, but with sensible BatchNorm statistics
    path = export.export(model, x, tmp_path)
    build.build(path, board.load("pynq_z2"), settings, x[:1], bq.predict(model, x[:1]), tmp_path, tmp_path)
    streamlined = tmp_path / build.OUTPUT / build.STREAMLINED
    assert {"Im2Col", "XnorPopcountMatMul", "MaxPoolNHWC"} <= {n.op_type for n in __import__("onnx").load(streamlined).graph.node}
    n_in, n_out = emulator.generate(streamlined, tmp_path)
    emulated = emulator.run(emulator.compile_library(tmp_path), x.reshape(len(x), -1), n_out)
    assert (n_in, n_out) == (3072, 10)
    assert np.array_equal(emulated, export.execute(streamlined, x).reshape(emulated.shape))


def test_a_design_too_large_for_the_pynq_z2_fails_the_fit_check(tmp_path):
    from boards import board
    from toolchains.finn import build
    from toolchains.finn.settings import FinnSettings

    quant = BrevitasQuant(weight_bits=4, act_bits=4)
    model = torch.nn.Sequential(bq.integer_input(8, signed=True), bq.linear(quant, 490, 1024), torch.nn.BatchNorm1d(1024),
                                bq.activation(quant), bq.linear(quant, 1024, 12)).eval()
    x = np.random.default_rng(0).integers(-128, 128, (4, 490)).astype(np.float32)
    path = export.export(model, x, tmp_path)
    pynq, settings = board.load("pynq_z2"), FinnSettings(target_fps=2_000_000)
    est = build.build(path, pynq, settings, x[:1], bq.predict(model, x[:1]), tmp_path, tmp_path)
    with pytest.raises(GateError, match=r"does not fit the pynq_z2 \(LUT [0-9,]+ > 53,200.*lower finn.target_fps"):
        fit_gate("finn", build.over_budget(est, pynq, settings), est, "refuse")


def test_a_recipe_sets_a_layers_implementation_and_attributes_over_the_folding(tmp_path):
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    from boards import board
    from toolchains.finn import build
    from toolchains.finn.settings import FinnSettings

    model, x = _trained_mlp(BrevitasQuant(weight_bits=3, act_bits=3))
    path = export.export(model, x, tmp_path)
    pynq = board.load("pynq_z2")
    settings = FinnSettings(target_fps=100_000, implementation={"MVAU_0": "hls"},
                            layers={"MVAU_hls_0": {"PE": 1, "SIMD": 1, "ram_style": "distributed"}})
    est = build.build(path, pynq, settings, x[:1], bq.predict(model, x[:1]), tmp_path, tmp_path)
    nodes = {n.name: getCustomOp(n) for n in ModelWrapper(str(tmp_path / build.OUTPUT / build.CODEGEN_MODEL)).graph.node}
    first = nodes["MVAU_hls_0"]  # target_fps alone folds it wider (PE 24 x SIMD 30 at 100 000/s)
    assert (first.get_nodeattr("PE"), first.get_nodeattr("SIMD"), first.get_nodeattr("ram_style")) == (1, 1, "distributed")
    assert est["layers"]["MVAU_hls_0"]["cycles"] == 30 * 24
    for key, value in (("layers", {"MVAU_hls_9": {"PE": 1}}), ("implementation", {"MVAU_7": "rtl"})):
        (tmp_path / key).mkdir()
        with pytest.raises(ConfigError, match=rf"finn.{key} names {next(iter(value))}, which this FINN graph does not have "
                                              r"\(its layers: .*MVAU_"):
            build.build(path, pynq, FinnSettings(target_fps=100_000, **{key: value}), x[:1], bq.predict(model, x[:1]),
                        tmp_path / key, tmp_path)


def test_finns_verification_takes_float_noise_on_an_output_near_zero(tmp_path):
    """A float model's output near zero differs in relative terms by more than FINN's mean-relative limit
    (0.1) from the same value computed in another order; with build.VERIFICATION that is no failure, an
    absolute difference beyond FINN's atol still is."""
    from onnx import TensorProto, helper
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.basic import qonnx_make_model

    from toolchains.finn import build, novivado  # noqa: F401  (before anything from finn.builder)

    # isort: split
    import finn.builder.build_dataflow_config as fc
    from finn.builder.build_dataflow_steps import verify_step

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    model = ModelWrapper(qonnx_make_model(graph))
    np.save(tmp_path / "in.npy", np.array([[1.2009878, -6.6975367e-09, 2.0560784, -0.6615]], dtype=np.float32))

    def verified(expected, name: str, **tolerances) -> bool:
        np.save(tmp_path / "out.npy", np.array([expected], dtype=np.float32))
        cfg = fc.DataflowBuildConfig(output_dir=str(tmp_path / name), synth_clk_period_ns=10, generate_outputs=[],
                                     verify_steps=[fc.VerificationStepType.STREAMLINED_PYTHON],
                                     verify_input_npy=str(tmp_path / "in.npy"),
                                     verify_expected_output_npy=str(tmp_path / "out.npy"), **tolerances)
        verify_step(model, cfg, "check", need_parent=False)
        return (tmp_path / name / "verification_output" / "verify_check_0_SUCCESS.npy").exists()

    noisy = [1.2009878, 4.6882757e-08, 2.0560787, -0.6615]  # another summation order's float32 results
    assert not verified(noisy, "finn_default")
    assert verified(noisy, "ours", **build.VERIFICATION)
    assert not verified([1.2009878, 0.01, 2.0560787, -0.6615], "off", **build.VERIFICATION)


def _graph(tmp_path, w1: np.ndarray, thresholds: np.ndarray, w2: np.ndarray, in_type: str):
    """input (in_type) -> MatMul w1 -> MultiThreshold -> MatMul w2, saved as a qonnx model."""
    from onnx import TensorProto, helper
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.infer_shapes import InferShapes
    from qonnx.util.basic import qonnx_make_model

    k, n = w1.shape
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["a"]),
             helper.make_node("MultiThreshold", ["a", "th"], ["b"], domain="qonnx.custom_op.general", out_dtype="UINT4"),
             helper.make_node("MatMul", ["b", "w2"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, k])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, w2.shape[1]])])
    m = ModelWrapper(qonnx_make_model(graph))
    for name, value in (("w1", w1), ("th", thresholds), ("w2", w2)):
        m.set_initializer(name, value.astype(np.float32))
    m.set_tensor_datatype("x", DataType[in_type])
    m.set_tensor_datatype("b", DataType["UINT4"])
    m = m.transform(InferShapes())
    path = tmp_path / "g.onnx"
    m.save(str(path))
    return path


@pytest.mark.parametrize("in_type", ["INT8", "FLOAT32"])  # int32 sums from the datatype's bound; int64 without one
def test_the_emulators_sparse_weights_and_bisected_thresholds_are_exact(tmp_path, in_type):
    """A depthwise-like MatMul (one weight per output, as FINN's depthwise Im2Col MatMul) takes the
    sparse form and ascending thresholds are bisected; both give execute_onnx's values, on inputs
    that land exactly on thresholds too. Unsorted thresholds keep the counting loop."""
    rng = np.random.default_rng(3)
    w1 = np.zeros((24, 8))
    w1[rng.permutation(24)[:8], np.arange(8)] = rng.integers(-127, 128, 8)
    w1[0, :] += 1  # a few more non-zero weights, still sparse
    th = np.sort(rng.integers(-3000, 3000, (8, 15)), axis=1)
    w2 = rng.integers(-8, 8, (8, 3))
    x = rng.integers(-128, 128, (200, 24)).astype(np.float32)
    x[:, 0] = 1  # the first weight row's outputs then sit on thresholds now and then
    path = _graph(tmp_path, w1, th, w2, in_type)
    n_in, n_out = emulator.generate(path, tmp_path)
    source = (tmp_path / emulator.SOURCE).read_text()
    acc = "int32_t" if in_type == "INT8" else "int64_t"
    assert f"{acc} acc = 0;\n            for (int p = ws0[j]; p < ws0[j + 1]; ++p) acc += row_{acc[:-2]}[" in source
    assert "mid" in source
    emulated = emulator.run(emulator.compile_library(tmp_path), x, n_out)
    assert np.array_equal(emulated, export.execute(path, x).reshape(emulated.shape))

    unsorted = _graph(tmp_path, w1, th[:, ::-1].copy(), w2, in_type)
    emulator.generate(unsorted, tmp_path)
    assert "mid" not in (tmp_path / emulator.SOURCE).read_text()
    emulated = emulator.run(emulator.compile_library(tmp_path), x, n_out)
    assert np.array_equal(emulated, export.execute(unsorted, x).reshape(emulated.shape))
