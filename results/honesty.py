"""The honesty gate: what keeps a run out of a submission. A run is exported only when it was
measured on a physical board by the board's own timer, on real data, with valid performance
windows (common/run_rules.py: 5, each >= 10 s, a median written) and every accuracy file scored. Every refusal says why."""

from __future__ import annotations

import json

from common.provenance import LINK_TEXT, TIMING_TEXT
from common.run_rules import MIN_WINDOW_S
from results.runs import Run


def refusals(run: Run) -> list[str]:
    """Why the run may not be submitted; [] if it may."""
    reasons = []
    p, summary = run.provenance, run.summary
    if p.data != "real":
        reasons.append(f"the data is {p.data or 'not stated'}, not the real test set")
    if p.link != "board":
        reasons.append(f"the DUT was not a physical board but an {LINK_TEXT[p.link]}")
    if p.timing != "board-timer":
        reasons.append(f"its times are {TIMING_TEXT[p.timing]}, not the board timer's")
    perf = summary.get("performance")
    if not perf:
        reasons.append("no performance run")
    else:
        if perf.get("error") or perf.get("throughput") is None:
            reasons.append(f"the performance run is not valid: {perf.get('error') or 'no median throughput'}")
        records = json.loads((run.path / "performance" / "results.json").read_text())
        for k, r in enumerate((r for r in records if "infer" in r), 1):
            seconds = r["infer"].get("elapsed_time", 0) / 1e6
            if seconds < MIN_WINDOW_S:
                reasons.append(f"performance window {k} lasted {seconds:.3f} s, under the {MIN_WINDOW_S:g} s the run rules ask")
    acc = summary.get("accuracy")
    if not acc:
        reasons.append("no accuracy run")
    elif acc.get("file_errors"):
        reasons.append(f"{len(acc['file_errors'])} accuracy file(s) could not be scored")
    return reasons
