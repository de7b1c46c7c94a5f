"""A CIFAR-10 python folder (cifar-10-batches-py/, real or synthetic in the same format): pickled
dicts `data_batch_1..5` and `test_batch` with b'data' (N x 3072 uint8, planar: 1024 R, 1024 G,
1024 B), b'labels', b'filenames', b'batch_label', and `batches.meta` with b'label_names'. Read and
written here, so the synthetic generator writes exactly what the reader of the real one reads."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from common.errors import DatasetError

TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_BATCH = "test_batch"
META = "batches.meta"
SIDE, CHANNELS = 32, 3


def check_layout(root: Path) -> None:
    if not root.is_dir():
        raise DatasetError(f"CIFAR-10 folder {root} does not exist")
    missing = [n for n in (*TRAIN_BATCHES, TEST_BATCH, META) if not (root / n).is_file()]
    if missing:
        raise DatasetError(f"{root} is not a CIFAR-10 python folder (cifar-10-batches-py): missing {', '.join(missing)}")


def fingerprint(root: Path) -> list:
    """Batch names and sizes: a real dataset is keyed by its content."""
    return sorted((p.name, p.stat().st_size) for p in root.iterdir() if p.is_file())


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="bytes")
    except (pickle.UnpicklingError, EOFError, ValueError) as e:
        raise DatasetError(f"{path}: not a CIFAR-10 pickle batch ({e})") from e


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(images N x 32 x 32 x 3 uint8 HWC, labels, file names) of one batch."""
    d = _unpickle(path)
    try:
        data, labels, names = d[b"data"], d[b"labels"], d[b"filenames"]
    except KeyError as e:
        raise DatasetError(f"{path}: CIFAR-10 batch without {e}") from e
    data = np.asarray(data, dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] != SIDE * SIDE * CHANNELS or len(labels) != len(data) or len(names) != len(data):
        raise DatasetError(f"{path}: expected N x 3072 pixels with N labels and file names, got {data.shape}, "
                           f"{len(labels)} labels, {len(names)} names")
    # planar CHW -> HWC, as the reference's np.rollaxis(x, 1, 4)
    hwc = data.reshape(-1, CHANNELS, SIDE, SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(hwc), np.asarray(labels, dtype=np.int64), [n.decode() for n in names]


def read(root: Path) -> dict[str, tuple[np.ndarray, np.ndarray, list[str]]]:
    """{'train': ..., 'test': ...} as read_batch gives them (the five training batches concatenated)."""
    check_layout(root)
    parts = [read_batch(root / name) for name in TRAIN_BATCHES]
    train = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), sum((p[2] for p in parts), []))
    return {"train": train, "test": read_batch(root / TEST_BATCH)}


def label_names(root: Path) -> list[str]:
    return [n.decode() for n in _unpickle(root / META)[b"label_names"]]


def write_batch(path: Path, images: np.ndarray, labels: np.ndarray, names: list[str], batch_label: str) -> None:
    """images N x 32 x 32 x 3 uint8 HWC -> a pickled batch in CIFAR's planar layout."""
    planar = np.ascontiguousarray(images.transpose(0, 3, 1, 2)).reshape(len(images), -1)
    d = {b"batch_label": batch_label.encode(), b"labels": [int(y) for y in labels], b"data": planar,
         b"filenames": [n.encode() for n in names]}
    with open(path, "wb") as f:
        pickle.dump(d, f, protocol=2)


def write_meta(path: Path, names: list[str], per_batch: int) -> None:
    with open(path, "wb") as f:
        pickle.dump({b"num_cases_per_batch": per_batch, b"label_names": [n.encode() for n in names],
                     b"num_vis": SIDE * SIDE * CHANNELS}, f, protocol=2)
