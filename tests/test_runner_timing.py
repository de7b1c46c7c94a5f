"""Time as the runner sees it: the DUT's clock checked against the host's during calibration, and
deadlines that follow what the DUT really takes on the host, not what its clock says (an emulated
DUT with modeled timing counts a fast board's time while taking the host's). The DUTs are scripted
on real ptys and really take their time: each inference sleeps host_s_per_inference, while their
clock advances by us_per_inference."""

from __future__ import annotations

import json
import os
import re
import time

import pytest

from common import provenance
from runner import calibration, clock_check
from runner.cli import run
from runner.dut import Dut
from runner.monitors import lpm01a, simulated
from runner.transport import SerialTransport
from tests.fake_dut import READY, FakeDut, write_ad_dataset
from tests.test_runner_energy_checks import EnergyFakeDut

EMULATED = provenance.emulated()
MODELED = provenance.emulated().model_copy(update={"timing": "modeled"})


class PacedFakeDut(FakeDut):
    """A performance build whose inferences take host time: its first m-lap-us line goes out before
    the loop, the last after it, as the firmware prints them."""

    def __init__(self, host_s_per_inference: float, **kwargs):
        super().__init__(**kwargs)
        self.host_s = host_s_per_inference

    def answer(self, command: str) -> bytes:
        words = command.split()
        if words[:1] != ["infer"]:
            return super().answer(command)
        n, w = int(words[1]), int(words[2])
        time.sleep(w * self.host_s)
        os.write(self.master, f"m-warmup-start-{w}\r\nm-warmup-done\r\nm-infer-start-{n}\r\nm-lap-us-{self.clock}\r\n".encode())
        time.sleep(n * self.host_s)
        self.clock += n * self.us
        return f"m-lap-us-{self.clock}\r\nm-infer-done\r\nm-results-[{self.score(self._data)}]\r\n".encode() + READY


# ---- the DUT's clock against the host's ------------------------------------------------------------


@pytest.mark.parametrize("us, within", [(500, True), (550, False), (450, False)])
def test_calibration_compares_the_dut_clock_with_the_hosts(us, within):
    """A timer 10 % fast or slow (its firmware assumes a wrong clock) is named; an exact one is not."""
    dut = PacedFakeDut(0.0005, us_per_inference=us)
    try:
        with SerialTransport(dut.port) as t:
            calibrated = calibration.calibrate(Dut(t), b"\0" * 2560, target_s=1.0)
    finally:
        dut.close()
    check = calibrated.clock
    assert check["dut_s"] == pytest.approx(2560 * us / 1e6)  # the last probe: 2560 inferences
    assert check["host_s"] == pytest.approx(2560 * 0.0005, rel=0.015)
    assert check["within"] is within
    assert check["deviation"] == pytest.approx(us / 500 - 1, abs=0.015)
    text = clock_check.describe(check)
    assert ("WARNING" in text and "timer clock is wrong" in text and "UART is too slow" in text) is not within


def test_the_clock_check_is_in_the_log_and_in_results_json(tmp_path):
    write_ad_dataset(tmp_path / "data")
    dut = PacedFakeDut(0.0005, us_per_inference=525)  # the timer runs 5 % fast
    try:
        summary = run(dut.port, tmp_path / "data", tmp_path / "out", ["performance"], EMULATED, target_s=0.2)
    finally:
        dut.close()
    log = (tmp_path / "out" / "performance" / "log.txt").read_text()
    assert re.search(r"WARNING: clock check: the DUT's m-lap-us interval [0-9.]+ s, the host's clock [0-9.]+ s "
                     r"\(\+[45]\.\d+%, beyond 2%\)", log), log
    records = json.loads((tmp_path / "out" / "performance" / "results.json").read_text())
    checks = [r["clock_check"] for r in records if "clock_check" in r]
    assert len(checks) == 1 and checks[0]["within"] is False and checks[0] == summary["performance"]["clock_check"]
    assert len([r for r in records if "infer" in r]) == 5  # the windows are as they were


