"""Brevitas quantization-aware training shared by the task recipes' FINN models
(tasks/<task>/model_brevitas.py): quantized layers chosen from a task.yaml `brevitas` section
(binary or integer weights and activations, optional A2Q/A2Q+ accumulator-aware weights), an
exact integer input (the host quantizes, so the FINN graph's input is an integer tensor:
docs/toolchains.md A.5's `_intin`), gradual magnitude pruning, and one training loop.

The hardware side (QONNX export, the A2Q export fix, FINN) belongs to the FINN toolchain."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from brevitas.core.scaling import ScalingImplType
from brevitas.nn import QuantConv2d, QuantIdentity, QuantLinear, QuantReLU
from brevitas.quant import (
    Int8AccumulatorAwareWeightQuant,
    Int8AccumulatorAwareZeroCenterWeightQuant,
    Int8ActPerTensorFloat,
    Int8WeightPerChannelFloat,
    SignedBinaryActPerTensorConst,
    SignedBinaryWeightPerTensorConst,
    Uint8ActPerTensorFloat,
    Uint8ActPerTensorFloatMaxInit,
)
from torch import nn
from torch.nn.utils import prune

from frameworks.schema import BrevitasQuant, Pruning, TrainConfig

log = logging.getLogger(__name__)
MODEL_FILE = "model.pt"
RELU_MAX_INIT = 4.0  # the state dict; the network is rebuilt from task.yaml


class IntegerInput(Int8ActPerTensorFloat):
    """Signed integers with a constant scale of 1: integer inputs pass exactly (FINN then sees an
    integer-typed input, no float input quantizer in hardware). Brevitas' constant is the range,
    scale = range / 2^(bits-1): integer_input() sets it from the width."""

    scaling_impl_type = ScalingImplType.CONST


class UnsignedIntegerInput(Uint8ActPerTensorFloat):
    scaling_impl_type = ScalingImplType.CONST  # scale = range / (2^bits - 1)


def integer_input(bits: int, signed: bool) -> QuantIdentity:
    quant, levels = (IntegerInput, 2 ** (bits - 1)) if signed else (UnsignedIntegerInput, 2 ** bits - 1)
    return QuantIdentity(act_quant=quant, bit_width=bits, scaling_init=float(levels), return_quant_tensor=True)


def _weight_quant(q: BrevitasQuant) -> dict:
    if q.weight_bits == 1:
        return {"weight_quant": SignedBinaryWeightPerTensorConst}
    if q.accumulator.quantizer == "none":
        return {"weight_quant": Int8WeightPerChannelFloat, "weight_bit_width": q.weight_bits}
    quant = Int8AccumulatorAwareWeightQuant if q.accumulator.quantizer == "a2q" else Int8AccumulatorAwareZeroCenterWeightQuant
    return {"weight_quant": quant, "weight_bit_width": q.weight_bits, "weight_accumulator_bit_width": q.accumulator.bits}


def linear(q: BrevitasQuant, n_in: int, n_out: int, bias: bool = False) -> QuantLinear:
    return QuantLinear(n_in, n_out, bias=bias, **_weight_quant(q))


def conv(q: BrevitasQuant, c_in: int, c_out: int, kernel: int, padding: int = 0, stride: int = 1,
         groups: int = 1) -> QuantConv2d:
    """groups = c_in = c_out: a depthwise convolution (FINN maps it to its VVAU)."""
    return QuantConv2d(c_in, c_out, kernel, padding=padding, stride=stride, groups=groups, bias=False, **_weight_quant(q))


def activation(q: BrevitasQuant) -> nn.Module:
    """Binary activations (+-1, as CNV-W1A1), else an unsigned act_bits ReLU; either hands the next
    layer an integer tensor (A2Q needs one)."""
    if q.act_bits == 1:
        return QuantIdentity(act_quant=SignedBinaryActPerTensorConst, return_quant_tensor=True)
    # A learned scale starting from a fixed range (after BatchNorm, about 4), not Brevitas' default
    # of statistics over the first 300 steps: a short training would end before those are in.
    return QuantReLU(act_quant=Uint8ActPerTensorFloatMaxInit, max_val=RELU_MAX_INIT, bit_width=q.act_bits,
                     return_quant_tensor=True)


def weighted_layers(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, (QuantLinear, QuantConv2d))]


def sparsity_at(p: Pruning, progress: float) -> float:
    """The target sparsity at a fraction `progress` (0..1) of the training."""
    if p.sparsity == 0 or progress <= p.start:
        return 0.0
    t = min(1.0, (progress - p.start) / (p.end - p.start))
    return p.sparsity * (1 - (1 - t) ** 3)


def _prune(model: nn.Module, amount: float) -> None:
    """Zero the `amount` smallest-magnitude weights of every layer (torch's l1 pruning), kept
    zero by the mask during training until the next step of the schedule."""
    for m in weighted_layers(model):
        if prune.is_pruned(m):
            prune.remove(m, "weight")
        if amount > 0:
            prune.l1_unstructured(m, "weight", amount=amount)


def _finish_pruning(model: nn.Module) -> None:
    for m in weighted_layers(model):
        if prune.is_pruned(m):
            prune.remove(m, "weight")  # the zeros become the weights themselves


def sparsity(model: nn.Module) -> float:
    weights = [m.weight.detach() for m in weighted_layers(model)]
    return float(sum((w == 0).sum().item() for w in weights) / sum(w.numel() for w in weights))


def fit(model: nn.Module, x: np.ndarray, y: np.ndarray, train: TrainConfig, pruning: Pruning,
        loss: Callable, augment: Callable | None = None, desc: str = "train (brevitas)") -> dict:
    """Adam with a cosine learning rate; pruning as scheduled; returns the last epoch's mean loss."""
    from tqdm import tqdm

    torch.manual_seed(train.seed)
    rng = np.random.default_rng(train.seed)
    opt = torch.optim.Adam(model.parameters(), lr=train.learning_rate)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=train.epochs, eta_min=train.learning_rate * 0.05)
    xt, yt = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
    last = float("nan")
    with tqdm(range(train.epochs), desc=desc, unit="epoch") as bar:
        for epoch in bar:
            _prune(model, sparsity_at(pruning, epoch / train.epochs))
            model.train()
            total, n = 0.0, 0
            for idx in np.array_split(rng.permutation(len(xt)), max(1, len(xt) // train.batch_size)):
                xb, yb = xt[idx], yt[idx]
                if augment is not None:
                    xb = augment(xb, rng)
                opt.zero_grad()
                value = loss(model(xb), yb)
                value.backward()
                opt.step()
                total, n = total + float(value.detach()) * len(idx), n + len(idx)
            sched.step()
            last = total / n
            bar.set_postfix(loss=f"{last:.4g}")
    _prune(model, pruning.sparsity)  # the final sparsity exactly, whatever the schedule's rounding
    _finish_pruning(model)
    recalibrate_batchnorm(model, xt, train.batch_size)
    return {"final_loss": last, "sparsity": sparsity(model)}


def recalibrate_batchnorm(model: nn.Module, x: torch.Tensor, batch: int) -> None:
    """BatchNorm statistics recomputed over the training inputs with the final (quantized, pruned)
    weights. The running averages lag behind weights that moved during training; with inputs far
    from zero mean (the kws01 bytes) that lag alone left the eval-mode model near chance."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    model.eval()
    for m in norms:
        m.reset_running_stats()
        m.momentum, m.training = None, True  # None: a cumulative average over every batch
    with torch.no_grad():
        for i in range(0, len(x), batch):
            model(x[i:i + batch])
    for m in norms:
        m.momentum, m.training = 0.1, False


def predict(model: nn.Module, x: np.ndarray, batch: int = 512) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return np.concatenate([_plain(model(torch.from_numpy(np.ascontiguousarray(x[i:i + batch]))))
                               for i in range(0, len(x), batch)])


def _plain(out) -> np.ndarray:
    return (out.value if hasattr(out, "value") else out).numpy()


def save(model: nn.Module, out: Path) -> Path:
    torch.save(model.state_dict(), out / MODEL_FILE)
    return out / MODEL_FILE


def load(model: nn.Module, path: Path) -> nn.Module:
    model.load_state_dict(torch.load(path, weights_only=True))
    return model.eval()
