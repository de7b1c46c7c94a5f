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


def _kws01_subset(tmp_path, n: int, also: tuple[int, ...] = ()):
    """The first n official kws01 files, and those at the rows `also`, as a test folder of their own."""
    source = shared("datasets/kws01")
    folder = tmp_path / "tests" / "kws01"
    folder.mkdir(parents=True)
    every = source.joinpath("y_labels.csv").read_text().splitlines()
    rows = every[:n] + [every[i] for i in also]
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
    interpreter = tflite_qonnx.interpreter_tensor(tflite, q, converted.output_tensor)
    graph = qonnx_import.execute(m, qonnx_import.float_input(q.astype(np.int64) - 83, converted.input.scale))
    assert np.array_equal(graph.argmax(1), interpreter.argmax(1))
    assert np.mean(np.all(converted.output.apply(graph) == interpreter, axis=1)) >= 0.95  # rounding ties aside


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


def test_another_zero_point_moves_out_of_its_quantizer_with_the_same_values():
    """The ResNet-8's residual branches are quantized with zero points 4, -17, 38, -2 (no ReLU before
    them): x + z*s, quantized with zero point 0, then - z*s gives what the quantizer gave, clip included,
    and FINN takes the quantizer (zero point 0); a per-channel zero point is refused."""
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.infer_shapes import InferShapes

    from frameworks.tflite_qonnx import shifted_zero_points, unsigned_activations

    for zero in (14, -17):
        m = _one_quant_graph(zero, 1)
        x = np.linspace(-20, 20, 64, dtype=np.float32).reshape(1, 64) + 0.013  # both clips, no rounding tie
        before = execute_onnx(m, {"x": x})["y"]
        unsigned_activations(m)  # not its case: left alone
        shifted_zero_points(m)
        quant = next(n for n in m.graph.node if n.op_type == "Quant")
        assert [n.op_type for n in m.graph.node] == ["Add", "Quant", "Add"] and float(m.get_initializer(quant.input[2])) == 0
        assert np.allclose(execute_onnx(m.transform(InferShapes()), {"x": x})["y"], before, atol=1e-6)
        assert before.min() == pytest.approx(0.1 * (-128 - zero)) and before.max() == pytest.approx(0.1 * (127 - zero))
    m = _one_quant_graph(14, 1)
    m.set_initializer("z", np.full((1, 64), 14, dtype=np.float32))
    with pytest.raises(ConfigError, match="per-channel zero points"):
        shifted_zero_points(m)


def _pool_graph(scale: float):
    """int8 (zero point -128) -> 8 x 8 average pool -> int8 with the same scale and zero point, as tf2onnx
    and QCDQToQuant leave TF Lite's AVERAGE_POOL_2D."""
    from onnx import TensorProto, helper, numpy_helper
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.infer_shapes import InferShapes

    inits = [numpy_helper.from_array(np.asarray(v, dtype=np.float32), name) for name, v in (("s", scale), ("z", -128.0),
                                                                                            ("b", 8.0))]
    nodes = [helper.make_node("Quant", [i, "s", "z", "b"], [o], domain="qonnx.custom_op.general", signed=1, narrow=0,
                              rounding_mode="ROUND") for i, o in (("x", "u"), ("m", "y"))]
    nodes.insert(1, helper.make_node("GlobalAveragePool", ["u"], ["m"]))
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64, 1, 1])], inits)
    return ModelWrapper(helper.make_model(graph)).transform(InferShapes())


