"""The hls4ml-FINN paper's designs through the harness (issue 21, item 3), with real QKeras and hls4ml:

- a model with a QDenseBatchnorm (the QKeras fork's layer, written here as its inference computes:
  the batch norm folded into the kernel and bias before their quantizers) saved as .h5 loads with
  stock QKeras through frameworks/keras_import.py and gives bit-identical outputs;
- a published hls4ml config (Model / LayerName, older hls4ml's string precisions and accum_t) merges
  over hls4ml 1.3's own, its 'auto' types taking the Model precision, unknown keys listed;
- the io_stream latency of a Resource-strategy strided convolution counts a dense kernel per output
  window, not per input pixel;
- with mlcommons/tiny_results_v0.7 present ($TINY_RESULTS_V07 or ../shared/tiny_results_v0.7): AD08
  and RN07 convert with their own choices, the emulator bit-identical with hls4ml's C simulation, and
  RN07's modeled latency within 15 % of its measured 27.3 ms on the Pynq-Z2;
- CNV-W1A1's folding JSON (FINN 2022 names) maps onto the harness's CNV graph as finn-plus 1.6.1 names
  its layers (by kind and order; max pools at the old layer's rate), and refuses, naming where, a graph
  whose compute layers do not correspond or a factor that does not divide; the published build's clock;
- a FINN dataflow's latency with overlapping layers (toolchains/finn/dataflow_latency.py), on real
  finn-plus layers: an MLP by hand, a convolution well below FINN's critical path.
"""

from __future__ import annotations

import numpy as np
import pytest

from frameworks import keras2  # noqa: F401  (Keras 2 before hls4ml)


def _fork_layer():
    """QDenseBatchnorm as the fork computes it at inference (google/qkeras qdense_batchnorm.py, frozen
    statistics): x . q_k(inv * k) + q_b(inv * (b - mean) + beta), inv = rsqrt(var + eps) * gamma."""
    from qkeras import QDense

    from frameworks.keras2 import keras, tf

    class QDenseBatchnorm(QDense):
        def __init__(self, units, epsilon=1e-3, axis=-1, momentum=0.99, center=True, scale=True, **kwargs):
            super().__init__(units, **kwargs)
            self.batchnorm = keras.layers.BatchNormalization(epsilon=epsilon, axis=axis, momentum=momentum)

        def build(self, input_shape):
            super().build(input_shape)
            self.batchnorm.build((None, self.units))

        def call(self, x):
            bn = self.batchnorm
            inv = tf.math.rsqrt(bn.moving_variance + bn.epsilon) * bn.gamma
            kernel = self.kernel_quantizer_internal(inv * self.kernel)
            bias = self.bias_quantizer_internal(inv * (self.bias - bn.moving_mean) + bn.beta)
            return tf.matmul(x, kernel) + bias

        def get_config(self):
            return {**super().get_config(), "epsilon": self.batchnorm.epsilon, "axis": [1], "momentum": 0.99,
                    "center": True, "scale": True}

    return QDenseBatchnorm


def test_a_qdense_batchnorm_h5_loads_folded_and_bit_identical(tmp_path):
    from qkeras import QActivation, quantized_bits, quantized_relu

    from common.errors import ConfigError
    from frameworks import keras_import
    from frameworks.keras2 import keras, load_qkeras_model

    layer = _fork_layer()
    rng = np.random.default_rng(1)
    x_in = keras.Input((16,), name="x")
    h = layer(12, kernel_quantizer=quantized_bits(12, 6, alpha=1), bias_quantizer=quantized_bits(12, 6, alpha=1),
              name="qdb")(x_in)
    out = QActivation(quantized_relu(6, 6), name="relu")(h)
    model = keras.Model(x_in, out)
    qdb = model.get_layer("qdb")
    qdb.kernel.assign(rng.normal(0, 0.5, (16, 12)).astype(np.float32))
    qdb.bias.assign(rng.normal(0, 1, 12).astype(np.float32))
    bn = qdb.batchnorm
    bn.set_weights([rng.uniform(0.5, 2, 12), rng.normal(0, 1, 12), rng.normal(0, 2, 12), rng.uniform(0.1, 4, 12)])
    path = tmp_path / "fork.h5"
    model.save(path)
    x = rng.integers(-16, 16, (500, 16)).astype(np.float32)
    expected = model.predict(x, verbose=0)

    with pytest.raises(ValueError, match="QDenseBatchnorm"):  # why keras_import exists: stock QKeras refuses the file
        load_qkeras_model(path)
    loaded = keras_import.load(path)
    assert loaded.folded == ["qdb"] and loaded.softmax_dropped is None
    assert type(loaded.model.get_layer("qdb")).__name__ == "QDense"
    got = loaded.model.predict(x, verbose=0)
    assert np.array_equal(got, expected)
    assert len(np.unique(expected)) > 20  # a real check: the outputs are not all clipped to one value

    with pytest.raises(ConfigError, match="no such file"):
        keras_import.load(tmp_path / "missing.h5")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(ConfigError, match="not an HDF5"):
        keras_import.load(tmp_path / "text.h5")


