"""The runner against misbehaving, vanishing and scripted DUTs over real ptys, its dataset checks,
its metrics against the MLC runner's formulas, and provenance kept as data."""

from __future__ import annotations

import json
import math
import os
import subprocess
import threading
import time

import numpy as np
import pytest
import serial

from common import eembc_dataset as eembc
from common import metrics, provenance
from common.errors import DatasetError, DutError, DutLost
from runner import calibration, mlc_format
from runner.cli import main as runner_main
from runner.cli import run
from runner.dut import Dut, Identity
from runner.emulated import emulated_dut
from runner.transport import DRAIN_MAX_S, SerialTransport
from tests.conftest import build_stub_dut, shared
from tests.fake_dut import READY, FakeDut, write_ad_dataset

EMULATED = provenance.emulated()


@pytest.fixture
def fake():
    duts = []

    def make(**kwargs) -> FakeDut:
        duts.append(FakeDut(**kwargs))
        return duts[-1]

    yield make
    for d in duts:
        d.close()


def _results(out, mode):
    return (out / mode / "results.txt").read_text(), json.loads((out / mode / "results.json").read_text())


# ---- link faults ---------------------------------------------------------------------------------


def test_silent_dut_times_out_with_a_clear_error(fake):
    dut = fake()
    dut.answer = lambda command: b""
    with SerialTransport(dut.port, timeout_s=0.3) as t:
        with pytest.raises(DutError, match="no complete reply to 'name' within 0.3 s"):
            Dut(t).identify()


def test_a_chattering_dut_cannot_hang_the_runner(fake):
    dut = fake(chatter=b"debug: still here\r\n")
    start = time.monotonic()
    with SerialTransport(dut.port, timeout_s=0.5) as t:
        assert time.monotonic() - start < DRAIN_MAX_S + 1  # the boot drain gives up
        dut.answer = lambda command: b"more talk\r\n"  # lines, but never m-ready
        with pytest.raises(DutError, match="no complete reply to 'name' within 0.5 s"):
            t.send_command("name")
    assert time.monotonic() - start < DRAIN_MAX_S + 3


def test_malformed_replies_are_reported(fake):
    dut = fake()
    with SerialTransport(dut.port) as t:
        dut.answer = lambda command: b"hello\r\nm-ready\r\n"
        with pytest.raises(DutError, match="answered 'name' with \\['hello'\\].*baud rate"):
            Dut(t).identify()
        dut.answer = lambda command: b"m-infer-done\r\nm-results-[1.0,x]\r\nm-ready\r\n"
        with pytest.raises(DutError, match="malformed m-results"):
            Dut(t).infer(1, 0)


def test_error_reply_is_raised(fake):
    dut = fake()
    dut.answer = lambda command: b"e-[Supplied buffer size 4 exceeds maximum of 2]\r\nm-ready\r\n"
    with SerialTransport(dut.port) as t, pytest.raises(DutError, match="exceeds maximum"):
        Dut(t).load(b"\0\0\0\0")


def test_missing_port_is_a_clear_error():
    with pytest.raises(DutError, match="cannot open serial port /dev/does-not-exist"):
        SerialTransport("/dev/does-not-exist")


def test_resync_flushes_what_an_earlier_host_left(stub_dut):
    """A half-sent `db 0011` must not turn the next session's `name` into an error."""
    with emulated_dut(stub_dut["performance"]) as url:
        with serial.serial_for_url(url, timeout=0.1) as earlier:
            earlier.write(b"db 0011")  # no terminator: left in the DUT's command buffer
            time.sleep(0.1)
        with SerialTransport(url) as t:
            assert Dut(t).identify() == Identity("mlperf-tiny-fpga_pynq_z2_emulated", "ULPMark for tinyML Firmware V0.0.1",
                                                 "ad01", platform="host-emulation", timing="clock")


