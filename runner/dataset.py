"""An EEMBC dataset folder: <path>/<model id>/y_labels.csv plus the .bin files (spec 1.7)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

FIELDS = ("file", "classes", "class", "bytes_to_send", "stride")


@dataclass(frozen=True)
class Entry:
    file: str
    classes: str
    label: str
    bytes_to_send: str | None
    stride: str | None
    data: bytes

    def windows(self) -> list[bytes]:
        """The slices the runner sends: the whole file, or every window of bytes_to_send at stride."""
        if not self.bytes_to_send:
            return [self.data]
        size, step = int(self.bytes_to_send), int(self.stride)
        return [self.data[o : o + size] for o in range(0, len(self.data) - size + 1, step)]


def load(dataset_path: Path, model_id: str) -> list[Entry]:
    folder = Path(dataset_path) / model_id
    labels = folder / "y_labels.csv"
    if not labels.is_file():
        raise SystemExit(f"no {labels}: the dataset path must hold <model id>/y_labels.csv and the .bin files")
    entries = []
    with open(labels, newline="") as f:
        for n, row in enumerate(csv.reader(f), 1):
            row = [c.strip() for c in row]
            if len(row) not in (3, 5):
                raise SystemExit(f"{labels}:{n}: expected file,classes,class[,bytes,stride], got {row}")
            path = folder / row[0]
            if not path.is_file():
                raise SystemExit(f"{labels}:{n}: {path} does not exist")
            entries.append(Entry(row[0], row[1], row[2], *(row[3:5] if len(row) == 5 else (None, None)), path.read_bytes()))
    if not entries:
        raise SystemExit(f"{labels} lists no files")
    return entries
