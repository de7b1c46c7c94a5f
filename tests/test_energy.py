"""Energy mode (docs/mlperf-tiny.md 3.8) end to end without hardware: the emulated board's energy build, whose
timestamp pin drives a simulated LPM01A on its own pty; the runner speaks the LPM01A protocol to
it and scores each trial between its last two events, as the MLC runner does."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from common import provenance
from runner.cli import run
from runner.emulated import emulated_dut
from runner.monitors import lpm01a, simulated
from tests.test_runner import write_ad_dataset

POWER_W = 1.75


@pytest.mark.parametrize("joules, text", [(1.75e-3, "1750-06"), (2.5e-5, "2500-08"), (9.99995e-4, "1000-06"), (0, "0000+00")])
def test_sample_tokens(joules, text):
    assert simulated.token(joules) == text
    m = lpm01a.SAMPLE.fullmatch(text.encode())
    assert int(m.group(1)) * 10.0 ** int(m.group(2)) == pytest.approx(joules, rel=1e-3, abs=1e-12)


def test_energy_mode_against_the_simulated_monitor(stub_dut, tmp_path):
    write_ad_dataset(tmp_path / "data")
    sim = simulated.SimulatedLpm01a(POWER_W)
    with emulated_dut(stub_dut["energy"], on_timestamp=sim.pin_falling) as url:
        monitor = lpm01a.Lpm01a(sim.path, voltage_mv=3300)
        try:
            monitor.start()
            summary = run(url, tmp_path / "data", tmp_path / "out", ["energy"], provenance.emulated(data="synthetic"),
                          9600, iterations=20000, warmups=1, monitor=monitor)
        finally:
            monitor.close()
    result = summary["energy"]
    records = json.loads((tmp_path / "out" / "energy" / "results.json").read_text())
    assert len(records) == 5 and all(r["mode"] == "e" for r in records)
    implied = []
    for r in records:  # the figure the simulated samples imply, recomputed from what was recorded
        (_, i0), (_, i1) = r["power"]["timestamps"][-2:]
        assert r["power"]["samples"][i0:i1] == [float(simulated.token(POWER_W * 1e-3)[:4]) * 1e-6] * (i1 - i0)
        implied.append(1e6 * sum(r["power"]["samples"][i0:i1]) / 20000)
    assert result["trials"] == pytest.approx(implied)
    assert result["uj_per_inference"] == pytest.approx(float(np.median(implied)))
    text = (tmp_path / "out" / "energy" / "results.txt").read_text()
    assert text.startswith("Power Edition Output\nEnergy data for trial 0\n  Elapsed time  : ")
    assert re.search(r"\nMedian energy cost is \d+\.\d{4} uJ/inf\.\n", text)
    assert "ERROR: Not valid for submission" in text  # host-timed trials of milliseconds: not 10 s
    assert sorted(p.name for p in (tmp_path / "out" / "energy.traces").iterdir()) == [f"energy_inf_{k:03d}.png" for k in range(5)]


def test_a_monitor_that_does_not_ack(tmp_path):
    import os
    import tty

    master, slave = os.openpty()
    tty.setraw(slave)
    monitor = lpm01a.Lpm01a(os.ttyname(slave), timeout_s=0.3)
    try:
        with pytest.raises(lpm01a.MonitorError, match="did not ack 'htc' within 0.3 s"):
            monitor.start()
    finally:
        monitor.close()
        os.close(master)
        os.close(slave)
    with pytest.raises(lpm01a.MonitorError, match="1800-3300 mV"):
        lpm01a.Lpm01a("loop://", voltage_mv=5000)


@pytest.mark.parametrize("args, message", [
    ({"dut": "qemu", "timing": "modeled"}, "energy mode runs here on the emulated board"),
    ({}, "energy mode on the emulated board is modeled energy: add timing=modeled"),
])
def test_energy_in_the_pipeline_needs_the_emulated_board_and_modeled_timing(tmp_path, args, message):
    from common.errors import ConfigError
    from pipeline.flow import Flow

    with pytest.raises(ConfigError, match=message):
        Flow(task="ad", board="pynq_z2", modes=["energy"], build_root=tmp_path, **args)


@pytest.mark.parametrize("kind", ["stm32h573i-dk", "arduino"])
def test_energy_mode_through_a_simulated_interface_board(stub_dut, tmp_path, kind):
    """The runner on the interface board's port, the DUT behind it at 9600 baud (set with setbaud
    on the STM32 board), the inputs in 26-byte db chunks: the same per-trial figures as the samples imply."""
    from tests.fake_interface import FakeInterface

    write_ad_dataset(tmp_path / "data")
    sim = simulated.SimulatedLpm01a(POWER_W)
    with emulated_dut(stub_dut["energy"], on_timestamp=sim.pin_falling) as url:
        board = FakeInterface(url)  # both boards speak the same passthrough on the wire
        monitor = lpm01a.Lpm01a(sim.path)
        try:
            monitor.start()
            summary = run(board.path, tmp_path / "data", tmp_path / "out", ["energy"], provenance.emulated(data="synthetic"),
                          9600, iterations=20000, warmups=1, monitor=monitor, interface=kind)
        finally:
            monitor.close()
            board.close()
    assert board.bauds == ([9600] if kind == "stm32h573i-dk" else [])
    prefix = "dut db "
    chunks = [c for c in board.commands if c.startswith(prefix) and "load" not in c]
    assert chunks and max(len(c) - len(prefix) for c in chunks) == 2 * 26
    records = json.loads((tmp_path / "out" / "energy" / "results.json").read_text())
    implied = [1e6 * sum(r["power"]["samples"][r["power"]["timestamps"][-2][1]:r["power"]["timestamps"][-1][1]]) / 20000
               for r in records]
    assert summary["energy"]["trials"] == pytest.approx(implied) and summary["name"].startswith("mlperf-tiny-fpga")


def test_energy_trials_are_calibrated_by_the_monitor(stub_dut, tmp_path):
    """No --iterations: N comes from probes timed by the monitor's events, for trials of the target."""
    write_ad_dataset(tmp_path / "data")
    sim = simulated.SimulatedLpm01a(POWER_W)
    with emulated_dut(stub_dut["energy"], on_timestamp=sim.pin_falling) as url:
        monitor = lpm01a.Lpm01a(sim.path)
        try:
            monitor.start()
            summary = run(url, tmp_path / "data", tmp_path / "out", ["energy"], provenance.emulated(data="synthetic"),
                          9600, iterations=None, warmups=1, target_s=0.5, monitor=monitor)
        finally:
            monitor.close()
    log = (tmp_path / "out" / "energy" / "log.txt").read_text()
    assert f"Calibrated iterations per trial: {summary['energy']['iterations']} (target 0.5 s" in log
    elapsed = [float(m) for m in re.findall(r"Elapsed time  : ([0-9.]+)",
                                            (tmp_path / "out" / "energy" / "results.txt").read_text())]
    assert len(elapsed) == 5 and all(0.2 < e < 2.0 for e in elapsed)  # about the target (a host is not a clock)


