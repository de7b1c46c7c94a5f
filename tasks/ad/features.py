"""The MLPerf Tiny ad01 front end (docs/mlperf-tiny.md section 1.6, reference common.py:file_to_vector_array).

librosa log-mel (n_fft 1024, hop 512, 128 mels, power 2) as 10*log10(mel + eps), time-major;
only frames [first_frame, last_frame) are kept (200 frames); a feature vector is `frames`
consecutive frames concatenated frame-major (5 x 128 = 640), one per frame offset (196 per clip).
"""

from __future__ import annotations

import sys
from pathlib import Path

import librosa
import numpy as np

from common.errors import DatasetError
from tasks.ad.config import FeatureConfig


def log_mel(path: Path, cfg: FeatureConfig) -> np.ndarray:
    """(time, n_mels) float32 log-mel matrix of one WAV file, cropped to the kept frames."""
    signal, sr = librosa.load(path, sr=None, mono=False)
    mel = librosa.feature.melspectrogram(
        y=signal, sr=sr, n_fft=cfg.n_fft, hop_length=cfg.hop_length, n_mels=cfg.n_mels, power=cfg.power
    )
    db = 20.0 / cfg.power * np.log10(mel + sys.float_info.epsilon)
    kept = db.T[cfg.first_frame : cfg.last_frame]
    if kept.shape[0] != cfg.kept_frames:
        raise DatasetError(f"{path}: only {db.shape[1]} frames, need at least {cfg.last_frame} (clip too short)")
    return np.ascontiguousarray(kept, dtype=np.float32)


def windows(matrix: np.ndarray, frames: int) -> np.ndarray:
    """(time, mels) -> (time - frames + 1, frames * mels), frame-major like the reference."""
    count = matrix.shape[0] - frames + 1
    return np.concatenate([matrix[t : t + count] for t in range(frames)], axis=1)
