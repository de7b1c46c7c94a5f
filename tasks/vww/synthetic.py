"""Synthetic visual wake words: rendered scenes written in the real data set's layout (folders.py:
vw_coco2014_96/person/ and non_person/ of 96 x 96 JPEGs, named COCO_train2014_<id>.jpg for training and
COCO_val2014_<id>.jpg for the test images), so the real reader reads them.

A scene is a colour gradient (a horizon at a random height) with large blocks and `clutter` smaller
objects (discs, ellipses, boxes, triangles, sticks) of random colours. A person/ image adds one or two
human figures: a head, a neck, a torso, two arms and two legs of two segments each, in a random pose
(standing, walking, arms raised, leaning, sitting), scale (from under half to nearly all of the image
height), position (partly out of the frame at times), skin, shirt and trouser colours. A non_person/
image is the same kind of scene with the same parts of a figure drawn apart: every part moved to its
own random place and angle. Both classes so hold the same shapes, colours and painted area: colour
and brightness statistics say nothing about the class (tests/tasks/test_vww.py), and a model must
see how the parts are put together.

Drawn at twice the size and reduced with a box filter (antialiased, as the archive's images were
resized), with pixel noise, then coded as JPEG. Deterministic for a seed: each image has its own
generator seeded by (seed, split, class, index)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tasks.vww import folders
from tasks.vww.config import SIDE, SyntheticConfig

SCALE = 2  # drawn at 2 x 96, reduced with a box filter
CANVAS = SIDE * SCALE
SPLITS = {"train2014": "train_per_class", "val2014": "test_per_class"}  # COCO's split names: train, test images


def _rot(v: np.ndarray, degrees: float) -> np.ndarray:
    a = np.deg2rad(degrees)
    return np.array([np.cos(a) * v[0] - np.sin(a) * v[1], np.sin(a) * v[0] + np.cos(a) * v[1]])


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(c) for c in rng.integers(0, 256, 3))


def _skin(rng: np.random.Generator) -> tuple[int, int, int]:
    """A skin tone, light to dark (brightness and warmth varied)."""
    base = rng.uniform(0.25, 1.0)
    return (int(255 * base), int(255 * base * rng.uniform(0.62, 0.8)), int(255 * base * rng.uniform(0.45, 0.65)))


def figure(rng: np.random.Generator, height: float) -> list[tuple]:
    """The parts of one human figure, in canvas units relative to its hip centre: ("stick", p0, p1, width,
    colour), ("ellipse", centre, rx, ry, colour), ("poly", points, colour)."""
    skin, shirt, trousers = _skin(rng), _colour(rng), _colour(rng)
    h = height
    r = 0.07 * h
    torso, shoulders, hips = 0.3 * h, rng.uniform(0.18, 0.26) * h, rng.uniform(0.13, 0.18) * h
    arm = (0.17 * h, 0.15 * h, 0.07 * h)
    leg = (0.24 * h, 0.23 * h, 0.1 * h)
    lean = rng.uniform(-15, 15)
    up = _rot(np.array([0.0, -1.0]), lean)
    side = np.array([-up[1], up[0]])
    neck = up * torso
    parts: list[tuple] = []
    sitting = rng.random() < 0.15
    for s in (-1, 1):  # legs: hip angle from straight down, knee bend towards the front
        hip = side * s * hips / 2
        if sitting:
            thigh, bend = rng.uniform(70, 95) * rng.choice([-1, 1]), 0.0
            knee = hip + _rot(np.array([0.0, 1.0]), thigh + lean) * leg[0]
            foot = knee + _rot(np.array([0.0, 1.0]), rng.uniform(-15, 15)) * leg[1]
        else:
            thigh, bend = rng.uniform(-30, 30), rng.uniform(0, 50)
            knee = hip + _rot(np.array([0.0, 1.0]), thigh + lean) * leg[0]
            foot = knee + _rot(np.array([0.0, 1.0]), thigh + lean - bend * np.sign(thigh + 1e-9)) * leg[1]
        parts += [("stick", hip, knee, leg[2], trousers), ("stick", knee, foot, leg[2] * 0.85, trousers)]
    shoulder_l, shoulder_r = neck - up * 0.04 * h - side * shoulders / 2, neck - up * 0.04 * h + side * shoulders / 2
    parts.append(("poly", [shoulder_l, shoulder_r, side * hips / 2 + up * 0.02 * h, -side * hips / 2 + up * 0.02 * h], shirt))
    for s, shoulder in ((-1, shoulder_l), (1, shoulder_r)):  # arms: down, out or raised
        angle = s * rng.uniform(5, 170) if rng.random() < 0.35 else s * rng.uniform(0, 40)
        elbow = shoulder + _rot(np.array([0.0, 1.0]), angle + lean) * arm[0]
        hand = elbow + _rot(np.array([0.0, 1.0]), angle + lean + s * rng.uniform(-20, 100)) * arm[1]
        parts += [("stick", shoulder, elbow, arm[2], shirt), ("stick", elbow, hand, arm[2] * 0.8, skin)]
    parts.append(("stick", neck - up * 0.02 * h, neck + up * 0.05 * h, 0.05 * h, skin))
    head = neck + up * (0.05 * h + r * 0.9)
    parts.append(("ellipse", head, r * rng.uniform(0.8, 0.95), r, skin))
    return parts


def _moved(part: tuple, offset: np.ndarray, angle: float = 0.0, pivot: np.ndarray | None = None) -> tuple:
    """The part rotated by angle about pivot (default: the origin), then moved by offset."""
    pivot = np.zeros(2) if pivot is None else pivot
    f = lambda p: _rot(np.asarray(p) - pivot, angle) + pivot + offset  # noqa: E731
    if part[0] == "stick":
        return ("stick", f(part[1]), f(part[2]), part[3], part[4])
    if part[0] == "ellipse":
        return ("ellipse", f(part[1]), part[2], part[3], part[4])
    return ("poly", [f(p) for p in part[1]], part[2])


def _centre(part: tuple) -> np.ndarray:
    if part[0] == "stick":
        return (np.asarray(part[1]) + np.asarray(part[2])) / 2
    if part[0] == "ellipse":
        return np.asarray(part[1])
    return np.mean(np.asarray(part[1]), axis=0)


def scattered(parts: list[tuple], rng: np.random.Generator) -> list[tuple]:
    """The figure taken apart: each part at its own random place and angle, and each limb segment a
    compact blob (an ellipse) of its own area and colour, so that nothing of a body's shape is left
    but what a figure has as much of as the rest of a scene: its colours and painted area."""
    out = []
    for part in parts:
        c = _centre(part)
        place = rng.uniform(0.05, 0.95, 2) * CANVAS
        if part[0] == "stick":
            length = float(np.hypot(*(np.asarray(part[2]) - np.asarray(part[1])))) + part[3]
            aspect = rng.uniform(0.45, 1.0)
            rx = float(np.sqrt(length * part[3] / (np.pi * aspect)))
            out.append(("ellipse", place, rx, rx * aspect, part[4]))
        else:
            out.append(_moved(part, place - c, rng.uniform(0, 360), c))
    return out


def _draw(draw, part: tuple) -> None:
    if part[0] == "stick":
        (x0, y0), (x1, y1), width, colour = part[1], part[2], part[3], part[4]
        draw.line([(x0, y0), (x1, y1)], fill=colour, width=max(1, int(round(width))))
        for x, y in ((x0, y0), (x1, y1)):  # round ends, as joints
            draw.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=colour)
    elif part[0] == "ellipse":
        (x, y), rx, ry, colour = part[1], part[2], part[3], part[4]
        draw.ellipse([x - rx, y - ry, x + rx, y + ry], fill=colour)
    else:
        draw.polygon([tuple(p) for p in part[1]], fill=part[2])


def _clutter(rng: np.random.Generator, n: int) -> list[tuple]:
    """Background objects: discs, ellipses, boxes, triangles and sticks of random colours and sizes."""
    parts: list[tuple] = []
    for _ in range(n):
        c, size, colour = rng.uniform(0, CANVAS, 2), rng.uniform(0.04, 0.25) * CANVAS, _colour(rng)
        kind = rng.integers(5)
        if kind == 0:
            parts.append(("ellipse", c, size / 2, size / 2, colour))
        elif kind == 1:
            parts.append(("ellipse", c, size / 2, size * rng.uniform(0.2, 0.6), colour))
        elif kind == 2:
            w, hgt = size * rng.uniform(0.3, 1), size * rng.uniform(0.3, 1)
            box = [c + _rot(np.array(v), rng.uniform(-30, 30)) for v in ((-w, -hgt), (w, -hgt), (w, hgt), (-w, hgt))]
            parts.append(("poly", box, colour))
        elif kind == 3:
            parts.append(("poly", [c + _rot(np.array([0.0, -size]), a) for a in rng.uniform(0, 360) + np.array([0, 120, 240])],
                          colour))
        else:
            d = _rot(np.array([size, 0.0]), rng.uniform(0, 360))
            parts.append(("stick", c - d / 2, c + d / 2, rng.uniform(0.01, 0.04) * CANVAS, colour))
    return parts


def render(rng: np.random.Generator, person: bool, cfg: SyntheticConfig) -> np.ndarray:
    """One scene, 96 x 96 x 3 uint8: with one or two figures (person) or their parts drawn apart (not)."""
    from PIL import Image, ImageDraw

    top, bottom, ground = np.array(_colour(rng), float), np.array(_colour(rng), float), _colour(rng)
    horizon = rng.uniform(0.3, 0.8) * CANVAS
    t = np.linspace(0, 1, CANVAS)[:, None]
    sky = top * (1 - t) + bottom * t
    canvas = np.repeat(sky[:, None, :], CANVAS, axis=1)
    canvas[int(horizon):] = ground
    img = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(rng.integers(0, 3)):  # large blocks: walls, furniture
        x, y = rng.uniform(0, CANVAS, 2)
        w, hgt = rng.uniform(0.15, 0.5, 2) * CANVAS
        draw.rectangle([x - w / 2, y - hgt / 2, x + w / 2, y + hgt / 2], fill=_colour(rng))
    objects = _clutter(rng, int(rng.integers(cfg.clutter[0], cfg.clutter[1] + 1)))
    figures = []
    for _ in range(1 if rng.random() < 0.85 else 2):
        height = rng.uniform(0.45, 0.95) * CANVAS
        hip = np.array([rng.uniform(0.1, 0.9) * CANVAS, rng.uniform(0.3, 0.95) * CANVAS - 0.1 * height])
        figures.append([_moved(p, hip) for p in figure(rng, height)])
    # most clutter behind the figures (or their parts), a tenth in front of them
    front = rng.random(len(objects)) < 0.1
    for part in [o for o, f in zip(objects, front) if not f]:
        _draw(draw, part)
    for parts in figures:
        for part in parts if person else scattered(parts, rng):
            _draw(draw, part)
    for part in [o for o, f in zip(objects, front) if f]:
        _draw(draw, part)
    small = np.asarray(img.resize((SIDE, SIDE), Image.BOX), dtype=np.float64)
    small += rng.normal(0, cfg.noise, small.shape)
    return np.clip(np.rint(small), 0, 255).astype(np.uint8)


def generate(cfg: SyntheticConfig, classes: list[str], root: Path) -> None:
    """Write root/<class>/COCO_<split>_<id>.jpg for every class (non_person: without figures, person: with)."""
    if classes != ["non_person", "person"]:
        raise ValueError(f"synthetic visual wake words draws non_person and person scenes, the task has classes {classes}")
    image_id = 0
    for split_index, (split, count) in enumerate(SPLITS.items()):
        for k, name in enumerate(classes):
            folder = root / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(getattr(cfg, count)):
                rng = np.random.default_rng([cfg.seed, split_index, k, i])
                image_id += 1
                folders.save(folder / f"COCO_{split}_{image_id:012d}.jpg", render(rng, k == 1, cfg), cfg.jpeg_quality)
