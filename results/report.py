"""Result tables: one row per task/flow/board run, every number labelled with what it is."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.artifacts import read_json


def flow_table(flow) -> pd.DataFrame:
    """Rows for one flow's build tree: the model's metric on the host and on the DUT, and throughput."""
    train = read_json(flow.root / "train" / "manifest.json")["outputs"]
    convert = read_json(flow.root / "convert" / "manifest.json")["outputs"]
    run = read_json(flow.root / "run" / "manifest.json")["outputs"]
    base = {"task": flow.task, "flow": flow.flow, "board": flow.board, "data": run["data_kind"]}
    rows = [
        {**base, "quantity": "AUC", "value": round(train["auc_qkeras"], 4), "where": "host",
         "what": "QKeras model on the host (not the DUT)"},
        {**base, "quantity": "bit-exact windows", "value": round(convert["exact_fraction"], 4), "where": "host",
         "what": f"hls4ml C++ emulation vs QKeras, {convert['windows_checked']} test windows"},
    ]
    dut = run["dut_kind"]
    if "auc" in run:
        rows.append({**base, "quantity": "AUC", "value": round(run["auc"], 4), "where": f"{dut} DUT",
                     "what": f"runner accuracy mode, {run['files']} files, {run['inferences']} inferences"})
    if "throughput" in run:
        rows.append({**base, "quantity": "throughput (inf/s)", "value": round(run["throughput"], 1), "where": f"{dut} DUT",
                     "what": run["throughput_is"]})
        rows.append({**base, "quantity": "latency (us)", "value": round(1e6 / run["throughput"], 2) if run["throughput"] else None,
                     "where": f"{dut} DUT", "what": "1 / median throughput; " + run["throughput_is"]})
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    header = "| " + " | ".join(table.columns) + " |\n|" + "---|" * len(table.columns) + "\n"
    body = "".join("| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |\n" for row in table.itertuples(index=False))
    return header + body


def write(table: pd.DataFrame, out: Path) -> None:
    table.to_csv(out / "results.csv", index=False)
    (out / "results.md").write_text(markdown(table))
