"""Training for the kws01 FINN model (model_brevitas.py) on the same features as the QKeras
DS-CNN, inputs as the DUT gets them (the kws01 int8 bytes - zero point), gated on top-1 of the test files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tasks.gate import top1_gate
from tasks.kws import testset
from tasks.kws.config import KWSTask


def train(cfg: KWSTask, data: dict[str, Path], eembc: Path, data_kind: str, out: Path) -> dict:
    import torch

    from frameworks import brevitas_qat as bq
    from tasks.kws import model_brevitas

    b = cfg.brevitas
    sets = {name: np.load(data[name]) for name in ("train", "validation")}
    x = (testset.encode(sets["train"]["x"], cfg.input).reshape(len(sets["train"]["y"]), -1).astype(np.float32)
         - cfg.input.zero_point)
    torch.manual_seed(b.train.seed)
    model = model_brevitas.build(b, cfg.input_bytes, len(cfg.classes))
    fitted = bq.fit(model, x, sets["train"]["y"].astype(np.int64), b.train, b.quant.pruning, torch.nn.CrossEntropyLoss())
    bq.save(model, out)

    q, labels = testset.read(eembc, cfg.model_id, cfg.input_bytes)
    return top1_gate(bq.predict(model, q.astype(np.float32) - cfg.input.zero_point).argmax(1), labels, "Brevitas model",
                     data_kind, getattr(b.min_top1, data_kind), out, {"model": bq.MODEL_FILE}, **fitted)