def test_the_average_pool_rounds_ties_away_from_the_int8_zero_in_qonnx_and_in_finns_thresholds(tmp_path):
    """TF Lite's int8 pool: the mean of the int8 values rounded half away from zero. 64 channels of 64
    int8 values, each summing to a tie: without the pass the graph rounds half to even (half of them
    wrong); with it the graph gives TF Lite's values, and after FINN's conversion and the project's step the
    thresholds on the integer sum are exactly 64 k - 32, one higher for k <= 128 (a tie below q = 0 rounds down)."""
    from toolchains.finn import novivado  # noqa: F401  (before anything from finn)

    # isort: split
    import finn.builder.build_dataflow_config as fc
    from finn.transformation.qonnx.convert_qonnx_to_finn import ConvertQONNXtoFINN
    from finn.transformation.streamline import Streamline
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.infer_shapes import InferShapes
    from qonnx.util.cleanup import cleanup_model

    from frameworks.tflite_qonnx import average_pool_rounding, unsigned_activations
    from toolchains.finn.steps import step_project_streamline

    scale = 0.1270691454410553  # the ResNet-8's pool
    q = np.random.default_rng(0).integers(-90, 90, (64, 64))  # inside int8 once the first value makes a tie
    q[:, 0] += 32 - q.sum(1) % 64  # every channel's sum a tie
    acc = q.sum(1)
    assert np.all(acc % 64 == 32) and -128 <= q.min() and q.max() <= 127
    tflite = np.where(acc > 0, (acc + 32) // 64, -((32 - acc) // 64))  # TF Lite's integer arithmetic
    x = ((q + 128) * np.float32(scale)).reshape(1, 64, 8, 8).astype(np.float32)  # the real values of q

    def pooled(m):  # the int8 q of the output's real value (q + 128) * scale
        return np.round(execute_onnx(m, {"x": x})["y"].ravel() / scale).astype(int) - 128

    m = _pool_graph(scale)
    assert 0.3 < np.mean(pooled(m) == tflite) < 0.7
    average_pool_rounding(m)
    unsigned_activations(m)
    m = m.transform(InferShapes())
    assert np.array_equal(pooled(m), tflite)

    m = cleanup_model(m).transform(ConvertQONNXtoFINN()).transform(Streamline())
    m = step_project_streamline(m, fc.DataflowBuildConfig(output_dir=str(tmp_path), synth_clk_period_ns=10,
                                                               generate_outputs=[], target_fps=1))
    pool = next(n for n in m.graph.node if n.op_type == "GlobalAccPool")
    thresholds = m.get_initializer(m.find_consumer(m.find_consumer(pool.output[0]).output[0]).input[1])
    k = np.arange(1, 256)
    assert np.array_equal(np.ceil(thresholds.ravel()), 64 * k - 32 + (k <= 128))


def test_an_input_tf2onnx_transposes_is_annotated_nhwc_and_a_reshaped_one_is_not():
    """vww's 96 x 96 x 3 input reaches its first convolution through a Transpose (NHWC -> NCHW): the
    graph input is annotated NHWC, or qonnx assumes NCHW and FINN refuses the first thresholds once the
    transposes are absorbed (NCHW in, NHWC out). kws's one-channel input is reshaped: no annotation."""
    from onnx import TensorProto, helper
    from qonnx.core.data_layout import NHWC
    from qonnx.core.modelwrapper import ModelWrapper

    from frameworks.tflite_qonnx import input_layout

    def graph(first):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 96, 96, 3])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
        return ModelWrapper(helper.make_model(helper.make_graph([first], "g", [x], [y])))

    transposed = graph(helper.make_node("Transpose", ["x"], ["y"], perm=[0, 3, 1, 2]))
    input_layout(transposed)
    assert transposed.get_tensor_layout("x") == NHWC
    reshaped = graph(helper.make_node("Reshape", ["x", "s"], ["y"]))
    input_layout(reshaped)
    assert reshaped.get_tensor_layout("x") is None


def test_flow_finn_takes_the_int8_reference_of_ic_and_kws(tmp_path):
    from pipeline.flow import Flow

    for task, file in (("ic", "pretrainedResnet_quant.tflite"), ("kws", "kws_ref_model.tflite")):
        flow = Flow(task=task, board="pynq_z2", flow="finn", model="reference", build_root=tmp_path)
        assert f"int8 reference ({file})" in flow.model_origin()


