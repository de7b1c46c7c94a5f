"""Result tables: one row per quantity of a task/flow/board run, every number labelled with what it
is. Where a DUT number was made comes from the provenance the launcher recorded in the run
manifest, never from the DUT's name."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from common.provenance import Provenance
from results.compare import markdown


def flow_table(task: str, flow: str, board: str, train: dict, convert: dict, run: dict) -> pd.DataFrame:
    """Rows from the outputs recorded in the train, convert and run manifests."""
    p = Provenance.model_validate(run["provenance"])
    base = {"task": task, "flow": flow, "board": board, "data": p.data or "not stated"}
    rows = [
        {**base, "quantity": "AUC", "value": round(train["auc_qkeras"], 4), "where": "host",
         "what": "QKeras model on the host (not the DUT)"},
        {**base, "quantity": "bit-exact windows", "value": round(convert["exact_fraction"], 4), "where": "host",
         "what": f"hls4ml C++ emulation vs QKeras, {convert['windows_checked']} test windows"},
    ]
    acc = run.get("accuracy")
    if acc and acc.get("auc") is not None:
        excluded = f", {len(acc['file_errors'])} files left out (errors)" if acc["file_errors"] else ""
        rows.append({**base, "quantity": "AUC", "value": round(acc["auc"], 4), "where": p.where,
                     "what": f"runner accuracy mode, {acc['files']} files, {acc['inferences']} inferences{excluded}; {p.describe()}"})
    perf = run.get("performance")
    if perf:
        if perf.get("throughput") is None:
            rows.append({**base, "quantity": "throughput (inf/s)", "value": None, "where": p.where,
                         "what": f"no valid result: {perf.get('error')}"})
        else:
            rows.append({**base, "quantity": "throughput (inf/s)", "value": round(perf["throughput"], 1), "where": p.where,
                         "what": f"median of 5 windows; {p.describe()}"})
            rows.append({**base, "quantity": "latency (us)", "value": round(1e6 / perf["throughput"], 2) if perf["throughput"] else None,
                         "where": p.where, "what": f"1 / median throughput; {p.describe()}"})
    return pd.DataFrame(rows)


def write(table: pd.DataFrame, out: Path) -> None:
    table.to_csv(out / "results.csv", index=False)
    (out / "results.md").write_text(markdown(table))