def test_energy_resumes_after_the_trials_it_finished(stub_dut, tmp_path):
    """A run stopped after two trials (its journal cut there) goes on with the other three; the two
    are scored again from their kept samples, to exactly the figures they had."""
    write_ad_dataset(tmp_path / "data")

    def energy_run(resume: bool) -> dict:
        sim = simulated.SimulatedLpm01a(POWER_W)
        with emulated_dut(stub_dut["energy"], on_timestamp=sim.pin_falling) as url:
            monitor = lpm01a.Lpm01a(sim.path)
            try:
                monitor.start()
                return run(url, tmp_path / "data", tmp_path / "out", ["energy"], provenance.emulated(data="synthetic"),
                           9600, iterations=20000, warmups=1, monitor=monitor, resume=resume)["energy"]
            finally:
                monitor.close()
                sim.close()

    first = energy_run(resume=False)
    before = json.loads((tmp_path / "out" / "energy" / "results.json").read_text())
    journal = tmp_path / "out" / "energy.journal.jsonl"
    journal.write_text("".join(journal.read_text().splitlines(keepends=True)[:2]))
    resumed = energy_run(resume=True)
    assert resumed["trials"][:2] == first["trials"][:2]
    records = json.loads((tmp_path / "out" / "energy" / "results.json").read_text())
    assert [r["power"] for r in records[:2]] == [r["power"] for r in before[:2]]
    assert len(records) == 5
    log = (tmp_path / "out" / "energy" / "log.txt").read_text()
    after = log[log.index("resuming: 2 of 5 trials already done"):]
    assert after.count("Loading file") == 3
    assert resumed["uj_per_inference"] == pytest.approx(float(np.median(resumed["trials"])))


# ---- an LPM01A that fails: named for what it is ------------------------------------------------------


