"""The kws01 recipe: test-file encoding byte for byte, the firmware's input mapping on the emulated
board, the synthetic-speech flow end to end on a small configuration, and the MLPerf reference
DS-CNN through hls4ml, firmware and runner on the 1000 official files (when ../shared is present)."""

from __future__ import annotations

import numpy as np
import pytest

from common import provenance
from runner.cli import run
from runner.emulated import emulated_dut
from tasks import load_recipe
from tasks.kws import testset
from tests.conftest import build_stub_dut, shared

ENC = load_recipe("kws").cfg.input


def test_encoding_truncates_toward_zero_and_wraps_like_the_reference():
    x = np.array([0.0, 0.29, -0.29, 0.5847029 * 10.5, -0.5847029 * 10.5, 0.5847029 * 50, -0.5847029 * 300])
    # x / scale + 83 = 83, 83.5, 82.5, 93.5, 72.5, 133 (wraps to -123), -217 (wraps to 39)
    assert testset.encode(x, ENC).tolist() == [83, 83, 82, 93, 72, 133 - 256, -217 + 256]


def test_export_writes_the_kws01_layout_and_reads_back(tmp_path):
    rng = np.random.default_rng(0)
    features = rng.normal(0, 20, (3, 49, 10)).astype(np.float32)
    classes = load_recipe("kws").cfg.classes
    testset.export(features, np.array([7, 10, 11]), classes, tmp_path / "kws01", ENC)
    assert (tmp_path / "kws01" / "y_labels.csv").read_text() == (
        "tst_000000_Stop_7.bin,12,7\ntst_000001_Silence_10.bin,12,10\ntst_000002_Unknown_11.bin,12,11\n")
    raw = (tmp_path / "kws01" / "tst_000000_Stop_7.bin").read_bytes()
    assert len(raw) == 490
    # frame-major: byte 10*f + c is frame f, coefficient c
    assert np.frombuffer(raw, np.int8)[10 * 3 + 4] == testset.encode(features[0, 3, 4], ENC)
    q, labels = testset.read(tmp_path, "kws01", 490)
    assert labels.tolist() == [7, 10, 11] and (q[1] == testset.encode(features[1].ravel(), ENC)).all()


def test_an_official_kws01_file_round_trips_through_scale_and_zero_point():
    raw = np.frombuffer(shared("datasets/kws01/tst_000000_Stop_7.bin").read_bytes(), np.int8)
    q = raw.astype(np.float64)
    # decode, nudged a hair away from zero so that truncation lands back on the integer
    mfcc = (q - ENC.zero_point + np.sign(q) * 1e-6) * ENC.scale
    assert (testset.encode(mfcc, ENC) == raw).all()


def test_the_firmware_feeds_the_accelerator_int8_minus_zero_point(tmp_path):
    """The stub accelerator returns its first 12 inputs as logits: the DUT's softmax then shows
    exactly which integers th_load_tensor made of the bytes."""
    binary = build_stub_dut(tmp_path / "dut", task="kws")["performance"]
    folder = tmp_path / "data" / "kws01"
    folder.mkdir(parents=True)
    q = np.zeros(490, np.int8)
    q[:12] = [83, 84, 85, 80, -128, 127, 83, 83, 90, 83, 83, 83]
    (folder / "a.bin").write_bytes(q.tobytes())
    (folder / "y_labels.csv").write_text("a.bin,12,5\n")
    with emulated_dut(binary) as url:
        summary = run(url, tmp_path / "data", tmp_path / "out", ["accuracy"], provenance.emulated(data="synthetic"))
    record = next(r for r in __import__("json").loads((tmp_path / "out" / "accuracy" / "results.json").read_text())
                  if "infer" in r)
    logits = q[:12].astype(np.float64) - 83
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert np.allclose(record["infer"]["results"], expected, atol=5e-7)
    assert summary["accuracy"]["top1"] == 100.0  # class 5 holds the largest integer (127 - 83)


SMALL = {"data.synthetic.utterances_per_word": 24, "train.epochs": 25, "min_top1.synthetic": 0.5}


@pytest.mark.slow
def test_synthetic_speech_flow_learns_the_words(tmp_path):
    """Every stage on a small synthetic set: espeak-ng words, MFCC, QKeras DS-CNN, hls4ml io_stream
    (bit-identical), firmware, runner. A model that did not hear the words would score about 1/12."""
    from pipeline.execute import run_stages
    from pipeline.flow import Flow

    flow = Flow(task="kws", board="pynq_z2", data="synthetic", build_root=tmp_path, overrides=SMALL, modes=["accuracy"])
    run_stages(flow)
    train, convert = flow.manifest("train")["outputs"], flow.manifest("convert")["outputs"]
    run_out = flow.manifest("run")["outputs"]
    assert convert["exact_fraction"] == 1.0
    assert train["host_value"] >= 50.0
    assert abs(run_out["accuracy"]["top1"] - train["host_value"]) < 1e-9  # the DUT runs the very same model
    assert (flow.eembc() / "kws01" / "SYNTHETIC").exists() and run_out["provenance"]["data"] == "synthetic"


@pytest.mark.slow
def test_reference_ds_cnn_on_the_official_kws01_files(tmp_path):
    """The acceptance figure: top-1 of the MLPerf reference DS-CNN through hls4ml emulation,
    firmware and runner on the 1000 official files (the reference int8 tflite scores 90.2 %)."""
    from pipeline.execute import run_stages
    from pipeline.flow import Flow

    shared("models/reference/kws_ref_model_float32.tflite")
    flow = Flow(task="kws", board="pynq_z2", model="reference", testset=str(shared("datasets/kws01")), build_root=tmp_path,
                modes=["accuracy"])
    run_stages(flow)
    assert "data" in flow.stages  # its calibration set (tasks/kws/calibration_set.py)
    convert = flow.manifest("convert")["outputs"]
    acc = flow.manifest("run")["outputs"]["accuracy"]
    assert convert["argmax_agreement"] >= 0.99
    assert acc["files"] == 1000 and not acc["file_errors"]
    assert acc["top1"] >= 89.5
    assert flow.manifest("run")["outputs"]["provenance"]["data"] == "real"
