"""The visual wake words data set on disk, as the reference's training scripts read it: the prebuilt
vw_coco2014_96 folder (mlcommons/tiny benchmark/training/visual_wake_words/download_and_train_vww.sh
extracts vw_coco2014_96.tar.gz; train_vww.py reads it with Keras' flow_from_directory):

    vw_coco2014_96/
        person/      COCO_train2014_<12-digit COCO id>.jpg, COCO_val2014_<id>.jpg, ...
        non_person/  the same, images without a person

one folder per class, whose sorted order gives the labels (non_person 0, person 1), 96 x 96 RGB
JPEGs (COCO 2014 train and validation images, a person's box over 2.5 % of the image, resized
without keeping the aspect ratio: SiliconLabs platform_ml_models eembc/Person_detection). Real or
synthetic, both are read here, so the synthetic generator writes exactly what the real reader reads.

Pixels as the reference's Keras loader gives them: decoded, converted to RGB, resized to 96 x 96 with
nearest-neighbour sampling when an image is another size (load_img's default; the archive's images
are 96 x 96 already)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from common.errors import DatasetError
from tasks.vww.config import CHANNELS, SIDE

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}  # what flow_from_directory takes (of its list, those PIL reads here)
COCO_NAME = re.compile(r"COCO_(train|val)2014_(\d{12})$")


def images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def check_layout(root: Path, classes: list[str]) -> None:
    if not root.is_dir():
        raise DatasetError(f"visual wake words folder {root} does not exist")
    for name in classes:
        folder = root / name
        if not folder.is_dir():
            raise DatasetError(f"{root} is not a vw_coco2014_96 folder: no {name}/ (expected one folder per class: "
                               f"{', '.join(classes)})")
        if not any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir()):
            raise DatasetError(f"{folder}: no images")


def fingerprint(root: Path, classes: list[str]) -> list:
    """Per class folder: how many images and their total size (the archive has about 115 000)."""
    return [(name, len(files), sum(p.stat().st_size for p in files)) for name in classes
            for files in [images_in(root / name)]]


def listing(root: Path, classes: list[str]) -> tuple[list[Path], np.ndarray]:
    """Every image with its label (the class folder's index), class by class, names sorted."""
    check_layout(root, classes)
    paths, labels = [], []
    for k, name in enumerate(classes):
        files = images_in(root / name)
        paths += files
        labels += [k] * len(files)
    return paths, np.asarray(labels, dtype=np.int64)


def image_id(path: Path) -> str:
    """The 12-digit COCO id of COCO_(train|val)2014_<id>.jpg (the vww01 files are named <id>.bin), else the stem."""
    m = COCO_NAME.fullmatch(Path(path).stem)
    return m.group(2) if m else Path(path).stem


def load(path: Path) -> np.ndarray:
    """One image as 96 x 96 x 3 uint8 (HWC, RGB)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            rgb = img.convert("RGB")
            if rgb.size != (SIDE, SIDE):
                rgb = rgb.resize((SIDE, SIDE), Image.NEAREST)
            return np.asarray(rgb, dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as e:
        raise DatasetError(f"{path}: not a readable image ({e})") from None


def load_all(paths: list[Path]) -> np.ndarray:
    from tqdm import tqdm

    out = np.empty((len(paths), SIDE, SIDE, CHANNELS), dtype=np.uint8)
    for i, p in enumerate(tqdm(paths, desc="decode images", unit="image", disable=len(paths) < 5000)):
        out[i] = load(p)
    return out


def save(path: Path, image: np.ndarray, quality: int) -> None:
    """A 96 x 96 x 3 uint8 image as a JPEG file (the archive's format)."""
    from PIL import Image

    Image.fromarray(image, "RGB").save(path, format="JPEG", quality=quality)