def test_a_boot_banner_after_the_drain_is_not_taken_for_a_reply():
    """A DUT that boots after the transport's drain fell quiet (a QEMU guest on a loaded machine)
    sends its banner, ending in m-ready, just before the reply to resync's lone %: `name` must still
    get its own reply."""

    class LateBoot(FakeDut):
        def answer(self, command: str) -> bytes:
            if not command.split() and len(self.commands) == 1:  # the boot banner, then the reply to %
                os.write(self.master, b"m-timestamp-mode-performance\r\nm-lap-us-0\r\nm-init-done\r\n" + READY)
                time.sleep(0.2)
            return super().answer(command)

    dut = LateBoot()
    try:
        with SerialTransport(dut.port) as t:
            assert Dut(t).identify() == Identity("fake", "ULPMark for tinyML Firmware V0.0.1", "ad01")
    finally:
        dut.close()


def test_a_dut_that_disappears_mid_run(stub_dut, tmp_path):
    """Killing the DUT (as an unplug would) gives a message naming the port and the command in
    flight, and the records received until then are on disk."""
    write_ad_dataset(tmp_path / "data", files=8, windows=60)
    proc = subprocess.Popen([str(stub_dut["performance"])], stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip().removeprefix("serial: ")
    threading.Timer(1.0, proc.kill).start()
    try:
        with pytest.raises(DutLost, match=f"lost the DUT on {url} during '(db|infer)"):
            run(url, tmp_path / "data", tmp_path / "out", ["accuracy"], EMULATED)
    finally:
        proc.kill()
        proc.wait()
    records = json.loads((tmp_path / "out" / "accuracy" / "results.json").read_text())
    assert 5 < len(records) < 8 * 60
    assert "lost the DUT" in (tmp_path / "out" / "accuracy" / "log.txt").read_text()
    assert not (tmp_path / "out" / "accuracy" / "results.txt").exists()  # no result claimed


# ---- dataset checks, before the DUT is contacted ---------------------------------------------------


@pytest.mark.parametrize(
    "row, message",
    [
        ("f.bin,2,x,2560,512", "class must be an integer, got 'x'"),
        ("f.bin,2,2,2560,512", "class 2 is not below classes=2"),
        ("f.bin,zz,0", "classes must be an integer"),
        ("f.bin,2,0,lots,512", "bytes_to_send must be an integer, got 'lots'"),
        ("f.bin,2,0,999999,512", "bytes_to_send 999999 is larger than f.bin"),
        ("f.bin,2,0,2560,0", "stride must be >= 1, got 0"),
        ("f.bin,2,0,2560", "expected file,classes,class"),
        ("missing.bin,2,0,2560,512", "missing.bin does not exist"),
    ],
)
def test_bad_labels_are_clear_errors_before_the_dut_is_contacted(tmp_path, row, message):
    folder = tmp_path / "ad01"
    folder.mkdir()
    (folder / "f.bin").write_bytes(b"\0" * 4096)
    (folder / "y_labels.csv").write_text(row + "\n")
    with pytest.raises(DatasetError, match=f"y_labels.csv:1: .*{message}"):
        run("/dev/nosuch", tmp_path, tmp_path / "out", ["accuracy"], EMULATED)  # not a DutError: checked first


def test_missing_labels_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="no <model id>/y_labels.csv"):
        eembc.load_all(tmp_path)
    with pytest.raises(DatasetError, match="is not a folder"):
        eembc.load_all(tmp_path / "nothing")


def test_official_kws01_files_load():
    folder = shared("datasets/kws01").parent
    entries = eembc.load(folder, "kws01")
    assert len(entries) == 1000
    assert all(len(e.data) == 490 and e.windows() == [e.data] and e.result_length == 12 for e in entries)
    assert entries[0].file == "tst_000000_Stop_7.bin" and entries[0].label == "7"


# ---- results that cannot be scored -------------------------------------------------------------------


@pytest.mark.parametrize("bad, reason", [("nan", "non-finite"), ("inf", "non-finite"),
                                         ("1.0,2.0", "2 values in m-results, expected 1")])
