"""The calibration set of the reference ResNet-8's post-training types (tasks/calibration.py), picked by the
data stage, never from the ic01 test files.

Real CIFAR-10: the official list, calibration_samples_idxs.txt here (the 500 indices of mlcommons/tiny
benchmark/training/image_classification/calibration_samples_idxs.npy, one a line, in its order; the same file
as ../shared/models/reference/calibration_samples_idxs.npy). model_converter.py, which made the int8
reference with it, indexes the CIFAR-10 *test* batch with them (`test_data[i]`), not the training batches;
5 of them (5315, 5984, 6751, 8116, 9045) are among perf_samples_idxs.npy's 200 ic01 test images and are left
out: 495 images. (The repository's calibration_samples.txt, 500 file names, is not the same selection: its
names are not those of these indices, and 13 of them are ic01 test files; it is not used.)

Synthetic shapes: `samples` images of the synthetic training split, drawn with `seed`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.errors import DatasetError
from tasks import calibration
from tasks.calibration import CalibrationConfig

LIST = Path(__file__).with_name("calibration_samples_idxs.txt")
OFFICIAL = "mlcommons/tiny benchmark/training/image_classification/calibration_samples_idxs.npy"


def official_indices(test_indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the official list's indices into the CIFAR-10 test batch without the test files', those left out)."""
    listed = np.array([int(v) for v in LIST.read_text().split()], dtype=np.int64)
    is_test = np.isin(listed, test_indices)
    return listed[~is_test], listed[is_test]


def choose(sets: dict[str, tuple[np.ndarray, np.ndarray, list[str]]], kind: str, test_indices: np.ndarray,
           cfg: CalibrationConfig) -> tuple[np.ndarray, dict]:
    """(uint8 HWC images of the calibration set, its record); test_indices: the test batch's images that are
    test files (the ic01 export's)."""
    if kind == "real":
        images = sets["test"][0]
        idx, left_out = official_indices(test_indices)
        if idx.max() >= len(images):
            raise DatasetError(f"the official calibration list indexes image {idx.max()} of a test batch of {len(images)}")
        return images[idx], calibration.record(
            f"official list {OFFICIAL} (indices into the CIFAR-10 test batch, as model_converter.py reads them), "
            f"without the {len(left_out)} that are ic01 test files", kind, len(idx), batch="test",
            left_out=[int(i) for i in left_out])
    images = sets["train"][0]
    idx = calibration.draw(len(images), cfg.samples, cfg.seed)
    return images[idx], calibration.record(f"synthetic stand-in: {len(idx)} of the {len(images)} images of the synthetic "
                                           f"training batches (seed {cfg.seed})", kind, len(idx), batch="train")