@pytest.fixture
def started():
    """An Lpm01a client started against a simulated monitor, and that monitor (to misbehave)."""
    made = []

    def make():
        sim = simulated.SimulatedLpm01a(POWER_W)
        monitor = lpm01a.Lpm01a(sim.path, timeout_s=1.0)
        made.append((monitor, sim))
        monitor.start()
        monitor.trial()
        return monitor, sim

    yield make
    for monitor, sim in made:
        monitor.close()
        sim.close()


def test_a_monitor_that_disconnects_is_named_not_the_timestamp_pin(started):
    monitor, sim = started()
    sim.close()  # the USB cable pulled: the pty's other side is gone
    with pytest.raises(lpm01a.MonitorError, match=f"lost the LPM01A on {sim.path}") as e:
        monitor.collect(2, timeout_s=1.0)
    assert "timestamp pin" not in str(e.value)


def test_a_monitor_that_streams_without_line_ends_is_named_and_its_buffer_bounded(started):
    monitor, sim = started()
    for _ in range(200):  # 200 kB of samples and no line end: not the LPM01A's ascii_dec stream
        sim._write("1750-06 " * 128)
    with pytest.raises(lpm01a.MonitorError, match=r"sent \d+ bytes without a line end: is it an LPM01A") as e:
        monitor.collect(2, timeout_s=2.0)
    assert "timestamp pin" not in str(e.value)
    assert len(monitor._buffer) <= lpm01a.MAX_LINE_BYTES


def test_a_silent_monitor_is_named_not_the_timestamp_pin(started):
    monitor, _ = started()  # streaming set up, and then nothing arrives
    with pytest.raises(lpm01a.MonitorError, match="sent no energy samples in this trial") as e:
        monitor.collect(2, timeout_s=0.3)
    assert "timestamp pin" not in str(e.value)


def test_samples_without_events_still_point_at_the_timestamp_pin(started):
    monitor, sim = started()
    sim._write(" ".join([sim.sample] * 10) + "\r\n")
    with pytest.raises(lpm01a.MonitorError, match="saw 0 timestamp event.*is the DUT's timestamp pin wired"):
        monitor.collect(2, timeout_s=0.5)


def _events_without_samples(events: list) -> list:
    """The trial's last two events moved together: no samples between them."""
    (n, i), _ = events[-2:]
    return [*events[:-2], [n, i], [int(n) + 1, i]]


@pytest.mark.parametrize("tamper, why", [
    (lambda p: p.update(samples=[2e99] * len(p["samples"])), "sample \\d+ of the trial is 2e\\+99 J"),
    (lambda p: p.update(timestamps=_events_without_samples(p["timestamps"])), "no energy samples between"),
    (lambda p: p.update(samples="lots"), "not a list of numbers"),
    (lambda p: p.update(timestamps=[["x", 0], ["y", 5]]), "invalid literal"),
])
def test_kept_energy_trials_are_scored_again_and_dropped_when_they_cannot_be(stub_dut, tmp_path, tamper, why):
    """A journal whose second trial was edited: that trial and the ones after it are measured again,
    never scored from what cannot be a measurement."""
    import json as _json

    write_ad_dataset(tmp_path / "data")

    def energy_run(resume: bool) -> tuple[dict, lpm01a.Lpm01a]:
        sim = simulated.SimulatedLpm01a(POWER_W)
        with emulated_dut(stub_dut["energy"], on_timestamp=sim.pin_falling) as url:
            monitor = lpm01a.Lpm01a(sim.path)
            try:
                monitor.start()
                return run(url, tmp_path / "data", tmp_path / "out", ["energy"], provenance.emulated(data="synthetic"),
                           9600, iterations=20000, warmups=1, monitor=monitor, resume=resume)["energy"]
            finally:
                monitor.close()
                sim.close()

    energy_run(resume=False)
    journal = tmp_path / "out" / "energy.journal.jsonl"
    lines = journal.read_text().splitlines()
    second = _json.loads(lines[1])
    tamper(second["power"])
    journal.write_text("\n".join([lines[0], _json.dumps(second), *lines[2:]]) + "\n")
    resumed = energy_run(resume=True)
    log = (tmp_path / "out" / "energy" / "log.txt").read_text()
    assert re.search(f"resuming: journal line 2 dropped \\(.*{why}.*\\): it is measured again", log), log
    after = log[log.index("resuming: 1 of 5 trials already done"):]
    assert after.count("Loading file") == 4
    assert all(0 < t < 1e6 for t in resumed["trials"])
