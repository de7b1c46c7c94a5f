"""How the MLC runner scores one energy trial (docs/mlperf-tiny.md 3.8), from the power monitor's 1 ms energy
samples (J) and its timestamp events (event number, samples before it)."""

from __future__ import annotations

from common.errors import DutError


def trial_energy(samples: list[float], events: list[tuple[str, int]], iterations: int) -> dict:
    """Between the last two timestamp events: elapsed = samples / 1 kHz and energy = their sum;
    per inference = energy / N."""
    numbers = [int(n) for n, _ in events]
    if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        raise DutError(f"the power monitor's timestamp events are not consecutive: {numbers}")
    (_, i0), (_, i1) = events[-2:]
    elapsed_s = (i1 - i0) / 1000.0
    energy_j = float(sum(samples[i0:i1]))
    return {"elapsed_s": elapsed_s, "energy_j": energy_j, "uj_per_inference": 1e6 * energy_j / iterations,
            "power_w": energy_j / elapsed_s if elapsed_s > 0 else None}
