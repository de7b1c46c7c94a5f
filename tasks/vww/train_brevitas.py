"""Training for the vww01 FINN model (model_brevitas.py) on the same images as the QKeras MobileNet:
the image tasks' Brevitas training (tasks/image_brevitas.py) at 96 x 96."""

from __future__ import annotations

from pathlib import Path

from tasks.image_brevitas import to_model_input
from tasks.vww.config import SIDE, VWWTask

__all__ = ["to_model_input", "train"]


def train(cfg: VWWTask, data: dict[str, Path], eembc: Path, data_kind: str, out: Path) -> dict:
    from tasks import image_brevitas
    from tasks.vww import model_brevitas, testset

    return image_brevitas.train(cfg, model_brevitas.build(cfg.brevitas, len(cfg.classes)), SIDE, testset.read, data, eembc,
                                data_kind, out)
