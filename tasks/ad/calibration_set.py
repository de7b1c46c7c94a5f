"""The calibration set of the reference autoencoder's post-training types (tasks/calibration.py), picked by
the data stage from the training WAVs, never from the test WAVs.

Real ToyCar: the official list, calibration.txt here, byte for byte mlcommons/tiny
benchmark/training/anomaly_detection/calibration.txt (1400 training WAVs, every fifth of ids 01 to 07,
named dev_data/ToyCar/train/<name>.wav): the windows of the listed WAVs this folder has, thinned evenly to
`samples` windows (1400 WAVs give about 274 000). Synthetic ToyCar: `samples` windows of the synthetic
training split, drawn with `seed`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.errors import DatasetError
from tasks import calibration
from tasks.calibration import CalibrationConfig

LIST = Path(__file__).with_name("calibration.txt")
OFFICIAL = "mlcommons/tiny benchmark/training/anomaly_detection/calibration.txt"


def listed_names() -> list[str]:
    """The WAV names of the official list (its folders dropped: dev_data/ToyCar/train/ is the train/ folder here)."""
    return [Path(line).name for line in LIST.read_text().split()]


def choose(train: list[Path], windows: list[np.ndarray], kind: str, cfg: CalibrationConfig) -> tuple[np.ndarray, dict]:
    """(float dB windows of the calibration set, its record) from the training WAVs and each one's windows."""
    if kind == "real":
        names = listed_names()
        have = {p.name: i for i, p in enumerate(train)}
        found = [have[n] for n in names if n in have]
        if not found:
            raise DatasetError(f"none of the {len(names)} WAVs of the official calibration list {LIST.name} is in the "
                               f"training folder ({len(train)} WAVs): not the DCASE 2020 ToyCar training set?")
        listed = np.concatenate([windows[i] for i in found])
        idx = calibration.thin(len(listed), cfg.samples)
        return listed[idx], calibration.record(
            f"official list {OFFICIAL}: {len(found)} of its {len(names)} training WAVs are here, {len(idx)} of their "
            f"{len(listed)} windows (evenly spaced)", kind, len(idx), files=len(found), files_missing=len(names) - len(found))
    every = np.concatenate(windows)
    idx = calibration.draw(len(every), cfg.samples, cfg.seed)
    return every[idx], calibration.record(
        f"synthetic stand-in: {len(idx)} of the {len(every)} windows of the synthetic training split "
        f"({len(train)} WAVs, seed {cfg.seed})", kind, len(idx), files=len(train))
