"""vww01 test files, as docs/mlperf-tiny.md 1.4 describes them: one 96 x 96 RGB image per file, 27 648 bytes
uint8 in HWC order (byte 0 = the upper-left pixel's R), named <12-digit COCO id>.bin as the official
files are, and y_labels.csv rows `file,2,class` (0 non_person, 1 person) with no header.

Which images: on real data the official vww01 list (1000 files, 500 per class; the reference's
y_labels.csv, found like the reference models), in its order, each taken from the archive's image of
that COCO id; on synthetic data every image the generator named as a validation image, in listing
order. The official .bin files were written from the resized image before any JPEG coding
(platform_ml_models' buildPersonDetectionDatabase.py, saved as .bin); the archive holds JPEGs, so
files exported from it may differ from the official ones by JPEG rounding: testset=PATH runs the
official files themselves."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from common.errors import DatasetError
from tasks import read_testset
from tasks.vww.config import CHANNELS, SIDE


def read_official(path: Path) -> list[tuple[str, int]]:
    """(COCO id, class) of each row of an official y_labels.csv (`<id>.bin,2,class`), in its order."""
    rows = []
    with open(path, newline="") as f:
        for n, row in enumerate(csv.reader(f), start=1):
            if not row:
                continue
            if len(row) != 3 or not row[0].strip().endswith(".bin") or row[1].strip() != "2" or row[2].strip() not in ("0", "1"):
                raise DatasetError(f"{path}:{n}: expected <id>.bin,2,<0|1>, got {row}")
            rows.append((row[0].strip()[:-4], int(row[2])))
    return rows


def select(ids: list[str], labels: np.ndarray, wanted: list[tuple[str, int]], where: str) -> np.ndarray:
    """Indices of the images with the wanted ids, in the wanted order; each must be there once, in its class."""
    index: dict[str, int] = {}
    for i, image in enumerate(ids):
        if image in index:
            raise DatasetError(f"{where}: two images have the id {image}")
        index[image] = i
    missing = [image for image, _ in wanted if image not in index]
    if missing:
        raise DatasetError(f"{where}: {len(missing)} test image(s) of the official list are not in the data set, "
                           f"e.g. {missing[0]}")
    wrong = [image for image, k in wanted if labels[index[image]] != k]
    if wrong:
        raise DatasetError(f"{where}: {len(wrong)} test image(s) are in the other class folder than the official list "
                           f"says, e.g. {wrong[0]}")
    return np.array([index[image] for image, _ in wanted], dtype=np.int64)


def export(images: np.ndarray, labels: np.ndarray, ids: list[str], folder: Path) -> int:
    """Write images (N x 96 x 96 x 3 uint8, HWC) as <id>.bin and y_labels.csv, in the order given."""
    if images.dtype != np.uint8 or images.shape[1:] != (SIDE, SIDE, CHANNELS):
        raise DatasetError(f"vww01 images must be N x {SIDE} x {SIDE} x {CHANNELS} uint8, got {images.shape} {images.dtype}")
    if len(set(ids)) != len(ids):
        raise DatasetError("two test images have the same id")
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for image, label, name in zip(images, labels, ids):
        (folder / f"{name}.bin").write_bytes(np.ascontiguousarray(image).tobytes())
        rows.append(f"{name}.bin,2,{int(label)}\n")
    (folder / "y_labels.csv").write_text("".join(rows))
    return len(rows)


def read(eembc: Path, model_id: str, input_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """(images N x 96 x 96 x 3 uint8 HWC, labels) of an EEMBC test folder."""
    x, labels = read_testset(eembc, model_id, input_bytes, np.uint8)
    return x.reshape(-1, SIDE, SIDE, CHANNELS), labels
