"""Training for the ic01 FINN model (model_brevitas.py) on the same CIFAR-10 images as the QKeras
ResNet: the image tasks' Brevitas training (tasks/image_brevitas.py) at 32 x 32."""

from __future__ import annotations

from pathlib import Path

from tasks.ic.config import ICTask
from tasks.image_brevitas import to_model_input

__all__ = ["to_model_input", "train"]


def train(cfg: ICTask, data: dict[str, Path], eembc: Path, data_kind: str, out: Path) -> dict:
    from tasks import image_brevitas
    from tasks.ic import model_brevitas, testset

    return image_brevitas.train(cfg, model_brevitas.build(cfg.brevitas, len(cfg.classes)), 32, testset.read, data, eembc,
                                data_kind, out)