def test_a_published_hls4ml_config_merges_over_hls4ml_1_3s():
    import hls4ml
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu

    from frameworks.keras2 import keras
    from toolchains.hls4ml.settings import Hls4mlSettings

    x_in = keras.Input((8,), name="input_1")
    h = QDense(4, kernel_quantizer=quantized_bits(8, 3, alpha=1), bias_quantizer=quantized_bits(8, 3, alpha=1),
               name="q_dense")(x_in)
    model = keras.Model(x_in, QActivation(quantized_relu(6, 6), name="q_activation")(h))
    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis")
    given = {"Model": {"Strategy": "Resource", "Precision": "ap_fixed<16,8>", "ReuseFactor": 4, "FIFO_opt": 1},
             "LayerName": {"input_1": {"Precision": "ap_fixed<8,8>", "Trace": True},
                           "q_dense": {"Precision": {"weight": "ap_fixed<13,7>"}, "accum_t": "ap_fixed<16,8>",
                                       "ReuseFactor": 64}},
             "SkipOptimizers": ["relu_merge"]}
    changed = Hls4mlSettings(config=given).apply(model, config)
    layers = config["LayerName"]
    assert layers["input_1"]["Precision"]["result"] == "ap_fixed<8,8>"  # a string sets every type of the layer
    dense = layers["q_dense"]["Precision"]
    assert dense["weight"] == "ap_fixed<13,7>" and dense["accum"] == "ap_fixed<16,8>"
    assert dense["result"] == "ap_fixed<16,8>"  # was 'auto': older hls4ml gave it the Model precision
    assert config["Model"]["Strategy"] == "Resource"
    assert layers["q_dense"]["ReuseFactor"] == 32  # 64 > its 32 weights: clamped as hls4ml's validation would
    left_out = [c for c in changed if c.startswith("left out")]
    assert left_out and all(k in left_out[0] for k in ("Model.FIFO_opt", "LayerName.input_1.Trace", "SkipOptimizers"))


def test_a_strided_resource_convolution_costs_a_kernel_per_output_window(tmp_path, monkeypatch):
    """io_stream, Resource strategy: hls4ml 1.3's pixel loop is unpipelined and runs the dense kernel only
    where a window completes; a 4x4 stride-4 convolution on 16 x 16 has 16 windows for 256 pixels (one
    channel: a pixel arrives every cycle, faster than the loop takes it)."""
    import hls4ml

    from frameworks.keras2 import keras
    from toolchains.hls4ml import latency

    monkeypatch.chdir(tmp_path)
    x_in = keras.Input((16, 16, 1), name="x")
    model = keras.Model(x_in, keras.layers.Conv2D(8, 4, strides=4, name="c")(x_in))
    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis")
    config["Model"]["Strategy"] = "Resource"
    config["LayerName"]["c"]["ReuseFactor"] = 128  # its 4*4*1*8 weights: one multiplier
    hls_model = hls4ml.converters.convert_from_keras_model(model, hls_config=config, backend="Vitis", io_type="io_stream",
                                                           part="xc7z020clg400-1", clock_period=10,
                                                           output_dir=str(tmp_path / "prj"))
    timing = latency.model(hls_model)
    conv = next(layer for layer in timing["layers"] if layer["name"] == "c")
    kernel = latency.dense_cycles(4 * 4 * 1, 128)
    assert conv["kernel_cycles"] == kernel
    # 16 kernels and 256 pixel steps, the last window completing with the last pixel (not 256 kernels: 131k cycles)
    assert timing["cycles"] == pytest.approx(16 * kernel + 256 * latency.PIXEL_CYCLES, abs=10)


