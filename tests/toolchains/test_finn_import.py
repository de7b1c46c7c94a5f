"""A QONNX model trained elsewhere (model=path.onnx): its input quantizer moved to the host side
exactly (host_input.py), and a KWS model with a float input and its own test folder through
flow=finn to the emulated board, whose printed results are the emulator's for every file."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from common.errors import ConfigError
from frameworks import brevitas_qat as bq
from frameworks.schema import BrevitasQuant, Pruning, TrainConfig

CLASSES = 12


def _graph(path, quant: dict | None, n_in: int = 256):
    """A hand-made QONNX graph: float input -> [Quant] -> MatMul 3 outputs."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.normal(0, 1, (n_in, 3)).astype(np.float32), "w")]
    nodes, x = [], "x"
    if quant:
        for name in ("scale", "zero", "bits"):
            inits.append(numpy_helper.from_array(np.asarray(quant[name], dtype=np.float32), name))
        nodes.append(helper.make_node("Quant", ["x", "scale", "zero", "bits"], ["xq"], domain="qonnx.custom_op.general",
                                      signed=quant["signed"], narrow=quant["narrow"], rounding_mode="ROUND"))
        x = "xq"
    nodes.append(helper.make_node("MatMul", [x, "w"], ["y"]))
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n_in])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                    helper.make_opsetid("qonnx.custom_op.general", 1)])
    path.write_bytes(model.SerializeToString())
    return path


@pytest.mark.parametrize("quant, scale, table", [
    ({"scale": 0.05, "zero": 3.0, "bits": 8.0, "signed": 0, "narrow": 0}, 0.037, True),  # requantized, zero point
    ({"scale": 0.25, "zero": 0.0, "bits": 8.0, "signed": 1, "narrow": 1}, 0.25, True),   # -128 clips to -127
    ({"scale": 0.25, "zero": 0.0, "bits": 8.0, "signed": 1, "narrow": 0}, 0.25, False),  # the identity: no table
    (None, 0.1, False),                                                                   # no input quantizer
])
def test_the_host_side_input_quantizer_is_exact_for_every_integer(tmp_path, quant, scale, table):
    from qonnx.core.onnx_exec import execute_onnx

    from frameworks import qonnx_import as external
    from toolchains.finn import host_input

    path = _graph(tmp_path / "m.onnx", quant)
    original = external.load(path)
    prepared, host = host_input.prepare(external.load(path), scale, (-128, 127))
    assert (host.table is not None) == table
    assert host.dtype == ("INT8" if not quant or quant["signed"] else "UINT8")
    name_in, name_out = prepared.graph.input[0].name, prepared.graph.output[0].name  # as qonnx's cleanup named them
    assert str(prepared.get_tensor_datatype(name_in)) == host.dtype
    assert not any(n.op_type == "Quant" for n in prepared.graph.node)
    k = np.arange(-128, 128)[None]  # every integer the firmware can give, in one input
    want = execute_onnx(original, {name_in: external.float_input(k, scale)})[name_out]
    got = execute_onnx(prepared, {name_in: host.apply(k)})[name_out]
    assert np.array_equal(got, want)


def test_a_per_channel_input_quantizer_is_refused(tmp_path):
    from frameworks import qonnx_import as external
    from toolchains.finn import host_input

    path = _graph(tmp_path / "m.onnx", {"scale": np.full(256, 0.1), "zero": 0.0, "bits": 8.0, "signed": 1, "narrow": 0})
    with pytest.raises(ConfigError, match="not per-tensor"):
        host_input.prepare(external.load(path), 0.1, (-128, 127))


