"""How the MLC runner scores one energy trial (docs/mlperf-tiny.md 3.8), from the power monitor's 1 ms energy
samples (J) and its timestamp events (event number, samples before it). What no monitor can have
measured is refused rather than scored: a trial without samples between its events (0 µJ is not a
measurement), no energy at all, or a sample beyond the range of every monitor the runner drives."""

from __future__ import annotations

import math

from common.errors import DutError
from runner.monitors.trials import MonitorError

# The most power one 1 ms sample can hold, with room: an LPM01A measures up to 200 mA at 3.3 V, a
# Joulescope JS220 3 A at 15 V (45 W); the simulated LPM01A gives a board's modeled watts.
MAX_SAMPLE_W = 100.0


def trial_energy(samples: list[float], events: list[tuple[str, int]], iterations: int) -> dict:
    """Between the last two timestamp events: elapsed = samples / 1 kHz and energy = their sum;
    per inference = energy / N."""
    if len(events) < 2:
        raise MonitorError(f"the trial has {len(events)} timestamp event(s): two are needed, before and after the loop")
    numbers = [int(n) for n, _ in events]
    if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        raise DutError(f"the power monitor's timestamp events are not consecutive: {numbers}")
    (_, i0), (_, i1) = events[-2:]
    if not 0 <= i0 < i1 <= len(samples):
        raise MonitorError(f"the power monitor gave no energy samples between the trial's last two timestamp events "
                           f"(samples {i0} to {i1} of {len(samples)}): 0 uJ per inference is not a measurement "
                           "(is it sampling, and are its events from the same stream?)")
    for k in range(i0, i1):
        if not math.isfinite(samples[k]) or abs(samples[k]) > MAX_SAMPLE_W * 1e-3:
            raise MonitorError(f"sample {k} of the trial is {samples[k]:g} J in 1 ms ({1e3 * samples[k]:g} W), beyond what "
                               f"any power monitor measures ({MAX_SAMPLE_W:g} W): the monitor's data is corrupted")
    elapsed_s = (i1 - i0) / 1000.0
    energy_j = float(sum(samples[i0:i1]))
    if energy_j <= 0:
        raise MonitorError(f"the trial's {i1 - i0} samples add up to {energy_j:g} J: no supply current was measured "
                           "(is the DUT powered through the monitor?)")
    return {"elapsed_s": elapsed_s, "energy_j": energy_j, "uj_per_inference": 1e6 * energy_j / iterations,
            "power_w": energy_j / elapsed_s}
