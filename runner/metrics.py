"""Accuracy metrics as the MLC runner computes them (spec 3.7)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score


def per_file_predictions(results: list[list[list[float]]]) -> np.ndarray:
    """Mean over a file's result vectors; multi-value vectors are normalised to sum 1 first."""
    preds = []
    for vectors in results:
        v = np.asarray(vectors, dtype=np.float64)
        if v.shape[1] > 1:
            v = v / v.sum(axis=1, keepdims=True)
        preds.append(v.mean(axis=0))
    return np.stack(preds)


def auc(labels: np.ndarray, preds: np.ndarray) -> float:
    if preds.shape[1] == 1:
        return float(roc_auc_score(labels, preds[:, 0]))
    if preds.shape[1] == 2:
        return float(roc_auc_score(labels, preds[:, 1]))
    return float(roc_auc_score(labels, preds, multi_class="ovr"))


def top1(labels: np.ndarray, preds: np.ndarray) -> float:
    """Top-1 in percent; for a single score (AD) the MLC runner's best (precision + recall) / 2
    over 100 thresholds spanning the scores."""
    if preds.shape[1] > 1:
        return float(100.0 * np.mean(np.argmax(preds, axis=1) == labels))
    scores, best = preds[:, 0], 0.0
    for t in np.linspace(scores.min(), scores.max(), 100):
        predicted = scores >= t
        tp = np.sum(predicted & (labels == 1))
        precision = tp / max(1, predicted.sum())
        recall = tp / max(1, np.sum(labels == 1))
        best = max(best, (precision + recall) / 2)
    return float(100.0 * best)