def test_the_kws_int8_reference_through_finn_fits_the_pynq_z2_and_agrees_with_the_interpreter(tmp_path):
    from pipeline.execute import run_stages
    from pipeline.flow import Flow

    # with 3 of the 7 kws01 files whose int8 logits differed from the interpreter's by one step while FINN's
    # thresholds were the Quant nodes' float boundaries (tflite_thresholds.py moves them to XNNPACK's), and
    # file 353, whose int8 logits tie between classes 0 and 3 where the float ones do not
    root, rows = _kws01_subset(tmp_path, 30, also=(115, 435, 439, 353))
    flow = Flow(task="kws", board="pynq_z2", flow="finn", model="reference", testset=str(root),
                build_root=tmp_path / "build", overrides={"reference.finn.check_inputs": 10}, modes=["accuracy"])
    run_stages(flow, stop="run")
    train, convert = flow.manifest("train")["outputs"], flow.manifest("convert")["outputs"]
    # the firmware reports the int8 logits (classifier.h, TASK_OUTPUT_SCALE): the DUT's classes are the interpreter's
    assert flow.manifest("run")["outputs"]["accuracy"]["top1"] == pytest.approx(train["host_value"])
    assert train["qonnx_agreement_with_interpreter"] == 1.0 and train["data_kind"] == "real"
    assert convert["exact_fraction"] == 1.0  # the generated emulator, global accumulation included, is execute_onnx
    assert convert["interpreter_agreement"] == 1.0 and convert["interpreter_int8_identical"] == 1.0
    moved = convert["interpreter_thresholds"]
    assert moved["layers"] == 9 and 0 < moved["thresholds_moved"] < 0.01 * moved["thresholds"]
    est = convert["estimates"]
    assert 0 < est["lut"] <= 53_200 and est["dsp"] <= 220 and est["bram18"] <= 280  # the XC7Z020's totals
    source = (flow.artifacts("convert")["convert"] / "finn_model.c").read_text()
    assert "GlobalAccPool" not in source and "acc += (int64_t)" in source


def test_the_ic_int8_reference_maps_to_finn_layers_and_gives_the_interpreters_classes(tmp_path):
    """The ResNet-8 on 40 synthetic images: every node after convert_to_hw is a FINN layer (its residual
    forks and joins streamlined by toolchains/finn/steps.py; before, five convolutions stayed on float
    inputs and the dataflow partition refused them), and with the pool rounding TF Lite's way
    (tflite_qonnx.average_pool_rounding) the QONNX graph and the emulator give the interpreter's class on
    every image (before: 97.5 % on 200 images, the pool's ties)."""
    from qonnx.core.modelwrapper import ModelWrapper

    from pipeline.execute import run_stages
    from pipeline.flow import Flow
    from tasks import SYNTHETIC_MARK
    from tasks.ic import synthetic, testset

    shared("models/reference/pretrainedResnet_quant.tflite")
    labels = np.arange(40) % 10
    images = synthetic.draw(labels, np.random.default_rng(0), noise=12.0)
    testset.export(images, labels, [f"img_{i:03d}.png" for i in range(40)], np.arange(40), 10, tmp_path / "t" / "ic01")
    (tmp_path / "t" / "ic01" / SYNTHETIC_MARK).touch()  # not its classes: no top-1 gate
    flow = Flow(task="ic", board="pynq_z2", flow="finn", model="reference", testset=str(tmp_path / "t"),
                build_root=tmp_path / "build", overrides={"reference.finn.check_inputs": 10})
    run_stages(flow, stop="convert")
    train, convert = flow.manifest("train")["outputs"], flow.manifest("convert")["outputs"]
    assert train["qonnx_agreement_with_interpreter"] == 1.0
    assert convert["exact_fraction"] == 1.0 and convert["interpreter_agreement"] == 1.0
    folder = flow.artifacts("convert")["convert"] / "finn_build"
    hw = ModelWrapper(str(folder / "intermediate_models" / "step_convert_to_hw.onnx"))
    assert {n.domain for n in hw.graph.node} == {"finn.custom_op.fpgadataflow"}
    assert {"DuplicateStreams", "ElementwiseAdd", "GlobalAccPool"} <= {n.op_type for n in hw.graph.node}
    assert sum(n.op_type == "MVAU" for n in hw.graph.node) == 10  # 7 3 x 3 and 2 1 x 1 convolutions, the dense layer
    assert list((folder / "verification_output").glob("verify_project_streamlined_python_*_SUCCESS.npy"))
    est = convert["estimates"]
    assert 0 < est["lut"] <= 53_200 and est["dsp"] <= 220 and est["bram18"] <= 280  # the XC7Z020's totals


