"""How many inferences make one measured window (performance) or trial (energy) last long enough:
probes of n = 10, 40, 160, ... until one lasts a second, then N scaled to the target with a margin.
Performance probes are timed by the DUT's m-lap-us, energy probes by the power monitor's events (an
energy build prints no m-lap-us). Probes are not reported."""

from __future__ import annotations

import math

from runner.dut import INFER_TIMEOUT_S, Dut

MAX_ITERATIONS = 10_000_000  # the firmware's bound on `infer` counts (EE_MAX_ITERATIONS)
CALIBRATION_MARGIN = 1.2  # a DUT may run faster in a long window than in a probe (seen: 10 % on the emulated board)


def grown(probe, target_s: float, probe_s: float) -> int:
    """Iterations for a window of at least target_s, from probe(n) -> the seconds n inferences took,
    for n = 10, 40, 160, ... until a probe lasts probe_s."""
    n = 10
    while True:
        elapsed = max(probe(n), 1e-6)
        if elapsed >= probe_s or n * 4 > MAX_ITERATIONS:
            return min(MAX_ITERATIONS, max(10, math.ceil(target_s * CALIBRATION_MARGIN * n / elapsed)))
        n *= 4


def calibrate(dut: Dut, window: bytes, target_s: float, probe_s: float = 1.0) -> int:
    """Iterations for one measured window to last at least target_s, timed by the DUT's m-lap-us;
    one warm-up per probe, since a first call may do one-time work."""
    dut.load(window)
    return grown(lambda n: (dut.infer(n, 1).elapsed_us or 0) / 1e6, target_s, probe_s)


def calibrate_energy(dut: Dut, monitor, window: bytes, target_s: float, probe_s: float = 1.0) -> int:
    """N for a trial of at least target_s, timed by the power monitor's events."""
    def probe(n: int) -> float:
        monitor.trial()
        dut.infer(n, 1, timeout_s=3 * INFER_TIMEOUT_S)
        _, events = monitor.collect(2)
        return (events[-1][1] - events[-2][1]) / 1000.0  # 1 ms samples

    dut.load(window)
    return grown(probe, target_s, probe_s)
