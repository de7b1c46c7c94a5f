"""The design-space sweeps in a build tree (make sweep: <build root>/sweep/<task>/<flow>-<board>/), for
the report: each sweep's trials by status and its Pareto designs, read from the results.csv the sweep
wrote, with its own labels (what each figure is, which data), and its Pareto figures. Read as data:
results/ does not import the sweep package (common/layers.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

SHOWN = ["trial", "accuracy", "latency_us", "lut", "fits", "data"]


@dataclass
class Sweep:
    folder: Path
    task: str
    design: str  # <flow>-<board>
    statuses: dict[str, int]  # trials per status: done, no-fit, gate, failed
    front: pd.DataFrame  # the Pareto designs, SHOWN columns (those the sweep had)
    what: dict[str, str]  # how each figure was obtained (modeled, host, ...)
    figures: list[Path]


def find(build_root: Path) -> tuple[list[Sweep], list[tuple[Path, str]]]:
    """Every sweep with a results.csv, and the ones that could not be read (with the reason)."""
    sweeps, broken = [], []
    for csv in sorted(Path(build_root).glob("sweep/*/*/results.csv")):
        try:
            df = pd.read_csv(csv)
            sweeps.append(_sweep(csv.parent, df))
        except (ValueError, KeyError, OSError, pd.errors.ParserError) as e:
            broken.append((csv, f"{type(e).__name__}: {e}"))
    return sweeps, broken


def _sweep(folder: Path, df: pd.DataFrame) -> Sweep:
    statuses = {str(k): int(v) for k, v in df["status"].value_counts().items()}
    front = df[df["pareto"].fillna("").astype(str) == "yes"]
    # a label the same on every trial says what a figure is; one that differs is a trial's own (e.g. its over-budget text)
    what = {c.removeprefix("what."): str(df[c].dropna().iloc[0]) for c in df.columns
            if c.startswith("what.") and df[c].dropna().nunique() == 1}
    return Sweep(folder, folder.parent.name, folder.name, statuses, front[[c for c in SHOWN if c in df.columns]], what,
                 sorted(folder.glob("pareto_*.png")))
