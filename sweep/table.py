"""The sweep's results: one row per trial (in trial order, whatever order they finished in), the
designs on the Pareto front of the space's objectives, and the `make` line that builds a chosen
design as a normal flow. Written as results.md (what each column is, then the table) and
results.csv (every column, the stage keys and the errors in full).

The front is taken over the finished designs that fit the board (or whose fit is not estimated)
and have a value for every objective: a design no other beats or equals in every objective while
being better in one. Designs that do not fit are kept in the table, marked, never dropped."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from results.compare import markdown
from sweep.space import OBJECTIVE_WHAT, OBJECTIVES, Space, canonical


def dominates(a: list[float], b: list[float], directions: Sequence[str]) -> bool:
    """a is no worse than b in every objective and better in one."""
    better = [(x > y) if d == "max" else (x < y) for x, y, d in zip(a, b, directions)]
    worse = [(x < y) if d == "max" else (x > y) for x, y, d in zip(a, b, directions)]
    return any(better) and not any(worse)


def pareto_front(records: list[dict[str, Any]], objectives: list[str]) -> set[int]:
    """Trial numbers of the designs on the front of these objectives."""
    directions = [OBJECTIVES[o] for o in objectives]
    candidates = {r["trial"]: [r["metrics"][o] for o in objectives] for r in records
                  if r["status"] == "done" and r.get("fits") is not False
                  and all(r["metrics"].get(o) is not None for o in objectives)}
    return {n for n, v in candidates.items()
            if not any(dominates(w, v, directions) for m, w in candidates.items() if m != n)}


def token(value: Any) -> str:
    """A value as `--set` reads it back (YAML): a plain word where YAML reads the same string, else JSON."""
    if isinstance(value, str) and value and not any(c.isspace() for c in value) and yaml.safe_load(value) == value:
        return value
    return canonical(value)


def make_line(space: Space, record: dict[str, Any]) -> str:
    """The `make` command that builds this trial's design as a normal flow (every stage, normal build tree)."""
    sets = " ".join(f"{k}={token(v)}" for k, v in sorted(record["overrides"].items()))  # one order, fresh or resumed
    return (f"make task={space.task} board={space.board} flow={space.flow}"
            f" data={shlex.quote(space.resolved_data)} set={shlex.quote(sets)}")


def frame(space: Space, records: list[dict[str, Any]]) -> pd.DataFrame:
    """Every trial as a row: parameters, status, objectives and other measures, fit, front, provenance."""
    front = pareto_front(records, space.objectives)
    rows = []
    for r in sorted(records, key=lambda r: r["trial"]):
        m = r["metrics"]
        row: dict[str, Any] = {"trial": r["trial"], "status": r["status"]}
        for k in space.parameters:  # in the space's order, whether the record is fresh or read back from the journal
            v = r["params"].get(k)
            row[k] = canonical(v) if isinstance(v, (list, dict)) else v
        for o in space.objectives:
            row[o] = _round(m.get(o))
        reached = r["status"] in ("done", "no-fit")  # a trial stopped earlier never had its fit estimated
        row["fits"] = {True: "yes", False: "no", None: "not estimated" if reached else ""}[r.get("fits")]
        row["pareto"] = "yes" if r["trial"] in front else ""
        row["data"] = r["labels"].get("data", "")
        row["error"] = _short(r["error"])
        rows.append(row)
    return pd.DataFrame(rows)


def full_frame(space: Space, records: list[dict[str, Any]]) -> pd.DataFrame:
    """The CSV's: the table's columns and every measure, label, node, time and stage key."""
    df = frame(space, records)
    extra = []
    for r in sorted(records, key=lambda r: r["trial"]):
        row = {f"metric.{k}": v for k, v in r["metrics"].items() if k not in space.objectives}
        row.update({f"what.{k}": v for k, v in r["labels"].items() if k != "data"})
        row["error_full"] = r["error"] or ""
        row["failed_stage"] = r.get("failed_stage") or ""
        row["seconds"] = round(sum(p["seconds"] for p in r["phases"].values()), 1)
        row["nodes"] = " ".join(f"{phase}:{p['node']}" for phase, p in r["phases"].items())
        row.update({f"key.{stage}": key for stage, key in r["keys"].items()})
        row["make"] = make_line(space, r)
        extra.append(row)
    return pd.concat([df, pd.DataFrame(extra)], axis=1)


def _short(error: str | None, limit: int = 140) -> str:
    """An error on one line of a Markdown table (the CSV has it in full)."""
    text = " ".join((error or "").split()).replace("|", "/")
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _round(value):
    return None if value is None else round(float(value), 4)


def write(space: Space, records: list[dict[str, Any]], folder: Path, plots: list[Path]) -> tuple[Path, Path]:
    table = frame(space, records)
    md, csv = folder / "results.md", folder / "results.csv"
    full_frame(space, records).to_csv(csv, index=False)
    front = sorted(pareto_front(records, space.objectives))
    by_number = {r["trial"]: r for r in records}
    data = sorted({r["labels"].get("data", "not stated") for r in records if r["labels"].get("data")}) or ["not stated"]
    lines = [f"# Sweep: {space.task} {space.flow} on {space.board} ({space.path})", "",
             f"{len(records)} trials; data: {', '.join(data)}"
             f"{' (synthetic: not comparable with MLPerf Tiny results)' if 'synthetic' in data else ''}; "
             f"every trial to the {space.stop} stage.", "",
             "What the numbers are:", ""]
    lines += [f"- {o} ({'higher' if OBJECTIVES[o] == 'max' else 'lower'} is better): {OBJECTIVE_WHAT[o]}"
              for o in space.objectives]
    lines += ["- fits: the design within the board's LUT, BRAM and DSP by the toolchain's estimates (modeled); "
              "`not estimated` where the toolchain has no estimate without the vendor tools",
              f"- pareto: on the front of {', '.join(space.objectives)} among the finished designs that fit", "",
              markdown(table), ""]
    if front:
        lines += ["## Promote a design", "", "Each design on the front, built as a normal flow (every stage, the normal "
                  "build tree):", ""]
        lines += [f"- trial {n}: `{make_line(space, by_number[n])}`" for n in front]
        lines.append("")
    if plots:
        lines += ["## Figures", ""] + [f"![{p.stem}]({p.name})" for p in plots] + [""]
    md.write_text("\n".join(lines))
    return md, csv
