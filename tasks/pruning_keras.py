"""Quantization-aware pruning of the QKeras models (task.yaml `model.pruning`, the same schedule as
the Brevitas models': frameworks/schema.py Pruning) through TensorFlow Model Optimization's
magnitude pruning: QKeras layers are prunable, the quantizers see the pruned weights, and the
zeros stay zeros through hls4ml (which then skips their multiplications where the strategy allows)."""

from __future__ import annotations

from frameworks.schema import Pruning


def wrap(model, pruning: Pruning, steps_per_epoch: int, epochs: int):
    """(model to train, callbacks): the model unchanged and no callback when sparsity is 0."""
    if pruning.sparsity == 0:
        return model, []
    import tensorflow_model_optimization as tfmot

    steps = max(1, steps_per_epoch * epochs)
    schedule = tfmot.sparsity.keras.PolynomialDecay(
        initial_sparsity=0.0, final_sparsity=pruning.sparsity, begin_step=int(pruning.start * steps),
        end_step=max(int(pruning.end * steps), int(pruning.start * steps) + 1), power=3, frequency=max(1, steps_per_epoch // 4))
    pruned = tfmot.sparsity.keras.prune_low_magnitude(model, pruning_schedule=schedule)
    return pruned, [tfmot.sparsity.keras.UpdatePruningStep()]


def strip(model, pruning: Pruning):
    """The trained model without the pruning wrappers (its zeros kept)."""
    if pruning.sparsity == 0:
        return model
    import tensorflow_model_optimization as tfmot

    return tfmot.sparsity.keras.strip_pruning(model)


def sparsity(model) -> float:
    """Fraction of zero kernel weights over the layers that have kernels."""

    kernels = [w for layer in model.layers for w in layer.get_weights()[:1] if w.ndim > 1]
    return float(sum((k == 0).sum() for k in kernels) / max(1, sum(k.size for k in kernels)))
