"""A run's figures recomputed from its raw records, with the MLC runner's arithmetic (docs/mlperf-tiny.md
3.6 throughput, 3.7 top-1 and AUC, 3.8 energy). The export writes no figure these do not confirm.
Written here from the documented rules, not taken from the runner (results may not import it), so
the check does not share a defect with what it checks."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sklearn.metrics import roc_auc_score

AD_THRESHOLDS = np.arange(0.0, 1.0, 0.01)  # the MLC runner's own thresholds for the AD "Top 1%"


def window_throughput(record: dict) -> float:
    """Inferences per second of one performance window, from the DUT's own timestamps."""
    infer = record["infer"]
    return float(infer["iterations"]) / (float(infer["elapsed_time"]) / 1e6)


def median_throughput(records: list[dict]) -> float:
    return float(np.median([window_throughput(r) for r in records]))


def per_file(records: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """(labels, predictions): each file's result vectors normalised to sum 1 (more than one value) and
    averaged; a file with an error record is left out, as the runner leaves it out."""
    vectors, labels, failed = defaultdict(list), {}, set()
    for r in records:
        if "error" in r:
            failed.add(r["file"])
        elif "infer" in r:
            vectors[r["file"]].append([float(v) for v in r["infer"]["results"]])
            labels[r["file"]] = int(r["class"])
    files = [f for f in vectors if f not in failed]
    preds = []
    for f in files:
        v = np.asarray(vectors[f], dtype=np.float64)
        preds.append((v / v.sum(axis=1, keepdims=True) if v.shape[1] > 1 else v).mean(axis=0))
    return np.array([labels[f] for f in files], dtype=int), np.stack(preds) if preds else np.zeros((0, 1))


def top1(labels: np.ndarray, preds: np.ndarray) -> float:
    """Top-1 %; for one anomaly score per file, the best (precision + recall) / 2 over the runner's thresholds."""
    if preds.shape[1] > 1:
        return float(100.0 * np.mean(np.argmax(preds, axis=1) == labels))
    scores = preds[:, 0]
    best = 0.0
    for threshold in scores.min() + AD_THRESHOLDS * (scores.max() - scores.min()):
        predicted = scores > threshold
        tp, fp = np.sum(predicted & (labels == 1)), np.sum(predicted & (labels == 0))
        fn = np.sum(~predicted & (labels == 1))
        best = max(best, 100 * (tp / (tp + fp + 1e-8) + tp / (tp + fn + 1e-8)) / 2)
    return float(best)


def auc(labels: np.ndarray, preds: np.ndarray) -> float | None:
    """ROC AUC (one score: binary; two: the second class's; more: one-vs-rest); None where a class is missing."""
    if len(set(labels.tolist())) < max(2, preds.shape[1]):
        return None
    if preds.shape[1] <= 2:
        return float(roc_auc_score(labels, preds[:, -1]))
    return float(roc_auc_score(labels, preds, multi_class="ovr"))


def trial_energy_uj(record: dict) -> float:
    """µJ per inference of one energy trial: the 1 ms energy samples between its last two timestamp events, over N."""
    (_, i0), (_, i1) = record["power"]["timestamps"][-2:]
    return 1e6 * float(sum(record["power"]["samples"][int(i0):int(i1)])) / float(record["infer"]["iterations"])


def trial_seconds(record: dict) -> float:
    (_, i0), (_, i1) = record["power"]["timestamps"][-2:]
    return (int(i1) - int(i0)) / 1000.0


def median_energy(records: list[dict]) -> float:
    return float(np.median([trial_energy_uj(r) for r in records]))