def test_an_unscorable_result_is_an_error_of_that_file(fake, tmp_path, bad, reason):
    write_ad_dataset(tmp_path / "data")
    dut = fake(score=lambda data: bad if data[0] == 1 else str(1.0 + data[0]))
    summary = run(dut.port, tmp_path / "data", tmp_path / "out", ["accuracy"], EMULATED)
    acc = summary["accuracy"]
    assert len(acc["file_errors"]) == 1 and acc["file_errors"][0].startswith("normal_id_01_00000001_hist_librosa.bin")
    assert reason in acc["file_errors"][0]
    text, records = _results(tmp_path / "out", "accuracy")
    assert "Top 1% = 100.0" in text and "AUC = 1.000" in text  # the other five files, perfectly separated
    assert [r["file"] for r in records if "error" in r] == ["normal_id_01_00000001_hist_librosa.bin"]
    assert "left out of the metrics" in (tmp_path / "out" / "accuracy" / "log.txt").read_text()


def test_a_refused_window_is_an_error_of_that_file(fake, tmp_path):
    write_ad_dataset(tmp_path / "data")
    dut = fake(score=lambda data: str(1.0 + data[0]))
    plain = dut.answer
    dut.answer = lambda c: (b"e-[ad01 input value 3 is not a finite number]\r\nm-ready\r\n"
                            if c.startswith("infer") and dut._data[0] == 4 else plain(c))
    summary = run(dut.port, tmp_path / "data", tmp_path / "out", ["accuracy"], EMULATED)
    assert summary["accuracy"]["file_errors"] == [
        "anomaly_id_01_00000004_hist_librosa.bin: window 0: DUT rejected 'infer 1 0': "
        "e-[ad01 input value 3 is not a finite number]"]


def test_one_class_only_gives_top1_and_no_auc_line(fake, tmp_path):
    write_ad_dataset(tmp_path / "data", labels=[0] * 6)
    dut = fake(score=lambda data: str(1.0 + data[0]))
    summary = run(dut.port, tmp_path / "data", tmp_path / "out", ["accuracy"], EMULATED)
    assert summary["accuracy"]["auc"] is None
    text, _ = _results(tmp_path / "out", "accuracy")
    assert "Top 1% =" in text and "AUC" not in text
    assert "AUC is undefined" in (tmp_path / "out" / "accuracy" / "log.txt").read_text()


# ---- performance mode: the MLC runner's rules -------------------------------------------------------


def test_error_1_when_there_are_fewer_than_5_files(fake, tmp_path):
    write_ad_dataset(tmp_path / "data", files=3)
    dut = fake()
    summary = run(dut.port, tmp_path / "data", tmp_path / "out", ["performance"], EMULATED, iterations=100)
    text, records = _results(tmp_path / "out", "performance")
    assert summary["performance"]["throughput"] is None
    assert text.count("Performance results for window") == 3
    assert text.splitlines()[-1].endswith("ulp-mlperf: ERROR 1 - loop_count was not exactly 5.")
    assert "Median" not in text and records[-1] == {"error": "error 1", "mode": "p"}


def test_error_2_replaces_the_median_of_a_short_loop(fake, tmp_path):
    write_ad_dataset(tmp_path / "data")
    dut = fake(us_per_inference=1000)
    run(dut.port, tmp_path / "data", tmp_path / "out", ["performance"], EMULATED, iterations=20_000)
    text, records = _results(tmp_path / "out", "performance")
    # each window is 20 s of DUT time ("requirements met"), but the host loop took well under 10 s
    assert text.count("Runtime requirements have been met.") == 5
    assert text.splitlines()[-1].endswith("ulp-mlperf: ERROR 2 - loop exited before 10 seconds elapsed.")
    assert "Median" not in text and records[-1] == {"error": "error 2", "mode": "p"}
    assert [r["infer"]["throughput"] for r in records[:5]] == [1000.0] * 5
    log = (tmp_path / "out" / "performance" / "log.txt").read_text()
    assert "WARNING: window 1 lasted 20.000 s" not in log  # 10-30 s is what the rules and the MLC runner accept


def test_windows_outside_10_to_30_seconds_are_flagged_in_the_log(fake, tmp_path):
    write_ad_dataset(tmp_path / "data")
    for iterations, expected in ((50_000, "lasted 50.000 s; the MLC runner gives up"),
                                 (5_000, "lasted 5.000 s; the run rules ask")):
        dut = fake(us_per_inference=1000)
        run(dut.port, tmp_path / "data", tmp_path / "out", ["performance"], EMULATED, iterations=iterations)
        log = (tmp_path / "out" / "performance" / "log.txt").read_text()
        assert f"WARNING: window 1 {expected}" in log
        assert "WARNING" not in (tmp_path / "out" / "performance" / "results.txt").read_text()