def _kws_model_trained_elsewhere(tmp_path, n_files: int = 60):
    """A QMLP like the published KWS-W3A3: float input [1, 1, 10, 49] -> 8-bit narrow input
    quantizer -> 3-bit MLP; exported by Brevitas with its float input; and its test folder,
    quantized with its input quantizer's scale as the published make_bin_files.py does."""
    from brevitas.export import export_qonnx
    from brevitas.nn import QuantIdentity
    from brevitas.quant import Int8ActPerTensorFloat

    rng = np.random.default_rng(0)
    centres = rng.normal(0, 3, (CLASSES, 490))
    y = rng.integers(0, CLASSES, 600)
    x = (centres[y] + rng.normal(0, 2, (600, 490))).astype(np.float32).reshape(-1, 1, 10, 49)
    quant = BrevitasQuant(weight_bits=3, act_bits=3)
    model = torch.nn.Sequential(QuantIdentity(act_quant=Int8ActPerTensorFloat, narrow_range=True, return_quant_tensor=True),
                                torch.nn.Flatten(), bq.linear(quant, 490, 64), torch.nn.BatchNorm1d(64), bq.activation(quant),
                                bq.linear(quant, 64, CLASSES))
    bq.fit(model, x, y, TrainConfig(epochs=3, batch_size=50, learning_rate=0.01), Pruning(), torch.nn.CrossEntropyLoss(),
           desc="test")
    model.eval()
    path = tmp_path / "kws_w3a3_like.onnx"
    export_qonnx(model, input_t=torch.from_numpy(x[:1]), export_path=str(path), dynamo=False)
    scale = float(model[0].act_quant.scale())
    folder = tmp_path / "their_tests" / "kws01"
    folder.mkdir(parents=True)
    q = np.clip(np.round(x[-n_files:] / scale), -127, 127).astype(np.int8).reshape(n_files, -1)
    q[::7, :5] = -128  # bytes outside the narrow range: the DUT must clip them as the model's quantizer does
    lines = []
    for i in range(n_files):
        name = f"tst_{i:06d}_{y[-n_files + i]}.bin"
        (folder / name).write_bytes(q[i].tobytes())
        lines.append(f"{name}, {CLASSES}, {y[-n_files + i]}\n")
    (folder / "y_labels.csv").write_text("".join(lines))
    return path, folder.parent, scale


def test_a_qonnx_model_trained_elsewhere_through_flow_finn(tmp_path):
    from pipeline.execute import run_stages
    from pipeline.flow import Flow

    path, tests, scale = _kws_model_trained_elsewhere(tmp_path)
    flow = Flow(task="kws", board="pynq_z2", flow="finn", model=str(path), testset=str(tests), input_scale=scale,
                build_root=tmp_path / "build", modes=["accuracy"])
    assert flow.stages == ["train", "convert", "build", "run", "report"]  # no data stage: its own test folder
    run_stages(flow)
    train, convert = flow.manifest("train")["outputs"], flow.manifest("convert")["outputs"]
    acc = flow.manifest("run")["outputs"]["accuracy"]
    assert train["host_value"] > 100 / CLASSES * 2  # it learned something: the test is about the import, not the model
    assert convert["exact_fraction"] == 1.0 and convert["host_input_table"] is True
    assert convert["argmax_agreement"] >= 0.95
    emulated = np.load(flow.artifacts("convert")["convert"] / "emulated_outputs.npy")
    labels = np.array([int(line.split(",")[2]) for line in (tests / "kws01" / "y_labels.csv").read_text().splitlines()])
    assert acc["top1"] == pytest.approx(100 * np.mean(emulated.argmax(1) == labels))  # what the DUT printed is the emulator's
    report = (flow.root / "report" / "results.md").read_text()
    assert "kws_w3a3_like" in report and "accelerator latency (us)" in report
    assert flow.root == tmp_path / "build" / "kws" / "finn-kws_w3a3_like" / "pynq_z2-their_tests"
    _generated_code_and_vendor_steps(flow)
    _same_results_in_qemu(flow, tmp_path)


def _same_results_in_qemu(emulated, tmp_path):
    """The same model's firmware on the Pynq-Z2's ARM and the Arty's MicroBlaze in QEMU, through the
    runner's accuracy mode: every file's printed result vector equals the host build's."""
    import json
    import shutil

    from boards import firmware
    from pipeline.execute import run_stages
    from pipeline.flow import Flow

    want = json.loads((emulated.root / "run" / "accuracy" / "results.json").read_text())
    for board_name in ("pynq_z2", "arty_a7"):
        flow = Flow(**{**{k: getattr(emulated, k) for k in ("task", "flow", "model", "testset", "input_scale", "build_root",
                                                               "modes")}, "board": board_name, "dut": "qemu"})
        compiler, found = firmware.cross_compiler(flow.board_cfg)
        if found is None or shutil.which(flow.board_cfg.firmware.qemu.command[0]) is None:
            pytest.skip(f"{compiler} or {flow.board_cfg.firmware.qemu.command[0]} missing: make setup installs them")
        run_stages(flow)
        got = json.loads((flow.root / "run" / "accuracy" / "results.json").read_text())
        assert [r["file"] for r in got] == [r["file"] for r in want]
        assert [r["infer"]["results"] for r in got] == [r["infer"]["results"] for r in want], board_name
        assert flow.manifest("run")["outputs"]["provenance"]["link"] == "qemu"
        _board_firmware(flow, iodma=board_name == "pynq_z2")