def test_the_ad_int8_reference_as_qonnx_reconstructs_what_the_interpreter_reconstructs(tmp_path):
    """The autoencoder: the graph ends at the float reconstruction; requantized, its values are the
    interpreter's int8 ones (rounding ties aside), and batched execution gives what one-by-one gives."""
    from qonnx.core.modelwrapper import ModelWrapper

    from frameworks import qonnx_import, tflite_qonnx

    tflite = shared("models/reference/ad01_int8.tflite")
    converted = tflite_qonnx.convert(tflite, tmp_path / "model.onnx")
    m = ModelWrapper(str(tmp_path / "model.onnx"))
    assert (converted.input.zero_point, converted.output.zero_point) == (89, 96)
    k = np.random.default_rng(0).integers(-128 - 89, 128 - 89, size=(300, 640))  # every int8 input value reachable
    q = k + converted.input.zero_point
    interpreter = tflite_qonnx.interpreter_tensor(tflite, q, converted.output_tensor)
    graph = qonnx_import.execute_batched(m, qonnx_import.float_input(k, converted.input.scale), batch=128)
    assert tflite_qonnx.agreement(graph, interpreter, converted.output, classifier=False) >= 0.995
    single = qonnx_import.execute(m, qonnx_import.float_input(k[:5], converted.input.scale))
    np.testing.assert_allclose(graph[:5], single, rtol=1e-5, atol=1e-5)


def test_the_ad_firmware_quantizes_a_window_as_the_recipe_does(tmp_path):
    """tasks/ad/firmware/ad_model.c's int8 input (roundf of a float32 quotient) against
    Recipe.quantized_inputs, on values made to sit on rounding halves and clipping edges."""
    import subprocess

    from tasks import load_recipe

    recipe = load_recipe("ad")
    scale, zero_point = 0.39101523, 89
    x = np.concatenate([(np.arange(-300, 300) + 0.5) * np.float32(scale), np.linspace(-120, 60, 1000)]).astype(np.float32)
    c = tmp_path / "q.c"
    c.write_text("#include <math.h>\n#include <stdio.h>\nint main(void){float x;while(scanf(\"%a\",&x)==1){"
                 f"float q=roundf(x/{scale!r}f)+(float){zero_point};q=q<-128.0f?-128.0f:q>127.0f?127.0f:q;"
                 f"printf(\"%d\\n\",(int)q-{zero_point});}}return 0;}}\n")
    subprocess.run(["gcc", "-O2", "-ffp-contract=off", str(c), "-o", str(tmp_path / "q"), "-lm"], check=True)
    out = subprocess.run([str(tmp_path / "q")], input="\n".join(float(v).hex() for v in x), capture_output=True, text=True,
                         check=True).stdout.split()

    class Files:
        windows = x.reshape(1, -1)

    recipe.test_files = lambda eembc: [Files]  # the recipe's arithmetic on these values, not on a test folder
    assert recipe.quantized_inputs(tmp_path, scale, zero_point).ravel().tolist() == [int(v) for v in out]



def test_classifier_agreement_counts_a_tie_in_the_int8_logits_as_either_class():
    from frameworks.tflite_qonnx import Requantization, agreement

    interpreter = np.array([[5, 9, 9], [1, 2, 3], [7, 0, 0]], dtype=np.int8)  # input 0: classes 1 and 2 tie
    outputs = np.array([[0.0, 1.0, 1.1], [0.0, 2.0, 1.0], [1.0, 0.0, 0.0]])  # 0: class 2 (tied), 1: wrong, 2: right
    assert agreement(outputs, interpreter, Requantization(1.0, 0), classifier=True) == pytest.approx(2 / 3)


def test_a_reference_too_large_for_the_part_is_refused_or_with_fit_warn_still_emulated(tmp_path):
    from common.errors import FitError
    from pipeline.execute import run_stages
    from pipeline.flow import Flow

    root, _ = _kws01_subset(tmp_path, 10)
    too_fast = {"reference.finn.target_fps": 400_000, "reference.finn.check_inputs": 2}
    flow = Flow(task="kws", board="pynq_z2", flow="finn", model="reference", testset=str(root),
                build_root=tmp_path / "refuse", overrides=too_fast)
    with pytest.raises(FitError, match=r"does not fit the pynq_z2 \(.*DSP [0-9,]+ > 220"):
        run_stages(flow, stop="convert")
    flow = Flow(task="kws", board="pynq_z2", flow="finn", model="reference", testset=str(root),
                build_root=tmp_path / "warn", overrides={**too_fast, "reference.finn.fit": "warn"})
    run_stages(flow, stop="convert")
    convert = flow.manifest("convert")["outputs"]
    est = convert["estimates"]
    assert est["fits"] is False and est["fit_gate"] == "warn" and "DSP" in est["over_budget"] and est["dsp"] > 220
    assert convert["exact_fraction"] == 1.0 and convert["interpreter_agreement"] >= 0.9  # still emulated, and checked


