"""The calibration set of a reference model's post-training types (docs/toolchains.md C.c): the inputs on
which the hls4ml calibration pass (toolchains/hls4ml/calibration.py) measures each layer's range.

Never the test files. Where the real dataset is at hand, the reference repository's official list
(mlcommons/tiny benchmark/training/: ic calibration_samples_idxs.npy, ad calibration.txt; kws: the rule of
mk_cal_set.py, see tasks/kws/README.md); on synthetic data, `samples` of the synthetic training split.

The data stage picks them (it alone knows the dataset folder and whether it is real) and writes FILE in the
data's own encoding with a record of what they are; the reference's train stage turns them into the model's
inputs (RecipeBase.reference_calibration), writes them for the convert stage and records the same."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from pydantic import Field

from common.config import Strict

FILE = "calibration.npz"  # in the data stage (the data's encoding) and in the train stage (the model's inputs)


class CalibrationConfig(Strict):
    """task.yaml reference.calibration."""

    # the synthetic stand-in: how many samples of the synthetic training split (drawn with `seed`); a real
    # list that gives more inputs than this (ad: the windows of its files) is thinned evenly to it
    samples: int = Field(gt=0)
    seed: int = 0


def record(source: str, data_kind: str, count: int, **extra) -> dict:
    """What a calibration set is, as the train and convert stages report it."""
    return {"source": source, "data_kind": data_kind, "count": int(count), **extra}


def draw(available: int, n: int, seed: int) -> np.ndarray:
    """n indices of `available` (all of them when n >= available), seeded, in ascending order."""
    if n >= available:
        return np.arange(available)
    return np.sort(np.random.default_rng(seed).choice(available, n, replace=False))


def thin(available: int, n: int) -> np.ndarray:
    """n evenly spaced indices of `available` (all of them when n >= available)."""
    if n >= available:
        return np.arange(available)
    return np.unique(np.linspace(0, available - 1, n).round().astype(np.int64))


def write(path: Path, samples: np.ndarray, what: dict) -> None:
    np.savez(path, samples=samples, record=np.array(json.dumps(what)))


def read(path: Path) -> tuple[np.ndarray, dict]:
    """(the samples, their record) of a file `write` wrote."""
    with np.load(path) as f:
        return f["samples"], json.loads(str(f["record"]))


def file_digest(path: Path) -> str:
    """An official list's content, for the data stage's key."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