def _repo():
    from tasks import published_designs as pd

    repo, why = pd.locate()
    if repo is None:
        pytest.skip(why)
    return repo


def test_ad08_converts_with_its_choices_and_the_emulator_matches_the_c_simulation(tmp_path):
    from frameworks import keras_import
    from tasks import published_designs as pd
    from toolchains.hls4ml import convert
    from toolchains.hls4ml.settings import Hls4mlSettings

    repo = _repo()
    loaded = keras_import.load(repo.file("ad08_model", tmp_path))
    assert loaded.folded == [f"q_dense_batchnorm{s}" for s in ("", "_1", "_2", "_3", "_4")]
    x = np.floor(np.random.default_rng(0).normal(-40, 15, (300, 64))).astype(np.float32)
    report = convert.convert(loaded.model, "xc7z020clg400-1", 10.0, x, tmp_path / "convert",
                             Hls4mlSettings(**pd.ad08_settings(repo)), None)
    assert report["emulator"]["bit_identical_to_csim"] == 1.0 and report["io_type"] == "io_stream"
    assert report["max_abs_diff"] < 4.0  # its own types (16-bit accumulators, a ReLU with a half bit) vs QKeras, in dB
    # five dense kernels of ~144 cycles and one of 8, and the board IP's top moving the words in and out
    assert 800 < report["estimates"]["critical_path_cycles"] < 900


def test_rn07_converts_with_its_choices_and_its_modeled_latency_is_within_15_percent(tmp_path):
    from frameworks import keras_import
    from tasks import published_designs as pd
    from toolchains.hls4ml import convert
    from toolchains.hls4ml.settings import Hls4mlSettings

    repo = _repo()
    loaded = keras_import.load(repo.file("rn07_model", tmp_path))
    assert len(loaded.folded) == 5 and loaded.softmax_dropped == "softmax"
    rng = np.random.default_rng(0)
    # smooth random images (pixel / 256, the input type ap_ufixed<8,0>): blocks of 8 x 8 pixels
    x = (np.kron(rng.integers(0, 256, (12, 4, 4, 3)), np.ones((1, 8, 8, 1))) / 256).astype(np.float32)
    settings = Hls4mlSettings(**pd.rn07_settings(repo, [layer.name for layer in loaded.model.layers]))
    report = convert.convert(loaded.model, "xc7z020clg400-1", 10.0, x, tmp_path / "convert", settings, None)
    assert report["emulator"]["bit_identical_to_csim"] == 1.0
    assert report["argmax_agreement"] >= 0.75  # its own types vs QKeras (was 0 % with a stock conversion)
    measured_ms = 27.3  # published, Pynq-Z2 at 100 MHz (docs/fpga-reference.md 1)
    assert report["estimates"]["accelerator_latency_us"] / 1000 == pytest.approx(measured_ms, rel=0.15)


# the harness's ic FINN graph (tasks/ic/model_brevitas.py) as finn-plus 1.6.1 names its layers at the folding step
# (folding_map.layers_of of a build's step_apply_folding_config.onnx; a max pool is a sliding window + Pool)
CNV_LAYERS = [("ConvolutionInputGenerator", {"IFMChannels": 3}), ("MVAU", {"MH": 64, "MW": 27}),
              ("ConvolutionInputGenerator", {"IFMChannels": 64}), ("MVAU", {"MH": 64, "MW": 576}),
              ("PoolWindow", {"IFMChannels": 64}), ("Pool", {"Channels": 64}),
              ("ConvolutionInputGenerator", {"IFMChannels": 64}), ("MVAU", {"MH": 128, "MW": 576}),
              ("ConvolutionInputGenerator", {"IFMChannels": 128}), ("MVAU", {"MH": 128, "MW": 1152}),
              ("PoolWindow", {"IFMChannels": 128}), ("Pool", {"Channels": 128}),
              ("ConvolutionInputGenerator", {"IFMChannels": 128}), ("MVAU", {"MH": 256, "MW": 1152}),
              ("ConvolutionInputGenerator", {"IFMChannels": 256}), ("MVAU", {"MH": 256, "MW": 2304}),
              ("MVAU", {"MH": 512, "MW": 256}), ("MVAU", {"MH": 512, "MW": 512}), ("MVAU", {"MH": 10, "MW": 512}),
              ("ElementwiseMul", {}), ("ElementwiseAdd", {})]


