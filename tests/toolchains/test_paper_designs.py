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
  RN07's modeled latency within 15 % of its measured 27.3 ms on the Pynq-Z2.
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
