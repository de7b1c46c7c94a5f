"""An EEMBC dataset folder: <path>/<model id>/y_labels.csv plus the .bin files (docs/mlperf-tiny.md 1.7),
read and checked completely before any DUT is contacted; every problem names the file and line."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from common.errors import DatasetError

FIELDS = ("file", "classes", "class", "bytes_to_send", "stride")  # the MLC runner's names (datasets.py)


@dataclass(frozen=True)
class Entry:
    file: str
    classes: str
    label: str
    bytes_to_send: str | None
    stride: str | None
    data: bytes

    @property
    def windowed(self) -> bool:
        """AD-style rows (bytes_to_send, stride): the DUT scores windows with one anomaly score each."""
        return self.bytes_to_send is not None

    @property
    def result_length(self) -> int:
        """How many values one m-results line must hold for this file."""
        return 1 if self.windowed else int(self.classes)

    def windows(self) -> list[bytes]:
        """The slices the runner sends: the whole file, or every window of bytes_to_send at stride."""
        if not self.windowed:
            return [self.data]
        assert self.bytes_to_send is not None and self.stride is not None  # windowed
        size, step = int(self.bytes_to_send), int(self.stride)
        return [self.data[o : o + size] for o in range(0, len(self.data) - size + 1, step)]

    def csv_fields(self) -> dict:
        """The row as the MLC runner's csv.DictReader returns it (missing fields are None)."""
        return {"file": self.file, "classes": self.classes, "class": self.label,
                "bytes_to_send": self.bytes_to_send, "stride": self.stride}


def _int(value: str, what: str, where: str, minimum: int) -> int:
    try:
        n = int(value)
    except ValueError:
        raise DatasetError(f"{where}: {what} must be an integer, got '{value}'") from None
    if n < minimum:
        raise DatasetError(f"{where}: {what} must be >= {minimum}, got {n}")
    return n


def _entry(folder: Path, row: list[str], where: str) -> Entry:
    if len(row) not in (3, 5):
        raise DatasetError(f"{where}: expected file,classes,class[,bytes_to_send,stride], got {row}")
    path = folder / row[0]
    if not path.is_file():
        raise DatasetError(f"{where}: {path} does not exist")
    classes = _int(row[1], "classes", where, 1)
    label = _int(row[2], "class", where, 0)
    if label >= classes:
        raise DatasetError(f"{where}: class {label} is not below classes={classes}")
    data = path.read_bytes()
    if not data:
        raise DatasetError(f"{where}: {path} is empty")
    if len(row) == 5:
        size = _int(row[3], "bytes_to_send", where, 1)
        _int(row[4], "stride", where, 1)
        if size > len(data):
            raise DatasetError(f"{where}: bytes_to_send {size} is larger than {row[0]} ({len(data)} bytes)")
    if len(row) == 5:
        return Entry(row[0], row[1], row[2], row[3], row[4], data)
    return Entry(row[0], row[1], row[2], None, None, data)


LABELS = "y_labels.csv"  # the test list; ad01 also ships y_labels_alt.csv (72 files), which labels= picks


def load(dataset_path: Path, model_id: str, labels_name: str = LABELS) -> list[Entry]:
    folder = Path(dataset_path) / model_id
    labels = folder / labels_name
    if not labels.is_file():
        hint = " (give the folder above it)" if (Path(dataset_path) / labels_name).is_file() else ""
        raise DatasetError(f"no {labels}: the dataset path must hold <model id>/{labels_name} and the .bin files{hint}")
    try:
        with open(labels, newline="", encoding="utf-8") as f:
            rows = [([c.strip() for c in row], n) for n, row in enumerate(csv.reader(f), 1) if row]
    except UnicodeDecodeError:
        raise DatasetError(f"{labels}: not UTF-8 text (is it the MLC runner's y_labels.csv?)") from None
    entries = [_entry(folder, row, f"{labels}:{n}") for row, n in rows]
    if not entries:
        raise DatasetError(f"{labels} lists no files")
    if len({e.windowed for e in entries}) > 1:
        raise DatasetError(f"{labels}: mixes windowed rows (5 fields) with whole-file rows (3 fields)")
    return entries


def load_all(dataset_path: Path, labels_name: str = LABELS) -> dict[str, list[Entry]]:
    """Every <model id>/<labels_name> under dataset_path, validated; the DUT's profile picks one later."""
    root = Path(dataset_path)
    if not root.is_dir():
        raise DatasetError(f"dataset path {root} is not a folder")
    models = sorted(p.parent.name for p in root.glob(f"*/{labels_name}"))
    if not models:
        hint = " (give the folder above it)" if (root / labels_name).is_file() else ""
        raise DatasetError(f"no <model id>/{labels_name} under {root}{hint}")
    return {m: load(root, m, labels_name) for m in models}
