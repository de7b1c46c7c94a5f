"""One energy trial's power trace with its timestamp events, as a PNG (the MLC runner's
energy_inf_NNN.png), written beside the mode folder, whose files the submission checker fixes."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_trial(path: Path, samples: list[float], events: list[tuple[str, int]], t: dict) -> None:
    """t: the trial's score (energy_score.trial_energy), named in the title."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(np.arange(len(samples)) / 1000.0, np.asarray(samples) * 1e3, lw=0.8)  # J per 1 ms sample -> W
    for _, i in events:
        ax.axvline(i / 1000.0, color="tab:red", lw=0.8)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("power (W)")
    ax.set_title(f"{t['elapsed_s']:.3f} s between the last two events, {t['uj_per_inference']:.3f} uJ/inf")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
