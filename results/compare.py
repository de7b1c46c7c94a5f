"""One comparison table across every run in a build tree (tasks, boards, toolchains), beside the
published hls4ml/FINN FPGA results (published.yaml). Every number carries what it is: measured on
hardware, modeled, or emulated, and real or synthetic data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from common.provenance import Provenance
from results.runs import Run

PUBLISHED = Path(__file__).with_name("published.yaml")
METRIC = {"ad": "AUC", "kws": "top-1 %", "ic": "top-1 %", "vww": "top-1 %"}
COLUMNS = ["task", "board", "flow", "source", "data", "accuracy", "metric", "accuracy_kind", "latency_us", "latency_kind",
           "throughput", "energy_uj", "energy_kind", "lut", "bram", "dsp", "resources_kind", "run"]


def kind(p: Provenance) -> str:
    """What a DUT-side number is: measured (a board and its timer), modeled, or emulated."""
    if p.measured:
        return "measured"
    return "modeled" if p.timing == "modeled" else "emulated"


def kind_of(run: Run) -> str:
    return kind(run.provenance)


def run_row(run: Run) -> dict:
    s = run.summary
    p = run.provenance
    acc = s.get("accuracy") or {}
    perf = s.get("performance") or {}
    metric = METRIC.get(run.task, "accuracy")
    accuracy = acc.get("auc") if metric == "AUC" else acc.get("top1")
    throughput = perf.get("throughput")
    return {
        "task": run.task, "board": run.board, "source": "this harness",
        "flow": run.flow if run.model == "trained" else f"{run.flow} ({run.model} model)", "data": p.data or "not stated",
        "accuracy": accuracy, "metric": metric, "accuracy_kind": kind(p) if accuracy is not None else None,
        "latency_us": 1e6 / throughput if throughput else None, "latency_kind": kind(p) if throughput else None,
        "throughput": throughput, "energy_uj": None, "energy_kind": None,
        "lut": None, "bram": None, "dsp": None, "resources_kind": None, "run": str(run.path),
    }


def estimate_row(run: Run) -> dict | None:
    """A toolchain's modeled latency and resources for a run's model, as a row of its own."""
    est = run.estimates
    if not est:
        return None
    return {**run_row(run), "source": "this harness, toolchain estimate", "accuracy": None, "accuracy_kind": None,
            "latency_us": est["modeled_latency_us"], "latency_kind": "modeled", "throughput": None,
            "lut": est["lut"], "bram": est["bram18"] / 2, "dsp": est["dsp"], "resources_kind": "modeled"}


def published_rows() -> list[dict]:
    rows = []
    for r in yaml.safe_load(PUBLISHED.read_text()):
        rows.append({
            "task": r["task"], "board": r["board"], "flow": r["flow"],
            "source": f"published {r['model']} ({r['round']}, {r.get('division', 'open')} division)",
            "data": "real", "accuracy": r["accuracy"], "metric": METRIC[r["task"]], "accuracy_kind": "measured",
            "latency_us": r["latency_us"], "latency_kind": "measured", "throughput": 1e6 / r["latency_us"],
            "energy_uj": r["energy_uj"], "energy_kind": "measured" if r["energy_uj"] is not None else None,
            "lut": None, "bram": None, "dsp": None,
            "resources_kind": None, "run": "",
        })
    return rows


def table(runs: list[Run]) -> pd.DataFrame:
    rows = [run_row(r) for r in runs] + [e for e in map(estimate_row, runs) if e] + published_rows()
    return pd.DataFrame(rows, columns=COLUMNS).sort_values(["task", "board", "flow", "source"], ignore_index=True)


def _cell(value, fmt: str, unit: str, note) -> str:
    """'18.7 µs (measured)', or '–' where there is no number."""
    if value is None or pd.isna(value):
        return "–"
    return f"{value:{fmt}}{unit} ({note})"


def display(df: pd.DataFrame) -> pd.DataFrame:
    """The table as people read it: each number with its kind beside it."""
    return pd.DataFrame({
        "task": df["task"], "board": df["board"], "flow": df["flow"], "source": df["source"], "data": df["data"],
        "accuracy": [_cell(v, ".3f" if m == "AUC" else ".1f", "", f"{m}, {k}")
                     for v, m, k in zip(df["accuracy"], df["metric"], df["accuracy_kind"])],
        "latency": [_cell(v, ",.1f", " µs", k) for v, k in zip(df["latency_us"], df["latency_kind"])],
        "energy": [_cell(v, ",.1f", " µJ", k) for v, k in zip(df["energy_uj"], df["energy_kind"])],
        "LUT / BRAM / DSP": ["–" if pd.isna(lut) else f"{lut:.0f} / {bram:.0f} / {dsp:.0f} ({k})"
                             for lut, bram, dsp, k in zip(df["lut"], df["bram"], df["dsp"], df["resources_kind"])],
    })


def markdown(df: pd.DataFrame) -> str:
    header = "| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns) + "\n"
    body = "".join("| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |\n" for row in df.itertuples(index=False))
    return header + body
