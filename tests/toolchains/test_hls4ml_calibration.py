"""The hls4ml calibration pass (toolchains/hls4ml/calibration.py) and the calibration sets it measures on
(tasks/calibration.py, tasks/<task>/calibration_set.py): types from the Keras outputs' ranges, the record in
the convert report, and calibration sets that never draw from the test files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from common.errors import ConfigError
from frameworks import keras2  # noqa: F401  (Keras 2 before hls4ml)
from tests.conftest import shared
from toolchains.hls4ml.settings import Hls4mlSettings


@pytest.mark.parametrize("largest, signed, margin, bits", [
    (40.0, True, 0, 7),    # 32 <= 40 < 64: 6 bits of magnitude and a sign
    (40.0, True, 1, 8),
    (40.0, False, 0, 6),
    (64.0, False, 0, 7),   # a power of two needs the next bit: ufixed<W,6> stops just below 64
    (0.3, False, 0, -1),   # ufixed<W,-1> holds up to 0.5
    (0.0, False, 1, 1),
])
def test_integer_bits_hold_the_largest_magnitude(largest, signed, margin, bits):
    from toolchains.hls4ml.calibration import integer_bits

    assert integer_bits(largest, signed, margin) == bits
    top = 2.0 ** (bits - margin - int(signed))  # what the type holds (below this) without the margin
    assert largest < top and (largest == 0 or largest >= top / 2)  # and not a bit more than needed


def test_a_type_wider_than_its_width_is_refused():
    from toolchains.hls4ml.calibration import result_type

    assert result_type(-40.0, 12.0, 16, 0) == "fixed<16,7,RND,SAT>"
    assert result_type(0.0, 40.0, 16, 1) == "ufixed<16,7,RND,SAT>"
    with pytest.raises(ConfigError, match="more than the type's width 8"):
        result_type(0.0, 1000.0, 8, 1)


def test_calibrate_settings_are_validated_on_load():
    s = Hls4mlSettings(calibrate={"layers": ["relu*", "d"], "width": 12})
    assert s.calibrate.layers == {"relu*": None, "d": None} and s.calibrate.width_of("d") == 12
    assert Hls4mlSettings(calibrate={"layers": {"d": 24}}).calibrate.width_of("d") == 24
    with pytest.raises(ValidationError, match="2..64 bits"):
        Hls4mlSettings(calibrate={"layers": {"d": 99}})
    with pytest.raises(ValidationError, match="at least 1"):
        Hls4mlSettings(calibrate={"layers": []})
    with pytest.raises(ValidationError, match="extra"):
        Hls4mlSettings(calibrate={"layers": ["d"], "margin": 1})


def _model():
    """x (4) -> Dense d (its outputs reach -40 .. 40 on the inputs below) -> ReLU r -> Dense out."""
    from frameworks.keras2 import keras

    x_in = keras.Input((4,), name="x")
    d = keras.layers.Dense(2, name="d")
    r = keras.layers.Activation("relu", name="r")
    o = keras.layers.Dense(2, name="out")
    model = keras.Model(x_in, o(r(d(x_in))))
    d.set_weights([np.array([[10.0, -10.0], [0, 0], [0, 0], [0, 0]], np.float32), np.zeros(2, np.float32)])
    o.set_weights([np.eye(2, dtype=np.float32) * 0.5, np.zeros(2, np.float32)])
    return model


def _hls_config(model):
    import hls4ml

    return hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis")


def test_the_pass_sizes_each_layer_from_its_keras_output():
    """d reaches -40 and 40 (signed: 7 integer bits, +1 margin), r 40 (unsigned: 6, +1), out 20 (never negative:
    unsigned, 5 + 1, at the 20 bits its pattern asks)."""
    from toolchains.hls4ml import calibration

    model = _model()
    x = np.zeros((50, 4), np.float32)
    x[:, 0] = np.linspace(-4, 4, 50)
    config = _hls_config(model)
    settings = Hls4mlSettings(calibrate={"layers": {"d": None, "r": None, "out*": 20}, "width": 16, "margin_bits": 1})
    record = calibration.apply(model, config, settings, x, {"source": "a test set", "data_kind": "synthetic", "count": 50})
    types = {n: c["result"] for n, c in record["layers"].items()}
    assert types == {"d": "fixed<16,8,RND,SAT>", "r": "ufixed<16,7,RND,SAT>", "out": "ufixed<20,6,RND,SAT>",
                     "out_linear": "ufixed<20,6,RND,SAT>"}
    assert {n: config["LayerName"][n]["Precision"]["result"] for n in types} == types
    assert record["layers"]["r"]["max"] == pytest.approx(40.0) and record["layers"]["d"]["min"] == pytest.approx(-40.0)
    assert record["source"] == "a test set" and record["inputs"] == 50 and record["margin_bits"] == 1


def test_the_pass_refuses_what_it_cannot_measure_or_what_layers_set_already():
    from frameworks.keras2 import keras
    from toolchains.hls4ml import calibration

    model, x = _model(), np.ones((4, 4), np.float32)
    with pytest.raises(ConfigError, match="set in `layers`"):
        calibration.apply(model, _hls_config(model), Hls4mlSettings(layers={"r": {"result": "ufixed<8,4>"}},
                                                                    calibrate={"layers": ["r*"]}), x, {})
    with pytest.raises(ConfigError, match="'nothing' matches no layer"):
        calibration.apply(model, _hls_config(model), Hls4mlSettings(calibrate={"layers": ["nothing"]}), x, {})
    x_in = keras.Input((4,), name="x")
    bn = keras.layers.BatchNormalization(name="bn")(keras.layers.Dense(3, name="d")(x_in))
    folded = keras.Model(x_in, keras.layers.Dense(2, activation="relu", name="e")(bn))
    with pytest.raises(ConfigError, match="feeds a BatchNormalization"):
        calibration.apply(folded, _hls_config(folded), Hls4mlSettings(calibrate={"layers": ["d"]}), x, {})
    with pytest.raises(ConfigError, match="fused relu"):
        calibration.apply(folded, _hls_config(folded), Hls4mlSettings(calibrate={"layers": ["e"]}), x, {})


@pytest.mark.slow
def test_the_convert_report_records_the_calibration(tmp_path):
    """Through convert: the calibrated types reach hls4ml's model (the emulator still bit-identical with the C
    simulation), the report names the calibration set and the types; without calibration inputs it refuses."""
    from toolchains.hls4ml import convert

    model = _model()
    rng = np.random.default_rng(0)
    calib = rng.uniform(-4, 4, (64, 4)).astype(np.float32)
    tests = rng.uniform(-3, 3, (40, 4)).astype(np.float32)
    settings = Hls4mlSettings(io_type="io_parallel", input="fixed<16,4,RND,SAT>", agreement="argmax", min_agreement=0.9,
                              calibrate={"layers": ["d*", "r", "out*"], "margin_bits": 1})
    what = {"source": "uniform stand-in", "data_kind": "synthetic", "count": 64}
    with pytest.raises(ConfigError, match="calibrate needs calibration inputs"):
        convert.convert(model, "xc7z020clg400-1", 10.0, tests, tmp_path, settings)
    out = tmp_path / "convert"
    out.mkdir()
    report = convert.convert(model, "xc7z020clg400-1", 10.0, tests, out, settings, calibration=(calib, what))
    cal = report["calibration"]
    assert cal["source"] == "uniform stand-in" and cal["inputs"] == 64
    assert cal["layers"]["r"]["result"].startswith("ufixed<16,") and cal["layers"]["d"]["result"].startswith("fixed<16,")
    assert report["emulator"]["bit_identical_to_csim"] == 1.0
    assert any("(calibrated" in fix for fix in report["precision_fixes"])
    header = (out / "hls4ml_prj" / "firmware" / "defines.h").read_text()
    assert "ap_ufixed<16,7,AP_RND,AP_SAT" in header  # r's type, calibrated (reaches 39.x: 6 bits + 1 margin)
    assert "ap_fixed<16,6> layer" not in header  # d_linear (hls4ml's) calibrated too: its default would wrap at 32


# ---- calibration sets: never the test files ---------------------------------------------------------------
def test_the_ic_list_is_the_official_one_without_the_ic01_test_images():
    from tasks.ic import calibration_set

    listed = np.array([int(v) for v in calibration_set.LIST.read_text().split()])
    assert np.array_equal(listed, np.load(shared("models/reference/calibration_samples_idxs.npy")))
    perf = np.load(shared("models/reference/perf_samples_idxs.npy"))
    kept, left_out = calibration_set.official_indices(perf)
    assert sorted(left_out.tolist()) == [5315, 5984, 6751, 8116, 9045]
    assert len(kept) == 495 and not np.isin(kept, perf).any()


def test_the_ic_data_stage_calibrates_on_training_images_never_on_test_files(tmp_path):
    """A synthetic data stage: every calibration image is a training image, none is an exported test file."""
    from tasks import calibration, load_recipe

    recipe = load_recipe("ic", {"data.synthetic.images_per_batch": 300, "testset.per_class": 2,
                                "reference.calibration.samples": 150})
    outputs = recipe.data("synthetic", None, tmp_path)
    samples, what = calibration.read(tmp_path / outputs["artifacts"]["calibration"])
    assert what["data_kind"] == "synthetic" and what["count"] == 150 == len(samples) and what["batch"] == "train"
    tests = {p.read_bytes() for p in (tmp_path / "eembc" / "ic01").glob("*.bin")}
    train = {img.tobytes() for f in ("train.npz", "validation.npz") for img in np.load(tmp_path / f)["x"]}
    assert tests and all(s.tobytes() in train and s.tobytes() not in tests for s in samples)
    inputs = recipe.calibration_inputs(samples)
    assert inputs.shape == (150, 32, 32, 3) and inputs.dtype == np.float32 and inputs.max() <= 255


def test_the_kws_rule_draws_ten_per_class_from_the_validation_split_only():
    from tasks.calibration import CalibrationConfig
    from tasks.kws import calibration_set

    rng = np.random.default_rng(0)
    val_y = np.repeat(np.arange(12), 30)
    sets = {"train": (rng.normal(size=(50, 49, 10)), np.zeros(50, int)),
            "validation": (np.arange(360)[:, None, None] * np.ones((1, 49, 10)), val_y),
            "test": (np.full((5, 49, 10), -1.0), np.zeros(5, int))}
    x, what = calibration_set.choose(sets, "real", CalibrationConfig(samples=500))
    picked = x[:, 0, 0].astype(int)
    assert what["split"] == "validation" and what["count"] == 120 and "does not reproduce" in what["source"]
    assert np.array_equal(np.bincount(val_y[picked]), np.full(12, 10)) and len(set(picked)) == 120
    assert np.array_equal(picked, calibration_set.by_the_reference_rule(val_y))  # the same draw every time
    x, what = calibration_set.choose(sets, "synthetic", CalibrationConfig(samples=20))
    assert what["split"] == "train" and len(x) == 20 and not (x == -1.0).all(axis=(1, 2)).any()


def test_the_ad_list_takes_the_listed_training_wavs_windows_only():
    from tasks.ad import calibration_set
    from tasks.calibration import CalibrationConfig

    names = calibration_set.listed_names()
    assert len(names) == 1400 and names[0] == "normal_id_01_00000000.wav"
    train = [Path("train") / n for n in (names[0], "normal_id_01_00000001.wav", names[1])]
    windows = [np.full((6, 640), i, np.float32) for i in range(3)]  # file i's windows hold i
    x, what = calibration_set.choose(train, windows, "real", CalibrationConfig(samples=8))
    assert set(np.unique(x)) == {0.0, 2.0} and len(x) == 8  # the unlisted WAV (1) is left out; 12 thinned to 8
    assert what["files"] == 2 and what["files_missing"] == 1398


def test_a_calibrated_reference_keeps_its_data_stage_with_a_test_folder_of_its_own(tmp_path):
    """The calibration set comes from the data stage: with testset= it still runs for hls4ml's reference (whose
    types are calibrated), not for FINN's (the official int8 model, quantized by MLPerf)."""
    from pipeline.flow import Flow

    kws01 = str(shared("datasets/kws01"))
    assert "data" in Flow(task="kws", board="pynq_z2", model="reference", testset=kws01, build_root=tmp_path).stages
    assert "data" not in Flow(task="kws", board="pynq_z2", flow="finn", model="reference", testset=kws01,
                              build_root=tmp_path).stages


@pytest.mark.slow
def test_the_reference_train_stage_records_its_calibration_set(tmp_path):
    """ic's reference on a small synthetic data stage: the train stage writes the calibration inputs (the model's
    raw pixels) and its metrics say which set they are; the toolchain reads the same back."""
    from pipeline.execute import run_stages
    from pipeline.flow import Flow
    from tasks import calibration

    shared("models/reference/pretrainedResnet.h5")
    flow = Flow(task="ic", board="pynq_z2", model="reference", data="synthetic", build_root=tmp_path,
                overrides={"data.synthetic.images_per_batch": 300, "testset.per_class": 2, "reference.calibration.samples": 40})
    run_stages(flow, stop="train")
    train = flow.manifest("train")["outputs"]
    assert train["calibration"]["data_kind"] == "synthetic" and train["calibration"]["count"] == 40
    assert "synthetic stand-in" in train["calibration"]["source"]
    inputs, what = flow.recipe.calibration(flow.artifacts("train"))
    assert what == train["calibration"] and inputs.shape == (40, 32, 32, 3)
    samples, _ = calibration.read(flow.artifacts("data")["calibration"])
    assert np.array_equal(inputs, samples.astype(np.float32))  # raw pixels: the reference's input_shift 0
