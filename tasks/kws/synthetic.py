"""Synthetic Speech Commands: real spoken words from espeak-ng (several voices, variants, pitches
and speeds), resampled to 16 kHz, placed at a random offset in a 1 s clip with a little noise,
written in the real dataset's layout (<word>/<speaker>_nohash_<n>.wav, _background_noise_/,
validation_list.txt, testing_list.txt). A model must tell the words apart by their sound; the
speakers of the test list are never heard in training."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from common.errors import BuildError
from tasks.kws.config import SyntheticConfig

ESPEAK = "espeak-ng"
VARIANTS = ["", "+m1", "+m3", "+f1", "+f3", "+klatt"]
BACKGROUND_SECONDS = 30


def _speak(word: str, voice: str, pitch: int, speed: int, tmp: Path) -> tuple[np.ndarray, int]:
    wav = tmp / "word.wav"
    proc = subprocess.run([ESPEAK, "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", str(wav), word],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"{ESPEAK} failed for '{word}' ({voice}): {proc.stderr.strip()}")
    data, rate = sf.read(wav, dtype="float32")
    return data, rate


def _noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    white = rng.standard_normal(n)
    if kind == "white":
        x = white
    else:  # pink (1/f) or brown (1/f^2) by shaping the spectrum
        spectrum = np.fft.rfft(white)
        f = np.maximum(np.arange(len(spectrum)), 1)
        spectrum /= np.sqrt(f) if kind == "pink" else f
        x = np.fft.irfft(spectrum, n)
    return (0.5 * x / np.max(np.abs(x))).astype(np.float32)


def generate(cfg: SyntheticConfig, classes: list[str], sample_rate: int, root: Path) -> None:
    from tqdm import tqdm

    if shutil.which(ESPEAK) is None:
        raise BuildError(f"{ESPEAK} not found on PATH: make setup installs it (Debian package espeak-ng)")
    rng = np.random.default_rng(cfg.seed)
    keywords = [c.lower() for c in classes if c not in ("Silence", "Unknown")]
    words = keywords + [w for w in cfg.unknown_words if w not in keywords]
    root.mkdir(parents=True, exist_ok=True)
    (root / "_background_noise_").mkdir(exist_ok=True)
    kinds = ["white", "pink", "brown"]
    for k in range(cfg.noise_clips):
        kind = kinds[k % len(kinds)]
        sf.write(root / "_background_noise_" / f"{kind}_noise_{k}.wav", _noise(kind, BACKGROUND_SECONDS * sample_rate, rng),
                 sample_rate, subtype="PCM_16")
    # a "speaker" is a voice, variant, pitch and speed; each utterance gets its own speaker
    test_list, validation_list = [], []
    with tempfile.TemporaryDirectory() as tmp, tqdm(total=len(words) * cfg.utterances_per_word, desc="espeak-ng",
                                                     unit="clip") as bar:
        for word in words:
            (root / word).mkdir(exist_ok=True)
            for n in range(cfg.utterances_per_word):
                voice = cfg.voices[rng.integers(len(cfg.voices))] + VARIANTS[rng.integers(len(VARIANTS))]
                pitch, speed = int(rng.integers(20, 80)), int(rng.integers(120, 220))
                speech, rate = _speak(word, voice, pitch, speed, Path(tmp))
                speech = resample_poly(speech, sample_rate, rate).astype(np.float32)[:sample_rate]
                clip = np.zeros(sample_rate, dtype=np.float32)
                start = int(rng.integers(0, sample_rate - len(speech) + 1))
                clip[start:start + len(speech)] = speech * rng.uniform(0.3, 0.9) / max(1e-6, float(np.max(np.abs(speech))))
                clip += rng.standard_normal(sample_rate).astype(np.float32) * rng.uniform(0.001, 0.01)
                speaker = f"{rng.integers(1 << 32):08x}"
                name = f"{speaker}_nohash_{n}.wav"
                sf.write(root / word / name, np.clip(clip, -1, 1), sample_rate, subtype="PCM_16")
                split = rng.uniform()
                if split < cfg.test_fraction:
                    test_list.append(f"{word}/{name}")
                elif split < 2 * cfg.test_fraction:
                    validation_list.append(f"{word}/{name}")
                bar.update(1)
    (root / "testing_list.txt").write_text("".join(f"{p}\n" for p in test_list))
    (root / "validation_list.txt").write_text("".join(f"{p}\n" for p in validation_list))
