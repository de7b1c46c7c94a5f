"""Synthetic ToyCar-like machine sounds in the DCASE 2020 task 2 on-disk layout.

Written exactly like the real dataset (16 kHz mono 16-bit WAV, 10 s):
    <root>/train/normal_id_XX_NNNNNNNN.wav
    <root>/test/normal_id_XX_NNNNNNNN.wav, <root>/test/anomaly_id_XX_NNNNNNNN.wav
so that everything downstream runs unchanged on real data.

A normal clip is a motor: an id-specific fundamental with decaying harmonics, slow speed wobble and
broadband noise, with small per-clip variation in speed, level and noise. An anomalous clip is a
normal clip plus one fault: a bearing whine (a high non-harmonic tone), gear knocks (periodic
broadband clicks) or a speed fault (the motor runs at a clearly different speed). Random numbers
come from MT19937 with fixed seeds (MLPerf Tiny rule), so a config always gives the same files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

SAMPLE_RATE = 16000
FAULTS = ("whine", "knock", "speed")


@dataclass(frozen=True)
class SyntheticSpec:
    machine_ids: tuple[int, ...] = (1, 2, 3, 4)
    train_per_id: int = 30
    test_normal_per_id: int = 5
    test_anomaly_per_id: int = 5
    seconds: float = 10.0
    seed: int = 1234


def _rng(*keys: int) -> np.random.Generator:
    return np.random.Generator(np.random.MT19937(np.random.SeedSequence(list(keys))))


def _motor(rng: np.random.Generator, machine_id: int, n: int, speed: float = 1.0) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    f0 = (90.0 + 37.0 * machine_id) * speed * rng.uniform(0.97, 1.03)
    wobble = 1.0 + 0.01 * np.sin(2 * np.pi * rng.uniform(0.2, 0.6) * t + rng.uniform(0, 2 * np.pi))
    phase = 2 * np.pi * f0 * np.cumsum(wobble) / SAMPLE_RATE
    signal = np.zeros(n)
    for k in range(1, 16):
        signal += (0.6 / k) * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    noise = np.convolve(rng.standard_normal(n), np.ones(4) / 4, mode="same")  # a little low-passed
    return 0.05 * signal * rng.uniform(0.8, 1.2) + rng.uniform(0.015, 0.025) * noise


def _fault(rng: np.random.Generator, kind: str, machine_id: int, n: int) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    if kind == "whine":
        f = rng.uniform(2500.0, 6000.0)
        return rng.uniform(0.01, 0.03) * np.sin(2 * np.pi * f * t * (1 + 0.002 * np.sin(2 * np.pi * 3 * t)))
    if kind == "knock":
        clicks = np.zeros(n)
        period = int(SAMPLE_RATE / rng.uniform(4.0, 12.0))
        start = int(rng.integers(0, period))
        burst = rng.standard_normal(160) * np.exp(-np.arange(160) / 30.0)
        for i in range(start, n - 160, period):
            clicks[i : i + 160] += burst * rng.uniform(0.3, 0.6)
        return clicks
    # speed fault: replace the motor by one running 15-30 % off its normal speed
    return _motor(rng, machine_id, n, speed=rng.choice([-1.0, 1.0]) * rng.uniform(0.15, 0.3) + 1.0)


def clip(spec: SyntheticSpec, machine_id: int, split: int, index: int, fault: str | None) -> np.ndarray:
    """One clip as float samples in [-1, 1]; deterministic in (seed, id, split, index)."""
    rng = _rng(spec.seed, machine_id, split, index)
    n = int(spec.seconds * SAMPLE_RATE)
    if fault == "speed":
        x = _fault(rng, fault, machine_id, n)
    else:
        x = _motor(rng, machine_id, n)
        if fault is not None:
            x = x + _fault(rng, fault, machine_id, n)
    return np.clip(x, -1.0, 1.0)


def _plan(spec: SyntheticSpec) -> list[tuple[str, str, int, int, str | None]]:
    """(folder, kind, machine id, index, fault) for every file."""
    plan = []
    for mid in spec.machine_ids:
        plan += [("train", "normal", mid, i, None) for i in range(spec.train_per_id)]
        plan += [("test", "normal", mid, i, None) for i in range(spec.test_normal_per_id)]
        plan += [("test", "anomaly", mid, i, FAULTS[i % len(FAULTS)]) for i in range(spec.test_anomaly_per_id)]
    return plan


def generate(spec: SyntheticSpec, root: Path) -> int:
    """Write the dataset under root (a ToyCar folder); returns the number of files."""
    plan = _plan(spec)
    for folder, kind, mid, index, fault in tqdm(plan, desc="synthetic ToyCar", unit="wav"):
        split = {"train": 0, "test": 1}[folder] * 2 + (kind == "anomaly")
        path = root / folder / f"{kind}_id_{mid:02d}_{index:08d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, clip(spec, mid, split, index, fault), SAMPLE_RATE, subtype="PCM_16")
    return len(plan)
