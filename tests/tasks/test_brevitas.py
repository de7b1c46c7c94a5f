"""The FINN models of the task recipes (Brevitas): an exact integer input, the pruning schedule,
the A2Q accumulator bound, binary layers, and each task's model learning its synthetic data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from common.errors import ConfigError
from frameworks import brevitas_qat as bq
from frameworks.schema import BrevitasQuant, Pruning, TrainConfig
from tasks import load_recipe


def test_integer_inputs_pass_exactly():
    signed = torch.arange(-128, 128, dtype=torch.float32)[None]
    assert torch.equal(bq.integer_input(8, signed=True)(signed).value, signed)
    unsigned = torch.arange(0, 256, dtype=torch.float32)[None]
    out = bq.integer_input(8, signed=False)(unsigned)
    assert torch.equal(out.value, unsigned) and float(out.scale) == 1.0
    assert torch.equal(bq.integer_input(8, signed=True)(torch.tensor([[200.0, -300.0]])).value, torch.tensor([[127.0, -128.0]]))


def test_pruning_ramps_between_start_and_end():
    p = Pruning(sparsity=0.8, start=0.2, end=0.6)
    assert bq.sparsity_at(p, 0.1) == 0.0 and bq.sparsity_at(p, 0.2) == 0.0
    assert 0 < bq.sparsity_at(p, 0.3) < bq.sparsity_at(p, 0.5) < 0.8
    assert bq.sparsity_at(p, 0.6) == pytest.approx(0.8) and bq.sparsity_at(p, 1.0) == pytest.approx(0.8)
    with pytest.raises(ConfigError, match="pruning.end"):
        load_recipe("kws", {"brevitas.quant.pruning.start": 0.9, "brevitas.quant.pruning.end": 0.5})
    with pytest.raises(ConfigError, match="need weight_bits >= 2"):
        load_recipe("ic", {"brevitas.quant.accumulator.quantizer": "a2q"})


def _mlp(quant: BrevitasQuant) -> torch.nn.Sequential:
    return torch.nn.Sequential(bq.integer_input(8, signed=True), bq.linear(quant, 40, 32), torch.nn.BatchNorm1d(32),
                               bq.activation(quant), bq.linear(quant, 32, 4))


def _blobs(n: int = 512, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    centres = rng.normal(0, 40, (4, 40))
    return np.clip(np.rint(centres[y] + rng.normal(0, 25, (n, 40))), -128, 127).astype(np.float32), y


def test_pruned_training_reaches_the_sparsity_and_still_learns():
    x, y = _blobs()
    model = _mlp(BrevitasQuant(weight_bits=4, act_bits=4))
    fitted = bq.fit(model, x, y, TrainConfig(epochs=12, batch_size=64, learning_rate=0.01), Pruning(sparsity=0.6),
                    torch.nn.CrossEntropyLoss(), desc="test")
    for layer in bq.weighted_layers(model):
        assert float((layer.weight == 0).float().mean()) == pytest.approx(0.6, abs=1 / layer.weight.numel())
    assert fitted["sparsity"] == pytest.approx(0.6, abs=0.01)
    assert np.mean(bq.predict(model, x).argmax(1) == y) > 0.9


@pytest.mark.parametrize("quantizer", ["a2q", "a2q+"])
def test_a2q_keeps_every_dot_product_inside_the_accumulator(quantizer):
    """A2Q's promise: sum w_int * x_int fits a signed P-bit accumulator for every input the layer can
    receive (the worst case: each input at the end of its range that the weight's sign favours)."""
    bits = 12
    x, y = _blobs()
    model = _mlp(BrevitasQuant(weight_bits=6, act_bits=4, accumulator={"quantizer": quantizer, "bits": bits}))
    bq.fit(model, x, y, TrainConfig(epochs=4, batch_size=64, learning_rate=0.01), Pruning(),
           torch.nn.CrossEntropyLoss(), desc="test")
    seen = {}
    layers = bq.weighted_layers(model)
    hooks = [m.register_forward_pre_hook(lambda mod, args: seen.__setitem__(mod, args[0])) for m in layers]
    with torch.no_grad():
        model(torch.from_numpy(x[:64]))
    for h in hooks:
        h.remove()
    def worst_case(w: torch.Tensor, n: int, signed: bool) -> tuple[int, int]:
        lo, hi = (-(2 ** (n - 1)), 2 ** (n - 1) - 1) if signed else (0, 2 ** n - 1)
        pos, neg = w.clamp(min=0).sum(dim=1), w.clamp(max=0).sum(dim=1)
        return int((pos * lo + neg * hi).min()), int((pos * hi + neg * lo).max())

    for layer in layers:
        qin = seen[layer]
        low, high = worst_case(layer.quant_weight(qin).int(), int(qin.bit_width), bool(qin.signed))
        assert -(2 ** (bits - 1)) <= low and high <= 2 ** (bits - 1) - 1, (layer, low, high)
    unbounded = _mlp(BrevitasQuant(weight_bits=6, act_bits=4))  # without A2Q, the first layer exceeds the bound
    low, high = worst_case(unbounded[1].quant_weight().int(), 8, True)
    assert low < -(2 ** (bits - 1)) or high > 2 ** (bits - 1) - 1


def test_binary_layers_are_plus_minus_one():
    q = BrevitasQuant(weight_bits=1, act_bits=1)
    layer, act = bq.conv(q, 3, 4, 3), bq.activation(q)
    w = layer.quant_weight().value
    assert len(torch.unique(w.abs())) == 1 and bool((w > 0).any()) and bool((w < 0).any())  # +-(one scale)
    out = act(torch.randn(2, 4, 5, 5)).value
    assert set(torch.unique(out).tolist()) == {-1.0, 1.0}


def _data(task: str, overrides: dict, tmp_path):
    from pipeline.execute import run_stages
    from pipeline.flow import Flow

    flow = Flow(task=task, board="pynq_z2", data="synthetic", build_root=tmp_path, overrides=overrides)
    run_stages(flow, stop="data")
    return flow


@pytest.mark.slow
@pytest.mark.parametrize("task, overrides, gate", [
    ("kws", {"data.synthetic.utterances_per_word": 40, "brevitas.train.epochs": 30}, 50.0),
    ("ic", {"brevitas.conv": [16, 16, 32, 32, 64, 64], "brevitas.fc": [128, 128], "brevitas.train.epochs": 12,
            "brevitas.train.learning_rate": 0.01}, 50.0),
    ("ad", {"data.synthetic.machine_ids": [1, 2], "data.synthetic.train_per_id": 6, "data.synthetic.test_normal_per_id": 3,
            "data.synthetic.test_anomaly_per_id": 3, "brevitas.train.epochs": 10}, 0.8),
])
def test_each_task_trains_its_finn_model(tmp_path, task, overrides, gate):
    """The task's Brevitas model on a small synthetic set, gated as task.yaml gates it (lowered for
    the small set); chance is 1/12 (kws), 1/10 (ic), AUC 0.5 (ad)."""
    flow = _data(task, {**overrides, f"brevitas.{'min_auc' if task == 'ad' else 'min_top1'}.synthetic": 0.01}, tmp_path)
    out = tmp_path / "brevitas"
    out.mkdir()
    metrics = flow.recipe.train_brevitas(flow.artifacts("data"), flow.eembc(), "synthetic", out)
    assert metrics["host_value"] >= gate
    reloaded = flow.recipe.load_brevitas({"model": out / bq.MODEL_FILE})
    assert sum(p.numel() for p in reloaded.parameters()) > 0 and not reloaded.training
