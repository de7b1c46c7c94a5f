"""Synthetic CIFAR-10: ten classes of drawn shapes under variation, written as CIFAR-10 python
batches (cifar.py), so the real reader reads them.

Class k is always the same shape (disk, square, triangle, ring, horizontal / vertical / diagonal
stripes, checkerboard, plus, X), drawn at a random position, size, rotation (a few degrees, so
stripes keep their direction), foreground and background colour (independent of the class), over
a colour gradient with pixel noise. Colour and brightness say nothing about the class: a model
must learn the shapes. The label names stay CIFAR-10's (the format's), class k meaning shape k.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tasks.ic import cifar
from tasks.ic.config import SyntheticConfig

SHAPES = ["disk", "square", "triangle", "ring", "hstripes", "vstripes", "dstripes", "checker", "plus", "cross"]


def _masks(kind: str, u: np.ndarray, v: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Foreground masks for coordinates u, v (N x 32 x 32, the shape's frame, about -1..1)."""
    r = np.hypot(u, v)
    inside = (np.abs(u) < 1) & (np.abs(v) < 1)
    phase = lambda t: np.floor(t / period) % 2 == 0  # noqa: E731
    if kind == "disk":
        return r < 0.9
    if kind == "square":
        return (np.abs(u) < 0.75) & (np.abs(v) < 0.75)
    if kind == "triangle":
        return (v < 0.7) & (v > 1.6 * np.abs(u) - 0.9)
    if kind == "ring":
        return (r < 0.95) & (r > 0.55)
    if kind == "hstripes":
        return inside & phase(v + 1)
    if kind == "vstripes":
        return inside & phase(u + 1)
    if kind == "dstripes":
        return inside & phase((u + v) / np.sqrt(2) + 2)
    if kind == "checker":
        return inside & (phase(u + 1) ^ phase(v + 1))
    if kind == "plus":
        return ((np.abs(u) < 0.25) & (np.abs(v) < 0.9)) | ((np.abs(v) < 0.25) & (np.abs(u) < 0.9))
    if kind == "cross":
        return (((np.abs(u - v) < 0.35) | (np.abs(u + v) < 0.35)) & (r < 1.0))
    raise ValueError(kind)


def _contrasting_colours(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Foreground and background colours (n x 3, 0..255) at least 80 apart in mean brightness or
    160 in one channel, so every shape is visible; which is brighter is random."""
    fg, bg = rng.uniform(0, 255, (n, 3)), rng.uniform(0, 255, (n, 3))
    weak = (np.abs(fg.mean(1) - bg.mean(1)) < 80) & (np.abs(fg - bg).max(1) < 160)
    while weak.any():
        fg[weak], bg[weak] = rng.uniform(0, 255, (weak.sum(), 3)), rng.uniform(0, 255, (weak.sum(), 3))
        weak = (np.abs(fg.mean(1) - bg.mean(1)) < 80) & (np.abs(fg - bg).max(1) < 160)
    return fg, bg


def draw(labels: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Images (N x 32 x 32 x 3 uint8, HWC) of the shapes given by labels."""
    n, side = len(labels), cifar.SIDE
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float64) + 0.5
    cx, cy = rng.uniform(11, 21, (2, n, 1, 1))
    scale = rng.uniform(7, 12, (n, 1, 1))
    angle = np.deg2rad(rng.uniform(-12, 12, (n, 1, 1)))
    dx, dy = (xs - cx) / scale, (ys - cy) / scale
    u = np.cos(angle) * dx + np.sin(angle) * dy
    v = -np.sin(angle) * dx + np.cos(angle) * dy
    period = rng.uniform(0.3, 0.45, (n, 1, 1))
    mask = np.zeros((n, side, side), dtype=bool)
    for k, kind in enumerate(SHAPES):
        sel = labels == k
        if sel.any():
            mask[sel] = _masks(kind, u[sel], v[sel], period[sel])
    fg, bg = _contrasting_colours(n, rng)
    # the background: its colour fading along a random direction
    g = rng.uniform(-1, 1, (n, 2, 1, 1))
    fade = 1 + 0.25 * (g[:, 0] * (xs - 16) + g[:, 1] * (ys - 16)) / 16
    img = np.where(mask[..., None], fg[:, None, None, :], bg[:, None, None, :] * fade[..., None])
    img += rng.normal(0, noise, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def generate(cfg: SyntheticConfig, label_names: list[str], root: Path) -> None:
    """Write data_batch_1..5, test_batch and batches.meta under root (cifar-10-batches-py layout)."""
    if len(label_names) != len(SHAPES):
        raise ValueError(f"synthetic CIFAR-10 draws {len(SHAPES)} shapes, the task has {len(label_names)} classes")
    rng = np.random.default_rng(cfg.seed)
    root.mkdir(parents=True, exist_ok=True)
    per_batch = cfg.images_per_batch
    count = 0
    for name in (*cifar.TRAIN_BATCHES, cifar.TEST_BATCH):
        labels = np.tile(np.arange(len(SHAPES)), per_batch // len(SHAPES) + 1)[:per_batch]
        rng.shuffle(labels)
        images = draw(labels, rng, cfg.noise)
        names = [f"{label_names[y]}_s_{count + i:06d}.png" for i, y in enumerate(labels)]
        count += per_batch
        batch_label = "testing batch 1 of 1" if name == cifar.TEST_BATCH else f"training batch {name[-1]} of 5"
        cifar.write_batch(root / name, images, labels, names, batch_label)
    cifar.write_meta(root / cifar.META, label_names, per_batch)