def test_a_one_second_window_target_gives_error_2(stub_dut, tmp_path):
    """The acceptance case on the emulated DUT: calibrated to 1 s windows, no median is written."""
    write_ad_dataset(tmp_path / "data")
    with emulated_dut(stub_dut["performance"]) as url:
        summary = run(url, tmp_path / "data", tmp_path / "out", ["performance"], EMULATED, target_s=1.0)
    text, _ = _results(tmp_path / "out", "performance")
    assert summary["performance"]["error"] == mlc_format.ERROR_2
    assert "ERROR 2 - loop exited before 10 seconds elapsed." in text and "Median throughput" not in text


def test_an_energy_build_in_performance_mode_is_a_clear_error(fake, tmp_path):
    write_ad_dataset(tmp_path / "data")
    dut = fake(laps=False)
    with pytest.raises(DutError, match="no m-lap-us pair.*performance build"):
        run(dut.port, tmp_path / "data", tmp_path / "out", ["performance"], EMULATED, iterations=100)


def test_calibration_targets_the_window_length(fake):
    dut = fake(us_per_inference=100)
    with SerialTransport(dut.port) as t:
        n = calibration.calibrate(Dut(t), b"\0" * 2560, target_s=10.0).iterations
    # probes 1, 10, 40, ..., 10240 inferences; 10240 x 100 us = 1.024 s >= 1 s; then 10 s with the margin
    assert [c for c in dut.commands if c.startswith("infer")] == ["infer 1 1"] + [f"infer {10 * 4**k} 1" for k in range(6)]
    assert n == math.ceil(10.0 * calibration.CALIBRATION_MARGIN * 10240 * 1e6 / 1_024_000)


def test_calibration_of_a_dut_taking_seconds_per_inference_starts_with_one():
    """vww's MobileNet in QEMU takes 4-6 s an inference: a first probe of `infer 10 1` (55 s) outran the
    30 s floor and the run stopped. The first probe is one inference and its warm-up; it lasts over a
    second, so it calibrates, and the waits after it follow its pace."""
    asked = []

    def probe(n: int, timeout_s: float) -> calibration.Probe:
        asked.append((n, timeout_s))
        if 5.0 * (n + 1) > timeout_s:
            raise AssertionError(f"infer {n} 1 takes {5.0 * (n + 1)} s, past its wait of {timeout_s} s")
        return calibration.Probe(n, 5.0 * n, 5.0 * (n + 1))

    c = calibration.grown(probe, target_s=10.0, probe_s=1.0, floor_s=30.0)
    assert asked == [(1, 30.0)] and c.iterations == 10 and c.pace == 5.0  # 10: the fewest a window runs
    assert calibration.deadline_s(c.iterations + 1, c.pace, 30.0) == 3 * 11 * 5.0  # the window's wait follows its pace


def test_calibration_respects_the_firmware_bound(fake):
    dut = fake(us_per_inference=1)
    with SerialTransport(dut.port) as t:
        assert calibration.calibrate(Dut(t), b"\0" * 2560, target_s=100.0).iterations == calibration.MAX_ITERATIONS


# ---- metrics: the MLC runner's formulas -------------------------------------------------------------


def _reference_ad_top1(scores: np.ndarray, labels: np.ndarray) -> float:
    """docs/mlperf-tiny.md 3.7: thresholds min + k/100 (max - min), anomaly when score > threshold."""
    best = 0.0
    for k in range(100):
        t = scores.min() + k / 100 * (scores.max() - scores.min())
        tp = fp = fn = 0
        for s, y in zip(scores, labels):
            tp += s > t and y == 1
            fp += s > t and y == 0
            fn += s <= t and y == 1
        best = max(best, 100 * (tp / (tp + fp + 1e-8) + tp / (tp + fn + 1e-8)) / 2)
    return best


