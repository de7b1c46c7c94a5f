"""ic01 test files, byte-exact to docs/mlperf-tiny.md 1.5: one CIFAR-10 test image per file, 3072 bytes uint8 in
HWC order (interleaved RGB, byte 0 = the upper-left pixel's R), named after the image's CIFAR file
name with .png replaced by .bin, and y_labels.csv rows `file,10,class` with no header, in the order
the images were chosen.

Which images: on real CIFAR-10, the reference's perf_samples_idxs.npy (200 test-batch indices, 20
per class); on synthetic data, the first `per_class` test images of each class, in test-batch order."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.errors import DatasetError
from tasks import read_testset


def choose(labels: np.ndarray, classes: int, per_class: int) -> np.ndarray:
    """Test-batch indices: the first per_class images of every class, in batch order."""
    picked = np.concatenate([np.flatnonzero(labels == k)[:per_class] for k in range(classes)])
    short = [k for k in range(classes) if np.sum(labels == k) < per_class]
    if short:
        raise DatasetError(f"the test batch has fewer than {per_class} images of class(es) {short}")
    return np.sort(picked)


def export(images: np.ndarray, labels: np.ndarray, names: list[str], indices: np.ndarray, classes: int,
           folder: Path) -> int:
    """Write the images at `indices` (N x 32 x 32 x 3 uint8 HWC) and y_labels.csv, in index order."""
    if images.dtype != np.uint8 or images.shape[1:] != (32, 32, 3):
        raise DatasetError(f"ic01 images must be N x 32 x 32 x 3 uint8, got {images.shape} {images.dtype}")
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in indices:
        name = Path(names[i]).stem + ".bin"
        (folder / name).write_bytes(np.ascontiguousarray(images[i]).tobytes())
        rows.append(f"{name},{classes},{int(labels[i])}\n")
    if len({r.split(",")[0] for r in rows}) != len(rows):
        raise DatasetError("two chosen test images have the same file name")
    (folder / "y_labels.csv").write_text("".join(rows))
    return len(rows)


def read(eembc: Path, model_id: str, input_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """(images N x 32 x 32 x 3 uint8 HWC, labels) of an EEMBC test folder."""
    x, labels = read_testset(eembc, model_id, input_bytes, np.uint8)
    return x.reshape(-1, 32, 32, 3), labels
