"""kws01 test files, byte-exact to docs/mlperf-tiny.md 1.3: 49 x 10 MFCCs (frame-major), each int8 =
x / scale + zero_point cast as the reference's make_bin_files.py casts it (numpy float -> int8:
truncation toward zero, then the low 8 bits), named tst_NNNNNN_<Label>_<class>.bin, with
y_labels.csv rows `file,12,class` and no header."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tasks import read_testset
from tasks.kws.config import InputEncoding


def encode(features: np.ndarray, enc: InputEncoding) -> np.ndarray:
    """float MFCCs -> the kws01 int8 bytes (wrapping exactly like the reference's astype(np.int8))."""
    return np.trunc(features / enc.scale + enc.zero_point).astype(np.int64).astype(np.int8)


def export(features: np.ndarray, labels: np.ndarray, classes: list[str], folder: Path, enc: InputEncoding) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (x, y) in enumerate(zip(features, labels)):
        name = f"tst_{i:06d}_{classes[y]}_{y}.bin"
        (folder / name).write_bytes(encode(x, enc).tobytes())
        rows.append(f"{name},{len(classes)},{y}\n")
    (folder / "y_labels.csv").write_text("".join(rows))
    return len(rows)


def read(eembc: Path, model_id: str, input_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """(int8 inputs (N, input_bytes), labels) of an EEMBC test folder."""
    return read_testset(eembc, model_id, input_bytes, np.int8)