def _cnv_layers(drop: int | None = None):
    from toolchains.finn.folding_map import Layer

    op = {"ConvolutionInputGenerator": "ConvolutionInputGenerator_rtl", "PoolWindow": "ConvolutionInputGenerator_rtl",
          "MVAU": "MVAU_hls", "Pool": "Pool_hls"}
    count: dict[str, int] = {}
    layers = []
    for i, (kind, dims) in enumerate(CNV_LAYERS):
        if i == drop:
            continue
        name = op.get(kind, f"{kind}_hls")
        count[name] = count.get(name, -1) + 1
        layers.append(Layer(f"{name}_{count[name]}", kind, dims))
    return layers


def test_cnv_w1a1s_published_folding_maps_onto_the_harness_cnv_by_kind_and_order():
    from tasks import published_designs as pd
    from toolchains.finn.folding_map import map_folding

    repo = _repo()
    published = pd.cnv_folding(repo, "pynq_z2")
    assert published == pd.cnv_folding(repo, "arty_a7")  # both boards' builds used the same folding
    mapping = map_folding(published, _cnv_layers())
    pairs = dict(mapping.pairs)
    assert len(pairs) == 15
    assert pairs["StreamingFCLayer_Batch_4"] == "MVAU_hls_4"
    assert mapping.config["MVAU_hls_4"] == {"PE": 4, "SIMD": 32, "ram_style": "auto"}
    assert mapping.config["MVAU_hls_0"]["PE"] == 16 and mapping.config["MVAU_hls_0"]["SIMD"] == 3
    # the sliding windows of the max pools are skipped: the third convolution's is the fourth window here
    assert pairs["ConvolutionInputGenerator_2"] == "ConvolutionInputGenerator_rtl_3"
    assert mapping.config["ConvolutionInputGenerator_rtl_2"] == {"SIMD": 64}  # a pool: all channels per cycle
    assert mapping.config["Pool_hls_1"] == {"PE": 128}
    assert [name for name, _ in mapping.dropped] == ["Thresholding_Batch_0", "LabelSelect_Batch_0"]
    assert mapping.unconfigured == ["ElementwiseMul_hls_0", "ElementwiseAdd_hls_0"]
    assert pd.cnv_clock_mhz(repo, "pynq_z2") == pd.cnv_clock_mhz(repo, "arty_a7") == 100.0  # synth_clk_period_ns=10.0


def test_a_folding_the_build_did_not_apply_is_named():
    from toolchains.finn.folding_map import not_applied

    config = {"Defaults": {}, "MVAU_hls_0": {"PE": 16, "SIMD": 3}, "Pool_hls_0": {"PE": 64}}
    applied = {"Defaults": {}, "MVAU_hls_0": {"PE": 16, "SIMD": 3, "ram_style": "auto"}, "Pool_hls_0": {"PE": 1}}
    assert not_applied(config, applied) == ["Pool_hls_0.PE 64 (applied: 1)"]
    assert not_applied(config, {**applied, "Pool_hls_0": {"PE": 64}}) == []
    # FINN 2022's names configure nothing in finn-plus: every entry is reported
    assert len(not_applied({"StreamingFCLayer_Batch_0": {"PE": 16, "SIMD": 3}}, applied)) == 2


def test_a_folding_for_another_network_is_refused_with_where_the_graphs_part():
    from common.errors import ConfigError
    from toolchains.finn.folding_map import map_folding

    published = {"Defaults": {}, "Thresholding_Batch_0": {"PE": 1}}
    published.update({f"ConvolutionInputGenerator_{i}": {"SIMD": 1} for i in range(6)})
    published.update({f"StreamingFCLayer_Batch_{i}": {"PE": 1, "SIMD": 1} for i in range(9)})
    order = [f"ConvolutionInputGenerator_{i // 2}" if i % 2 == 0 else f"StreamingFCLayer_Batch_{i // 2}" for i in range(12)]
    in_order = {name: published[name] for name in ["Defaults", *order, "StreamingFCLayer_Batch_6", "StreamingFCLayer_Batch_7",
                                                   "StreamingFCLayer_Batch_8"]}
    assert len(map_folding(in_order, _cnv_layers()).pairs) == 15  # the same network: accepted
    with pytest.raises(ConfigError, match=r"15 published \(6 ConvolutionInputGenerator, 9 MVAU\) against 14 here.*"
                                          r"position 3 \(MVAU published, ConvolutionInputGenerator here\)"):
        map_folding(in_order, _cnv_layers(drop=3))  # the second convolution's MVAU missing here
    with pytest.raises(ConfigError, match="StreamingFCLayer_Batch_1 -> MVAU_hls_1: SIMD 5 does not divide MW 576"):
        map_folding({**in_order, "StreamingFCLayer_Batch_1": {"PE": 1, "SIMD": 5}}, _cnv_layers())
    with pytest.raises(ConfigError, match="'MVAU_hls_0' is not a FINN layer name"):
        map_folding({**in_order, "MVAU_hls_0": {"PE": 1}}, _cnv_layers())
    with pytest.raises(ConfigError, match="sets inFIFODepths"):
        map_folding({**in_order, "StreamingFCLayer_Batch_8": {"PE": 1, "inFIFODepths": [2]}}, _cnv_layers())


