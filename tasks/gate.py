"""The train stage's result for a classifier: top-1 on the test files, written to metrics.json in
the shape the report reads (metric, host_value, host_what), then the task.yaml gate."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.errors import GateError
from common.jsonio import write_json


def top1_gate(predicted: np.ndarray, labels: np.ndarray, what: str, data_kind: str, gate: float, out: Path,
              artifacts: dict[str, str], **extra) -> dict:
    """predicted: the class indices chosen on the test files; what: the model, e.g. 'QKeras model'."""
    top1 = float(np.mean(np.asarray(predicted) == labels))
    metrics = {
        "metric": "top-1 %",
        "host_value": 100 * top1,
        "host_what": f"{what} on the host, {len(labels)} {data_kind} test files",
        **extra,
        "data_kind": data_kind,
        "min_top1": gate,
        "artifacts": artifacts,
    }
    write_json(out / "metrics.json", metrics)
    if top1 < gate:
        raise GateError(f"train gate failed ({what}): top-1 {top1:.1%} < {gate:.0%} on {data_kind} data (see {out}/metrics.json)")
    return metrics
