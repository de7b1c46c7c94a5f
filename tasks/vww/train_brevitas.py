"""Training for the vww01 FINN model (model_brevitas.py) on the same images as the QKeras MobileNet:
the image tasks' Brevitas training (tasks/image_brevitas.py) at 96 x 96."""

from __future__ import annotations

from pathlib import Path

from tasks.image_brevitas import to_model_input
from tasks.vww.config import SIDE, VWWTask

__all__ = ["to_model_input", "train"]


def train(cfg: VWWTask, data: dict[str, Path], eembc: Path, data_kind: str, out: Path) -> dict:
    import torch

    from tasks import image_brevitas
    from tasks.vww import model_brevitas, testset

    # the initial weights from the training seed too: torch seeds itself at random in each process, and two runs of
    # the same settings scored 92.5 % and 81.5 % on the synthetic test files with weights drawn so
    torch.manual_seed(cfg.brevitas.train.seed)
    return image_brevitas.train(cfg, model_brevitas.build(cfg.brevitas, len(cfg.classes)), SIDE, testset.read, data, eembc,
                                data_kind, out)
