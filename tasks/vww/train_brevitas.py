"""Training for the vww01 FINN model (model_brevitas.py) on the same images as the QKeras MobileNet,
inputs as the DUT gets them (the pixel bytes, HWC), with flips and shifts, gated on top-1 of the vww01
test files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.jsonio import write_json
from tasks.gate import top1_gate
from tasks.vww import testset
from tasks.vww.config import SIDE, VWWTask
from tasks.vww.train import INPUT_FILE


def to_model_input(images: np.ndarray) -> np.ndarray:
    """N x 96 x 96 x 3 uint8 (HWC) -> the same pixel values as float32."""
    return images.astype(np.float32)


def augmenter(flip: bool, shift: float):
    import torch

    pixels = int(round(shift * SIDE))

    def augment(x, rng: np.random.Generator):
        if flip:
            mirror = torch.from_numpy(rng.random(len(x)) < 0.5)
            x = torch.where(mirror[:, None, None, None], x.flip(2), x)  # N x H x W x C: W is dim 2
        if pixels:
            dy, dx = rng.integers(-pixels, pixels + 1, 2)
            x = x.roll((int(dy), int(dx)), dims=(1, 2))
        return x

    return augment


def train(cfg: VWWTask, data: dict[str, Path], eembc: Path, data_kind: str, out: Path) -> dict:
    import torch

    from frameworks import brevitas_qat as bq
    from tasks.vww import model_brevitas

    b = cfg.brevitas
    sets = np.load(data["train"])
    torch.manual_seed(b.train.seed)
    model = model_brevitas.build(b, len(cfg.classes))
    fitted = bq.fit(model, to_model_input(sets["x"]), sets["y"].astype(np.int64), b.train, b.quant.pruning,
                    torch.nn.CrossEntropyLoss(), augment=augmenter(cfg.augment.flip, cfg.augment.shift))
    bq.save(model, out)
    write_json(out / INPUT_FILE, {"input_shift": 0})  # raw pixels: the firmware passes the bytes as they are

    images, labels = testset.read(eembc, cfg.model_id, cfg.input_bytes)
    return top1_gate(bq.predict(model, to_model_input(images)).argmax(1), labels, "Brevitas model", data_kind,
                     getattr(b.min_top1, data_kind), out, {"model": bq.MODEL_FILE, "input": INPUT_FILE}, **fitted)
