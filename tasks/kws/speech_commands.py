"""A Speech Commands v2 folder (real, or synthetic in the same layout): <word>/<speaker>_nohash_<n>.wav
at 16 kHz, _background_noise_/*.wav, validation_list.txt and testing_list.txt (paths relative to the
root). Reads it into the reference's splits and 12 classes (10 keywords, silence, unknown), mixes
background noise into training clips as the reference does, and computes the MFCC features."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import soundfile as sf

from common.errors import DatasetError
from common.jsonio import write_json
from tasks.kws import features as fe
from tasks.kws.config import KWSTask

log = logging.getLogger(__name__)
BACKGROUND = "_background_noise_"
SILENCE, UNKNOWN = "Silence", "Unknown"
SEED = 59185  # which unknown clips, noise slices and mixes are drawn: fixed, so a data stage is reproducible


def check_layout(root: Path) -> list[str]:
    """The word folders of a Speech Commands root; raises naming what is missing."""
    if not root.is_dir():
        raise DatasetError(f"Speech Commands folder {root} does not exist")
    missing = [n for n in ("validation_list.txt", "testing_list.txt", BACKGROUND) if not (root / n).exists()]
    if missing:
        raise DatasetError(f"{root} is not a Speech Commands v2 folder: missing {', '.join(missing)}")
    words = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name != BACKGROUND)
    if not words:
        raise DatasetError(f"{root} has no word folders")
    return words


def fingerprint(root: Path) -> list:
    """(list file sizes, number of WAVs, their total size): a real dataset is keyed by its content."""
    wavs = list(root.rglob("*.wav"))
    return [(root / n).stat().st_size for n in ("validation_list.txt", "testing_list.txt")] + [
        len(wavs), sum(p.stat().st_size for p in wavs)]


def read_wav(path: Path, sample_rate: int) -> np.ndarray:
    data, rate = sf.read(path, dtype="int16", always_2d=True)
    if rate != sample_rate:
        raise DatasetError(f"{path}: {rate} Hz, expected {sample_rate} Hz")
    return data[:, 0].astype(np.float32)


def _fit(clip: np.ndarray, n: int) -> np.ndarray:
    return np.pad(clip[:n], (0, max(0, n - len(clip))))


def splits(root: Path, cfg: KWSTask, rng: np.random.Generator) -> dict[str, list[tuple[Path | None, int]]]:
    """{train|validation|test: [(wav or None for silence, class)]} with the reference's proportions of
    silence and unknown (percent of the keyword clips), unknown clips drawn from the other words."""
    words = check_layout(root)
    keywords = {w.lower(): i for i, w in enumerate(cfg.classes) if w not in (SILENCE, UNKNOWN)}
    missing = sorted(set(keywords) - set(words))
    if missing:
        raise DatasetError(f"{root}: no folder for keyword(s) {', '.join(missing)}")
    listed = {name: set((root / f"{name}_list.txt").read_text().split()) for name in ("validation", "testing")}
    sets: dict[str, dict[str, list]] = {s: {"kw": [], "unknown": []} for s in ("train", "validation", "test")}
    for word in words:
        for wav in sorted((root / word).glob("*.wav")):
            rel = f"{word}/{wav.name}"
            split = "validation" if rel in listed["validation"] else "test" if rel in listed["testing"] else "train"
            if word in keywords:
                sets[split]["kw"].append((wav, keywords[word]))
            else:
                sets[split]["unknown"].append((wav, cfg.classes.index(UNKNOWN)))
    out = {}
    mix = cfg.training_mix
    for split, parts in sets.items():
        n_kw = len(parts["kw"])
        if n_kw == 0:
            raise DatasetError(f"{root}: the {split} split has no keyword clips")
        n_unknown = min(len(parts["unknown"]), int(round(n_kw * mix.unknown_percent / 100)))
        unknown = [parts["unknown"][i] for i in sorted(rng.choice(len(parts["unknown"]), n_unknown, replace=False))]
        silence = [(None, cfg.classes.index(SILENCE))] * int(round(n_kw * mix.silence_percent / 100))
        out[split] = parts["kw"] + unknown + silence
    return out


def _background(root: Path, sample_rate: int) -> list[np.ndarray]:
    clips = [read_wav(p, sample_rate) for p in sorted((root / BACKGROUND).glob("*.wav"))]
    clips = [c / 32768.0 for c in clips if len(c) > sample_rate]
    if not clips:
        raise DatasetError(f"{root / BACKGROUND} has no noise clip longer than 1 s")
    return clips


def waveforms(items: list[tuple[Path | None, int]], noise: list[np.ndarray], cfg: KWSTask, rng: np.random.Generator,
              training: bool) -> np.ndarray:
    """Normalised clips (silence is a noise slice); training clips get background noise (reference:
    with probability background_frequency, volume uniform in [0, background_volume], clipped to +-1)."""
    f, mix = cfg.features, cfg.training_mix
    n = f.clip_samples
    out = np.zeros((len(items), n), dtype=np.float32)
    for i, (wav, _) in enumerate(items):
        if wav is None:  # silence: a noise slice, normalised like every clip the reference reads
            src = noise[rng.integers(len(noise))]
            start = rng.integers(0, len(src) - n)
            out[i] = fe.normalise(src[None, start:start + n])[0]
            continue
        clip = fe.normalise(_fit(read_wav(wav, f.sample_rate), n)[None, :])[0]
        if training and rng.uniform() < mix.background_frequency:
            src = noise[rng.integers(len(noise))]
            start = rng.integers(0, len(src) - n)
            clip = np.clip(clip + src[start:start + n] * rng.uniform(0, mix.background_volume), -1.0, 1.0)
        out[i] = clip
    return out


def features(root: Path, cfg: KWSTask, out: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """MFCC features and labels per split; train and validation saved as npz in out."""
    from tqdm import tqdm

    rng = np.random.default_rng(SEED)
    noise = _background(root, cfg.features.sample_rate)
    result = {}
    for split, items in tqdm(splits(root, cfg, rng).items(), desc="MFCC features", unit="split"):
        x = fe.mfcc(waveforms(items, noise, cfg, rng, training=split == "train"), cfg.features)
        y = np.array([c for _, c in items], dtype=np.int64)
        result[split] = (x, y)
        if split != "test":
            np.savez(out / f"{split}.npz", x=x, y=y)
    write_json(out / "splits.json", {s: np.bincount(y, minlength=len(cfg.classes)).tolist() for s, (_, y) in result.items()})
    return result
