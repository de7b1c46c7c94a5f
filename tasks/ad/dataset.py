"""ToyCar data on disk: find it (real or synthetic), turn it into features and EEMBC test files.

EEMBC test files (docs/mlperf-tiny.md 1.6, 1.7): `<out>/ad01/<wav stem>_hist_librosa.bin` holds the 200 x 128
float32 little-endian log-mel matrix (102 400 bytes); `y_labels.csv` lists normal files then
anomalous ones as `file,2,class,<window bytes>,<stride bytes>` (2560, 512 for the reference front
end) with no header, like the official list.
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from common.errors import DatasetError
from tasks.ad import features

log = logging.getLogger(__name__)

WAV_NAME = re.compile(r"^(normal|anomaly)_id_(\d\d)_(\d{8})\.wav$")


@dataclass(frozen=True)
class TestFile:
    wav: Path
    anomalous: bool

    @property
    def bin_name(self) -> str:
        return f"{self.wav.stem}_hist_librosa.bin"


def check_layout(root: Path) -> tuple[list[Path], list[TestFile]]:
    """Train WAVs and test files of a ToyCar folder; raises DatasetError naming what is wrong."""
    if not root.is_dir():
        raise DatasetError(f"dataset folder {root} does not exist")
    train = sorted(p for p in (root / "train").glob("*.wav") if WAV_NAME.match(p.name))
    tests = sorted(p for p in (root / "test").glob("*.wav") if WAV_NAME.match(p.name))
    problems = []
    if not train:
        problems.append(f"no {root}/train/normal_id_XX_NNNNNNNN.wav files")
    if any(p.name.startswith("anomaly") for p in train):
        problems.append(f"{root}/train holds anomaly files (the training set must be normal only)")
    normal = [TestFile(p, False) for p in tests if p.name.startswith("normal")]
    anomalous = [TestFile(p, True) for p in tests if p.name.startswith("anomaly")]
    if not normal or not anomalous:
        problems.append(f"{root}/test needs both normal_id_XX_*.wav and anomaly_id_XX_*.wav files")
    if problems:
        raise DatasetError("not a DCASE 2020 task 2 machine folder (expected train/ and test/):\n  " + "\n  ".join(problems))
    return train, normal + anomalous


def file_windows(paths: list[Path], cfg: features.FeatureConfig) -> list[np.ndarray]:
    """The windows of each WAV (float32), in the order given."""
    return [features.windows(features.log_mel(p, cfg), cfg.frames).astype(np.float32)
            for p in tqdm(paths, desc="train features", unit="wav")]


def train_windows(paths: list[Path], cfg: features.FeatureConfig) -> np.ndarray:
    return np.concatenate(file_windows(paths, cfg))


def export_eembc(tests: list[TestFile], cfg: features.FeatureConfig, out: Path, window_bytes: int, stride_bytes: int) -> int:
    """Write the EEMBC test files and y_labels.csv into out (the `ad01` folder)."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for t in tqdm(tests, desc="EEMBC test files", unit="file"):
        matrix = features.log_mel(t.wav, cfg)
        (out / t.bin_name).write_bytes(matrix.astype("<f4").tobytes())
        rows.append([t.bin_name, 2, int(t.anomalous), window_bytes, stride_bytes])
    with open(out / "y_labels.csv", "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return len(rows)


@dataclass(frozen=True)
class LabelledFile:
    name: str
    label: int
    windows: np.ndarray  # (windows per file, window values) float32, e.g. (196, 640)


def read_eembc(folder: Path) -> list[LabelledFile]:
    """Read back an EEMBC ad01 folder exactly as the runner slices it for the DUT."""
    from common import eembc_dataset as eembc

    return [
        LabelledFile(e.file, int(e.label), np.stack([np.frombuffer(w, "<f4") for w in e.windows()]))
        for e in eembc.load(folder.parent, folder.name)
    ]
