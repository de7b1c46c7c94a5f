"""How many inferences make one measured window (performance) or trial (energy) last long enough,
and how long the runner waits for one.

Calibration: probes of n = 1, 10, 40, 160, ... until one lasts a second, then N scaled to the target
with a margin (the first probe is one inference and its warm-up, so that a DUT taking seconds per
inference, e.g. the MobileNet in QEMU, answers it within the floor; each later wait follows its pace).
Performance probes are timed by the DUT's m-lap-us, energy probes by the power
monitor's events (an energy build prints no m-lap-us). Probes are not reported; the last
performance probe's m-lap-us interval is checked against the host's clock (clock_check.py).

Deadlines follow the host's clock, the time the DUT really takes: an emulated DUT with modeled
timing counts the modeled board's time, yet takes the host's, which may be a hundred times longer.
Each probe, window and trial gives the host's time per inference (its `pace`, link and warm-ups
included) and the next `infer` may take DEADLINE_FACTOR times that, never less than the floor the
mode had before (the MLC runner's 30 s wait). When N is given and nothing has been timed yet, a
short `infer 1 1` gives the pace (`host_pace`)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from runner import clock_check
from runner.dut import INFER_TIMEOUT_S, Dut, InferResult

MAX_ITERATIONS = 10_000_000  # the firmware's bound on `infer` counts (EE_MAX_ITERATIONS)
CALIBRATION_MARGIN = 1.2  # a DUT may run faster in a long window than in a probe (seen: 10 % on the emulated board)
DEADLINE_FACTOR = 3  # an `infer` may take this many times what its pace says before the DUT is given up
PACE_PROBE = 1  # inferences in the probe that times a DUT when N is given (with one warm-up: 2 within the floor)
FIRST_PROBES = (1, 10)  # calibration's first probes (then x4): one inference first, however slow the DUT


@dataclass(frozen=True)
class Probe:
    n: int
    dut_s: float  # the n measured inferences by the DUT's clock (m-lap-us) or the power monitor's
    host_s: float  # the whole `infer n 1` by the host's clock
    clock: dict | None = None  # performance: clock_check.compare of this probe


@dataclass(frozen=True)
class Calibration:
    iterations: int
    pace: float  # the host's seconds per inference in the last probe, for deadlines
    clock: dict | None = None  # performance: the last probe's m-lap-us interval against the host's clock


def deadline_s(inferences: int, pace: float | None, floor_s: float) -> float:
    """How long to wait for the reply to an `infer` running `inferences` in all (N + W)."""
    return floor_s if pace is None else max(floor_s, DEADLINE_FACTOR * inferences * pace)


def timed_infer(dut: Dut, n: int, warmups: int, timeout_s: float) -> tuple[InferResult, float]:
    """The DUT's reply to `infer n warmups`, and the host's seconds from sending it to the reply's end."""
    start = time.monotonic()
    result = dut.infer(n, warmups, timeout_s=timeout_s)
    return result, time.monotonic() - start


def grown(probe: Callable[[int, float], Probe], target_s: float, probe_s: float, floor_s: float) -> Calibration:
    """Iterations for a window of at least target_s, from probe(n, timeout_s) for n = 1, 10, 40, ...
    until a probe lasts probe_s by the DUT's clock; each probe's wait follows the one before it."""
    n, pace = FIRST_PROBES[0], None
    while True:
        p = probe(n, deadline_s(n + 1, pace, floor_s))
        pace = p.host_s / (n + 1)
        elapsed = max(p.dut_s, 1e-6)
        if elapsed >= probe_s or n * 4 > MAX_ITERATIONS:
            return Calibration(min(MAX_ITERATIONS, max(10, math.ceil(target_s * CALIBRATION_MARGIN * n / elapsed))),
                               pace, p.clock)
        n = FIRST_PROBES[1] if n == FIRST_PROBES[0] else 4 * n


def calibrate(dut: Dut, window: bytes, target_s: float, probe_s: float = 1.0) -> Calibration:
    """Iterations for one measured window to last at least target_s, timed by the DUT's m-lap-us;
    one warm-up per probe, since a first call may do one-time work."""
    def probe(n: int, timeout_s: float) -> Probe:
        r, host_s = timed_infer(dut, n, 1, timeout_s)
        laps = clock_check.lap_arrivals(dut.transport.reply_times)
        clock = clock_check.compare(r.elapsed_us, laps[1] - laps[0]) if laps and r.elapsed_us is not None else None
        return Probe(n, (r.elapsed_us or 0) / 1e6, host_s, clock)

    dut.load(window)
    return grown(probe, target_s, probe_s, INFER_TIMEOUT_S)


def _energy_probe(dut: Dut, monitor, n: int, timeout_s: float) -> Probe:
    """`infer n 1` on an energy build, timed by the monitor's last two events (1 ms samples)."""
    monitor.trial()
    _, host_s = timed_infer(dut, n, 1, timeout_s)
    _, events = monitor.collect(2)
    return Probe(n, (events[-1][1] - events[-2][1]) / 1000.0, host_s)


def calibrate_energy(dut: Dut, monitor, window: bytes, target_s: float, probe_s: float = 1.0) -> Calibration:
    """N for a trial of at least target_s, timed by the power monitor's events."""
    dut.load(window)
    return grown(lambda n, timeout_s: _energy_probe(dut, monitor, n, timeout_s), target_s, probe_s, 3 * INFER_TIMEOUT_S)


def host_pace(dut: Dut, window: bytes, floor_s: float, monitor=None) -> float:
    """The host's seconds per inference of `infer 1 1` (through the monitor's trial on an energy build,
    so its events are consumed before the first trial)."""
    dut.load(window)
    if monitor is not None:
        return _energy_probe(dut, monitor, PACE_PROBE, floor_s).host_s / (PACE_PROBE + 1)
    return timed_infer(dut, PACE_PROBE, 1, floor_s)[1] / (PACE_PROBE + 1)
