"""A run's figures recomputed from its raw records, with the MLC runner's arithmetic (docs/mlperf-tiny.md
3.6 throughput, 3.7 top-1 and AUC: common/metrics.py, 3.8 energy). The export writes no figure these
do not confirm: a figure edited after the run, or records that do not give it, are refused."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from common import metrics


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
        preds.append(metrics.per_file_prediction(vectors[f]))
    return np.array([labels[f] for f in files], dtype=int), np.stack(preds) if preds else np.zeros((0, 1))


def trial_energy_uj(record: dict) -> float:
    """µJ per inference of one energy trial: the 1 ms energy samples between its last two timestamp events, over N."""
    (_, i0), (_, i1) = record["power"]["timestamps"][-2:]
    return 1e6 * float(sum(record["power"]["samples"][int(i0):int(i1)])) / float(record["infer"]["iterations"])


def trial_seconds(record: dict) -> float:
    (_, i0), (_, i1) = record["power"]["timestamps"][-2:]
    return (int(i1) - int(i0)) / 1000.0


def median_energy(records: list[dict]) -> float:
    return float(np.median([trial_energy_uj(r) for r in records]))