def test_thresholds_step_where_xnnpacks_float32_requantization_steps():
    """q = rne(fp32(fp32(acc + bias) * scale)) + zero_point: at scale 0.5 an odd accumulator is a tie, which
    rounds to even, so q reaches 1 at acc 2, not at 1 where the real boundary (0.5 / scale) is; and in
    general every threshold t is where q steps: q(t) >= level > q(t - 1)."""
    from frameworks.tflite_requantization import Layer

    tie = Layer("CONV_2D", np.array([0.5], dtype=np.float32), np.array([0]), 0)
    assert tie.thresholds(np.array([1, 2, 3])).tolist() == [[2, 3, 6]]  # rne(0.5)=0, rne(1.5)=2, rne(2.5)=2
    rng = np.random.default_rng(0)
    layer = Layer("DEPTHWISE_CONV_2D", rng.uniform(1e-4, 0.05, 64).astype(np.float32), rng.integers(-40_000, 40_000, 64),
                  -128)
    levels = np.arange(-127, 128)
    t = layer.thresholds(levels)
    assert np.all(layer.requantize(t) >= levels) and np.all(layer.requantize(t - 1) < levels)


def test_finns_thresholds_move_to_the_interpreters_on_the_layers_they_match_in_either_order():
    """tflite_thresholds.apply on MultiThresholds made from two layers' float boundaries (as FINN's
    streamlining makes them), in the other order than the interpreter runs the layers (a residual block's
    shortcut): the ones off by a step move to the exact ones; a MultiThreshold of no layer, a clamp's far
    threshold and one beyond any accumulator stay as they are."""
    from onnx import TensorProto, helper
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.basic import qonnx_make_model

    from frameworks import tflite_requantization as tr
    from toolchains.finn import tflite_thresholds

    rng = np.random.default_rng(1)
    levels = np.arange(1, 256) - 128

    def made(layer):  # FINN's thresholds: the ceiling of the float boundary, 1 % of them a step off
        exact = layer.thresholds(levels).astype(np.float64)
        boundary = (levels[None, :] - layer.zero_point - 0.5) / layer.scale[:, None].astype(np.float64) - layer.bias[:, None]
        return exact, np.where(rng.random(exact.shape) < 0.01, exact - 1, np.ceil(boundary))

    first, second = (tr.Layer("CONV_2D", rng.uniform(1e-3, 1e-2, 8).astype(np.float32), rng.integers(-5000, 5000, 8), -128)
                     for _ in range(2))
    exact, finn = made(first)
    exact_b, finn_b = made(second)
    finn[0, -1] = exact[0, -1] + 1000  # a level a clamp keeps the layer from (FINN's own choice, kept)
    finn[1, -1] = 2.0 ** 30  # beyond any accumulator (a channel of tiny scale): kept
    other = np.ceil(finn_b * 1.5)  # no layer's
    thresholds = {"t0": finn, "t1": other, "t2": finn_b}
    nodes = [helper.make_node("MultiThreshold", [x, t], [y], domain="qonnx.custom_op.general", out_dtype="UINT8")
             for x, t, y in (("x", "t0", "y0"), ("y0", "t1", "y1"), ("y1", "t2", "y2"))]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
                              [helper.make_tensor_value_info("y2", TensorProto.FLOAT, [1, 8])])
    m = ModelWrapper(qonnx_make_model(graph))
    for name, value in thresholds.items():
        m.set_initializer(name, value.astype(np.float32))
    m.set_metadata_prop(tr.METADATA_KEY, tr.to_metadata([second, first]))  # the interpreter runs `second` first
    done = tflite_thresholds.apply(m)
    off = sum(int(np.sum((f != e) & (np.abs(f - e) <= 2))) for f, e in ((finn, exact), (finn_b, exact_b)))
    assert done["layers"] == 2 and done["thresholds_moved"] == off >= int(np.sum(finn == exact - 1)) > 0
    moved = m.get_initializer("t0")
    assert np.array_equal(moved[2:], exact[2:].astype(np.float32)) and np.array_equal(moved[1, :-1], exact[1, :-1])
    assert moved[0, -1] == np.float32(exact[0, -1] + 1000) and np.array_equal(moved[0, :-1], exact[0, :-1].astype(np.float32))
    assert moved[1, -1] == np.float32(2.0 ** 30)
    assert np.array_equal(m.get_initializer("t2"), exact_b.astype(np.float32))
    assert np.array_equal(m.get_initializer("t1"), other.astype(np.float32))
    assert tflite_thresholds.applied(m) == done