def _finn_graph(path, nodes, shape_in, shape_out):
    from onnx import TensorProto, helper
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.basic import qonnx_make_model

    from toolchains.finn import novivado  # noqa: F401  (before finn)

    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape_in)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape_out)])
    ModelWrapper(qonnx_make_model(graph)).save(str(path))
    return path


def _mvau(name, i, o, mw, mh, simd, pe, vectors):
    from onnx import helper

    return helper.make_node("MVAU_hls", [i, f"{name}_w"], [o], domain="finn.custom_op.fpgadataflow.hls",
                            backend="fpgadataflow", name=name, MW=mw, MH=mh, SIMD=simd, PE=pe, numInputVectors=vectors,
                            inputDataType="BINARY", weightDataType="BINARY", outputDataType="BINARY", noActivation=1,
                            binaryXnorMode=1)


def test_overlapping_layers_an_mlp_by_hand_and_a_convolution_below_finns_critical_path(tmp_path):
    from onnx import helper

    from toolchains.finn import dataflow_latency

    # A: 8 -> 8, SIMD 2, PE 2 (SF 4, NF 4: 16 cycles); B: 8 -> 4, SIMD 2, PE 1 (16 cycles). The input's 4 words
    # arrive at cycles 0-3, so A's 4 first-fold steps end at 1-4 and its outputs leave at 4, 8, 12, 16; B reads
    # them as its first fold (steps ending 5, 9, 13, 17), then 3 more folds of 4: 29 (FINN adds up 16 + 16 = 32)
    mlp = _finn_graph(tmp_path / "mlp.onnx", [_mvau("A", "x", "h", 8, 8, 2, 2, [1]), _mvau("B", "h", "y", 8, 4, 2, 1, [1])],
                      [1, 8], [1, 4])
    assert dataflow_latency.latency(mlp) == {"cycles": 29.0, "layers": {"A": 16.0, "B": 29.0}}

    # a 3 x 3 convolution on 6 x 6 x 2: the window generator (159 cycles by FINN) and the MVAU (144) run together
    window = helper.make_node("ConvolutionInputGenerator_rtl", ["x"], ["w"], domain="finn.custom_op.fpgadataflow.rtl",
                              backend="fpgadataflow", name="S", ConvKernelDim=[3, 3], IFMChannels=2, IFMDim=[6, 6],
                              OFMDim=[4, 4], SIMD=2, Stride=[1, 1], Dilation=[1, 1], inputDataType="BINARY",
                              outputDataType="BINARY")
    conv = _finn_graph(tmp_path / "conv.onnx", [window, _mvau("M", "w", "y", 18, 4, 2, 4, [1, 4, 4])], [1, 6, 6, 2],
                       [1, 4, 4, 4])
    got = dataflow_latency.latency(conv)
    assert 144 < got["cycles"] <= 144 + 9 < 159 + 144  # the MVAU's 144 steps, waiting on little more than its last window


def test_the_closed_form_is_the_step_by_step_recurrence():
    from toolchains.finn.dataflow_latency import _run

    rng = np.random.default_rng(0)
    c = rng.integers(1, 4, 500).astype(float)
    arrival = np.where(rng.random(500) < 0.3, -np.inf, np.sort(rng.uniform(0, 900, 500)))
    t, expected = 0.0, []
    for cj, aj in zip(c, arrival):
        t = max(t, aj) + cj
        expected.append(t)
    assert np.array_equal(_run(c, arrival), np.array(expected))
