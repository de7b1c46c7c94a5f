"""Training an image task's FINN model (ic01, vww01): the task's Brevitas network on its training images,
inputs as the DUT gets them (the pixel bytes, HWC, as float32), with horizontal flips and shifts, gated
on top-1 of the task's test files. The task gives its network, image side and test-folder reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from common.jsonio import write_json
from tasks.gate import top1_gate

INPUT_FILE = "input.json"  # how the model's input relates to the pixel bytes, read by the firmware build


def to_model_input(images: np.ndarray) -> np.ndarray:
    """N x H x W x 3 uint8 (HWC) -> the same pixel values as float32."""
    return images.astype(np.float32)


def augmenter(flip: bool, shift: float, side: int):
    import torch

    pixels = int(round(shift * side))

    def augment(x, rng: np.random.Generator):
        if flip:
            mirror = torch.from_numpy(rng.random(len(x)) < 0.5)
            x = torch.where(mirror[:, None, None, None], x.flip(2), x)  # N x H x W x C: W is dim 2
        if pixels:
            dy, dx = rng.integers(-pixels, pixels + 1, 2)
            x = x.roll((int(dy), int(dx)), dims=(1, 2))
        return x

    return augment


def train(cfg: Any, model: Any, side: int, read_testset: Callable[..., tuple[np.ndarray, np.ndarray]],
          data: dict[str, Path], eembc: Path, data_kind: str, out: Path) -> dict:
    """cfg: the task's configuration (brevitas, augment, classes, model_id, input_bytes); model: its
    untrained Brevitas network; read_testset(eembc, model_id, input_bytes) -> (images, labels)."""
    import torch

    from frameworks import brevitas_qat as bq

    b = cfg.brevitas
    sets = np.load(data["train"])
    torch.manual_seed(b.train.seed)
    fitted = bq.fit(model, to_model_input(sets["x"]), sets["y"].astype(np.int64), b.train, b.quant.pruning,
                    torch.nn.CrossEntropyLoss(), augment=augmenter(cfg.augment.flip, cfg.augment.shift, side))
    bq.save(model, out)
    write_json(out / INPUT_FILE, {"input_shift": 0})  # raw pixels: the firmware passes the bytes as they are

    images, labels = read_testset(eembc, cfg.model_id, cfg.input_bytes)
    return top1_gate(bq.predict(model, to_model_input(images)).argmax(1), labels, "Brevitas model", data_kind,
                     getattr(b.min_top1, data_kind), out, {"model": bq.MODEL_FILE, "input": INPUT_FILE}, **fitted)