def _skeleton_ad_top1(scores, labels) -> float:
    """The formula this project used before (linspace, >=, max(1, ...)): kept to show the test can fail."""
    best = 0.0
    for t in np.linspace(scores.min(), scores.max(), 100):
        p = scores >= t
        tp = np.sum(p & (labels == 1))
        best = max(best, (tp / max(1, p.sum()) + tp / max(1, np.sum(labels == 1))) / 2)
    return 100 * best


def test_ad_top1_is_the_mlc_formula_on_random_score_sets():
    rng = np.random.Generator(np.random.MT19937(5))
    differs_from_old = 0
    for _ in range(200):
        n = int(rng.integers(4, 60))
        labels = rng.integers(0, 2, n)
        labels[:2] = [0, 1]
        scores = rng.normal(0, 1, n) + labels * rng.uniform(0, 2)
        got = metrics.top1(labels, scores[:, None])
        assert got == pytest.approx(_reference_ad_top1(scores, labels), abs=1e-9)
        differs_from_old += abs(got - _skeleton_ad_top1(scores, labels)) > 1e-6
    assert differs_from_old > 10  # the old formula really was different


def test_classification_metrics():
    labels = np.array([0, 1, 2, 2])
    preds = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    assert metrics.top1(labels, preds) == 75.0
    assert metrics.auc(labels, preds) == pytest.approx(0.9166666, abs=1e-6)
    assert metrics.auc(np.array([0, 0, 0, 0]), preds) is None  # undefined, not nan
    np.testing.assert_allclose(metrics.per_file_prediction([[1, 3], [2, 2]]), [0.375, 0.625])  # normalised, then mean
    np.testing.assert_allclose(metrics.per_file_prediction([[4.0], [2.0]]), [3.0])  # a single score is not


def test_ad_auc_is_the_binary_auc():
    from sklearn.metrics import roc_auc_score

    labels, scores = np.array([0, 0, 1, 1, 0, 1]), np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    assert metrics.auc(labels, scores[:, None]) == roc_auc_score(labels, scores)


# ---- provenance is data ------------------------------------------------------------------------------


def test_a_hardware_looking_name_launched_as_an_emulation_stays_emulated(tmp_path):
    from results import report

    binary = build_stub_dut(tmp_path / "dut", vendor_name="mlperf-tiny-fpga_pynq_z2")["performance"]
    write_ad_dataset(tmp_path / "data")
    with emulated_dut(binary) as url:
        summary = run(url, tmp_path / "data", tmp_path / "out", ["accuracy"], provenance.emulated(data="synthetic"))
    assert summary["name"] == "mlperf-tiny-fpga_pynq_z2"  # looks like a board ...
    assert summary["provenance"]["link"] == "host-emulation"  # ... but is recorded as what was launched
    table = report.flow_table("ad", "hls4ml", "pynq_z2", {"metric": "AUC", "host_value": 0.9, "host_what": "QKeras"},
                              {"exact_fraction": 1.0, "windows_checked": 1}, summary)
    dut_rows = table[~table["where"].isin(["host", "published (hardware)"])]
    assert list(dut_rows["where"]) == ["emulated DUT"] and "not FPGA speed" in dut_rows["what"].iloc[0]


def test_cli_reports_errors_without_a_traceback(tmp_path, capsys):
    write_ad_dataset(tmp_path / "data")
    assert runner_main(["--port", "/dev/does-not-exist", "--dataset", str(tmp_path / "data"), "--out", str(tmp_path / "o")]) == 1
    assert "runner: cannot open serial port /dev/does-not-exist" in capsys.readouterr().err


def test_auc_of_scores_that_are_not_numbers_names_that_not_the_labels(tmp_path):
    """A NaN score is the DUT's fault, not the test list's: the old code returned None and the log
    blamed label coverage."""
    labels = np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match="1 file\\(s\\) have scores that are not finite"):
        metrics.auc(labels, np.array([[0.1], [np.nan], [0.8], [0.9]]))
    assert metrics.auc(np.array([0, 0, 0, 0]), np.array([[0.1], [0.2], [0.3], [0.4]])) is None  # a class missing