def _board_firmware(flow, iodma: bool):
    """The board's firmware with the driver of FINN's IP: its IODMA movers in FINN's Zynq shell,
    an AXI DMA on the Arty; the stream layout is finn_io.h's (checked in test_finn_board_io)."""
    from toolchains.finn import board_io

    convert = flow.artifacts("convert")["convert"]
    build = flow.manifest("build")["outputs"]
    assert (convert / board_io.HEADER).is_file(), board_io.reason(convert)
    assert build["board_accelerator"] == f"FINN IP through {'its IODMA data movers' if iodma else 'an AXI DMA'}"
    assert {"board_performance", "board_energy"} <= set(flow.artifacts("build"))


def _generated_code_and_vendor_steps(flow):
    """FINN's HLS C++ / RTL code generation ran and was kept in the convert folder; the Vivado steps
    are skipped with their tools named here, and configured for each board as they would run."""
    import shutil

    from finn.builder.build_dataflow_steps import build_dataflow_step_lookup
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    from boards import board
    from toolchains.finn import build

    finn_build = flow.artifacts("convert")["convert"] / build.OUTPUT
    m = ModelWrapper(str(finn_build / build.CODEGEN_MODEL))
    for node in m.graph.node:
        code = getCustomOp(node).get_nodeattr("code_gen_dir_ipgen")
        assert code == f"{build.CODEGEN_DIR}/{node.name}"  # relative to finn_build: the folder can move
        assert list((finn_build / build.CODEGEN_DIR / node.name).glob("top_*.cpp"))
    if shutil.which("vivado") is None:
        skipped = flow.manifest("build")["outputs"]["skipped"]
        assert skipped["FINN HLS IP generation (step_hw_ipgen)"] in ("skipped: vitis_hls not found on PATH",
                                                                     "skipped: it follows steps that need vivado")
        assert skipped["FINN Pynq-Z2 shell: bitfile, driver, deployment package"] == "skipped: vivado not found on PATH"
    for name, shell in (("pynq_z2", True), ("arty_a7", False)):
        cfg = build.hardware_config(flow.artifacts("convert")["convert"], board.load(name), flow.root / "hw")
        assert set(cfg.steps) <= set(build_dataflow_step_lookup) and cfg.steps[0] == "step_hw_ipgen"
        assert ("step_synthesize_bitfile" in cfg.steps) == shell and (cfg.board == "Pynq-Z2") == shell


@pytest.mark.parametrize("change, message", [
    ({"flow": "hls4ml"}, "flow=hls4ml does not import QONNX files: .* needs flow=finn"),
    ({"testset": None}, "needs its own test folder: testset=PATH"),
    ({"input_scale": None}, "needs input_scale=S"),
    ({"input_scale": -1.0}, "needs input_scale=S"),
    ({"task": "ad"}, "task ad does not take a model file yet"),
    ({"model": "nope.onnx"}, "nope.onnx: no such file"),
])
def test_a_model_file_without_what_it_needs_is_refused_before_any_stage(tmp_path, change, message):
    from pipeline.flow import Flow

    path = _graph(tmp_path / "m.onnx", None, 490)
    args = {"task": "kws", "board": "pynq_z2", "flow": "finn", "model": str(path), "testset": str(tmp_path),
            "input_scale": 0.5, "build_root": tmp_path, **change}
    with pytest.raises(ConfigError, match=message):
        Flow(**args)


def test_a_model_whose_input_size_is_not_the_tasks_is_refused(tmp_path):
    from frameworks import qonnx_import as external
    from tasks import imported_model, load_recipe

    path = _graph(tmp_path / "m.onnx", None, 100)
    with pytest.raises(ConfigError, match=r"its input \[1, 100\] has 100 values; a kws01 test file has 490 bytes"):
        imported_model.import_qonnx(load_recipe("kws"), path, tmp_path, "real", 0.5, 0, tmp_path)
    (tmp_path / "junk.onnx").write_bytes(b"not onnx")
    with pytest.raises(ConfigError, match="not a readable ONNX/QONNX file"):
        external.load(tmp_path / "junk.onnx")
