"""Energy mode never reports what cannot be a measurement: exactly 5 trials or the MLC runner's error,
no energy from events without samples or from samples beyond any monitor's range, and a run marked
not valid ends in a non-zero exit, as performance mode's ERROR does. The DUT is a scripted energy
build on a real pty whose timestamp pin drives a simulated LPM01A on another pty; the runner's command
line reaches that monitor as it reaches an LPM01A (--monitor PORT)."""

from __future__ import annotations

import json
import re
import time

import pytest

from runner import energy_score
from runner.monitors import simulated
from runner.monitors.trials import MonitorError
from tests.fake_dut import READY, FakeDut, write_ad_dataset

POWER_W = 0.05


class EnergyFakeDut(FakeDut):
    """An energy build: no m-lap-us; its timestamp pin falls before and after the measured loop, at
    its own clock (us_per_inference of DUT time per inference), and each inference takes
    host_s_per_inference of the host's time (an emulated DUT with modeled timing is slower than the
    board it models)."""

    def __init__(self, monitor: simulated.SimulatedLpm01a, host_s_per_inference: float = 0.0, **kwargs):
        super().__init__(laps=False, **kwargs)
        self.monitor, self.host_s = monitor, host_s_per_inference

    def answer(self, command: str) -> bytes:
        words = command.split()
        if words[:1] != ["infer"]:
            return super().answer(command)
        n, w = int(words[1]), int(words[2])
        time.sleep(w * self.host_s)
        self.monitor.pin_falling(self.clock)
        time.sleep(n * self.host_s)
        self.clock += n * self.us
        self.monitor.pin_falling(self.clock)
        return (f"m-warmup-start-{w}\r\nm-warmup-done\r\nm-infer-start-{n}\r\nm-infer-done\r\n"
                f"m-results-[{self.score(self._data)}]\r\n").encode() + READY


class NoSamples(simulated.SimulatedLpm01a):
    """A monitor whose events come without the samples between them."""

    def pin_falling(self, t_us: int) -> None:
        with self._lock:
            if self._streaming:
                self._write(f"event {self._events:02d} ris\r\n")
                self._events += 1


class Absurd(simulated.SimulatedLpm01a):
    """A monitor whose samples are 10^99 J each (2000+96: a corrupted exponent)."""

    def __init__(self, power_w: float):
        super().__init__(power_w)
        self.sample = "2000+96"


def _energy(tmp_path, capsys, monitor_kind=simulated.SimulatedLpm01a, files: int = 6, extra: tuple[str, ...] = ()):
    """(exit code, stderr, results.txt) of `python -m runner --mode e` against a scripted energy DUT."""
    from runner.cli import main as runner_main

    write_ad_dataset(tmp_path / "data", files=files)
    sim = monitor_kind(POWER_W)
    dut = EnergyFakeDut(sim, us_per_inference=1000)
    try:
        code = runner_main(["--port", dut.port, "--monitor", sim.path, "--mode", "e", "--dataset", str(tmp_path / "data"),
                            "--out", str(tmp_path / "out"), "--warmups", "1", *extra])
    finally:
        dut.close()
        sim.close()
    results = tmp_path / "out" / "energy" / "results.txt"
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err, results.read_text() if results.is_file() else None


def test_fewer_than_5_trials_is_the_mlc_runners_error_and_exit_1(tmp_path, capsys):
    code, err, text = _energy(tmp_path, capsys, files=3, extra=("--iterations", "11000"))
    assert text.count("Energy data for trial") == 3
    assert text.rstrip().endswith("ERROR: Not valid for submission. Energy mode must include exactly 5 measurements.")
    assert code == 1 and "runner: the run is not valid: ERROR: Not valid for submission. Energy mode must include" in err


def test_five_trials_of_10_s_are_valid_and_exit_0(tmp_path, capsys):
    code, err, text = _energy(tmp_path, capsys, extra=("--iterations", "11000"))  # 11 s of the DUT's clock each
    assert code == 0 and "ERROR" not in text and text.count("Energy data for trial") == 5


def test_trials_below_10_s_are_not_valid_and_exit_1(tmp_path, capsys):
    code, err, text = _energy(tmp_path, capsys, extra=("--iterations", "500"))
    assert "ERROR: Not valid for submission. All inference times must be at least 10 seconds." in text
    assert code == 1 and "All inference times must be at least 10 seconds" in err


@pytest.mark.parametrize("kind, message", [
    (NoSamples, "no energy samples between the trial's last two timestamp events"),
    (Absurd, r"sample \d+ of the trial is 2e\+99 J in 1 ms"),
])
def test_impossible_energy_is_refused(tmp_path, capsys, kind, message):
    code, err, text = _energy(tmp_path, capsys, kind, extra=("--iterations", "11000"))
    assert code == 1 and text is None  # no figure written
    said = [line for line in err.splitlines() if line.startswith("runner: ")]  # (the rest: the progress bar)
    assert len(said) == 1 and re.search(message, said[0]), err
    records = json.loads((tmp_path / "out" / "energy" / "results.json").read_text())
    assert records == []  # nothing impossible is kept to be resumed from


@pytest.mark.parametrize("samples, events, message", [
    ([], [("0", 0), ("1", 0)], "no energy samples between"),
    ([0.0] * 5, [("0", 0), ("1", 5)], "no supply current"),
    ([1e-3, float("nan")], [("0", 0), ("1", 2)], "sample 1 of the trial is nan J"),
    ([1e-3, 5.0], [("0", 0), ("1", 2)], "sample 1 of the trial is 5 J in 1 ms"),
    ([1e-3], [("0", 0)], "1 timestamp event"),
])
def test_trial_scoring_refuses_what_no_monitor_measures(samples, events, message):
    with pytest.raises(MonitorError, match=message):
        energy_score.trial_energy(samples, events, 100)
