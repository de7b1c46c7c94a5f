"""Accuracy metrics exactly as the MLC runner computes them (docs/mlperf-tiny.md 3.7; main.py summarize_result and
calculate_accuracy): per-file predictions are the mean of the file's result vectors, each
multi-value vector first divided by its sum. One copy for the runner (which prints them) and for the
export (which recomputes them from the raw records to refuse an edited figure)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

AD_THRESHOLDS = 100


def per_file_prediction(vectors: list[list[float]]) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float64)
    if v.shape[1] > 1:
        v = v / v.sum(axis=1, keepdims=True)
    return v.mean(axis=0)


def top1(labels: np.ndarray, preds: np.ndarray) -> float:
    """Top-1 in percent. For a single anomaly score (AD) the MLC runner prints instead the best
    100·(precision + recall)/2 over thresholds min + k/100·(max − min), k = 0…99, a file being
    anomalous when its score is > the threshold."""
    labels = np.asarray(labels)
    if preds.shape[1] > 1:
        return float(100.0 * np.sum(np.argmax(preds, axis=1) == labels) / len(preds))
    scores = preds[:, 0]
    best = 0.0
    # np.arange(0, 1, .01) rather than k/100: the very same floats as the MLC runner's thresholds
    for threshold in scores.min() + np.arange(0.0, 1.0, 1.0 / AD_THRESHOLDS) * (scores.max() - scores.min()):
        predicted = scores > threshold
        tp = np.sum(predicted & (labels == 1))
        fp = np.sum(predicted & (labels == 0))
        fn = np.sum(~predicted & (labels == 1))
        precision = tp / (tp + fp + 1e-8)
        recall = tp / (tp + fn + 1e-8)
        best = max(best, 100 * (precision + recall) / 2)
    return float(best)


def auc(labels: np.ndarray, preds: np.ndarray) -> float | None:
    """ROC AUC as the MLC runner computes it; None where it is undefined (a class missing from the
    labels), where the MLC runner would stop with an exception."""
    labels = np.asarray(labels)
    if len(set(labels.tolist())) < max(2, preds.shape[1]):
        return None
    if not np.all(np.isfinite(preds)):
        raise ValueError(f"{int(np.sum(~np.all(np.isfinite(preds), axis=1)))} file(s) have scores that are not finite "
                         f"numbers (NaN or infinity): no AUC")
    if preds.shape[1] == 1:
        value = roc_auc_score(labels, preds[:, 0])
    elif preds.shape[1] == 2:
        value = roc_auc_score(labels, preds[:, 1])
    else:
        value = roc_auc_score(labels, preds, multi_class="ovr")
    return float(value)