def test_no_clock_check_on_a_modeled_clock(tmp_path):
    write_ad_dataset(tmp_path / "data")
    dut = PacedFakeDut(0.0005, us_per_inference=1000)  # a modeled board, twice as slow as the host
    try:
        summary = run(dut.port, tmp_path / "data", tmp_path / "out", ["performance"], MODELED, target_s=0.2)
    finally:
        dut.close()
    assert summary["performance"]["clock_check"] is None
    assert "clock check: not made: the DUT's clock is the modeled board's" in (
        tmp_path / "out" / "performance" / "log.txt").read_text()
    assert not any("clock_check" in r for r in json.loads((tmp_path / "out" / "performance" / "results.json").read_text()))


# ---- deadlines follow the host's time ------------------------------------------------------------
# The MLC runner's 30 s wait is made 50 ms here (monkeypatched where each mode reads it), so a DUT
# that takes half a second of host time stands for one that takes minutes: before, the deadline
# came from that wait or the DUT's own (modeled) clock and fired.


def test_performance_with_modeled_timing_waits_for_the_hosts_time(tmp_path, monkeypatch):
    from runner.modes import performance

    monkeypatch.setattr(performance, "INFER_TIMEOUT_S", 0.05)
    write_ad_dataset(tmp_path / "data")
    dut = PacedFakeDut(0.0001, us_per_inference=1)  # the modeled board: 1 us; the host: 100 us
    try:
        summary = run(dut.port, tmp_path / "data", tmp_path / "out", ["performance"], MODELED, iterations=5000,
                      target_s=0.05)
    finally:
        dut.close()
    assert summary["performance"]["window_throughputs"] == [1e6] * 5  # the modeled board's throughput
    assert [c for c in dut.commands if c.startswith("infer")] == ["infer 1 1"] + ["infer 5000 10"] * 5
    assert re.search(r"modeled timing: the host takes [0-9.]+ ms per inference \(infer 1 1, not recorded\)",
                     (tmp_path / "out" / "performance" / "log.txt").read_text())


def _energy(tmp_path, dut_us: int, host_s: float, **kwargs) -> dict:
    write_ad_dataset(tmp_path / "data")
    sim = simulated.SimulatedLpm01a(0.25)
    dut = EnergyFakeDut(sim, host_s_per_inference=host_s, us_per_inference=dut_us)
    monitor = lpm01a.Lpm01a(sim.path)
    try:
        monitor.start()
        return run(dut.port, tmp_path / "data", tmp_path / "out", ["energy"], MODELED, 9600, warmups=1, monitor=monitor,
                   **kwargs)["energy"]
    finally:
        monitor.close()
        dut.close()
        sim.close()


def test_energy_with_given_trials_waits_for_the_hosts_time(tmp_path, monkeypatch):
    """The pipeline's case: N given (1 s of the modeled board), each trial far longer on the host."""
    from runner.modes import energy

    monkeypatch.setattr(energy, "INFER_TIMEOUT_S", 0.02)
    result = _energy(tmp_path, dut_us=1, host_s=0.0001, iterations=3000)  # 3 ms modeled, 0.3 s on the host
    assert len(result["trials"]) == 5 and result["error"] is None
    assert result["trials"] == pytest.approx([0.25 * 3e-3 / 3000 * 1e6] * 5)  # 0.25 W for the 3 modeled ms
    log = (tmp_path / "out" / "energy" / "log.txt").read_text()
    assert re.search(r"the host takes [0-9.]+ ms per inference \(infer 1 1, not recorded\)", log)


def test_energy_calibrated_on_a_modeled_clock_waits_for_the_hosts_time(tmp_path, monkeypatch):
    """The probe's case: calibration sizes trials by the modeled clock (1.6 ms per inference), the
    host takes 1.5 times that; the trials' wait follows the host, not a fixed deadline."""
    from runner.modes import energy

    monkeypatch.setattr(energy, "INFER_TIMEOUT_S", 0.05)
    result = _energy(tmp_path, dut_us=1600, host_s=0.0024, target_s=0.2)  # trials of 0.36 s on the host
    assert result["iterations"] == 150  # 0.2 s x 1.2 of the modeled clock, from the 640-inference probe (1.024 s)
    assert len(result["trials"]) == 5 and result["error"] is None


def test_deadlines_follow_the_pace_never_below_the_floor():
    assert calibration.deadline_s(1000, None, 30.0) == 30.0  # nothing timed yet
    assert calibration.deadline_s(1000, 0.001, 30.0) == 30.0  # 1 s of work: the floor
    assert calibration.deadline_s(100_000, 0.002, 30.0) == pytest.approx(600.0)  # 200 s of work: three times that
