"""Plots of the comparison table (matplotlib, PNG): accuracy against latency and against energy per
task, and resource use against each board's budget where a run has estimates.

Only figures that compare like with like share an axis: a latency or energy axis carries what was
measured on a board or modeled for one (the published results are measured); host-CPU emulation
times are left off (they time the host running a bit-accurate model, not an FPGA: page.py says so).
Synthetic-data points get their own marker and legend entry, apart from real-data ones, and the
Pareto front is drawn over our real-data points only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

COLOURS = {"measured": "#1b7837", "modeled": "#e08214"}
ON_BOARD_AXES = tuple(COLOURS)  # what a latency or energy axis may carry: board figures, measured or modeled
MARKERS = {"real": "o", "synthetic": "^"}  # synthetic data: hollow triangles, apart from the filled real-data circles


@dataclass
class Series:
    label: str
    rows: pd.DataFrame
    colour: str
    marker: str
    filled: bool


def our_series(ours: pd.DataFrame, cost: str) -> list[Series]:
    """Our runs that may share a latency/energy axis with the published results, one series per kind
    of figure (measured, modeled) and kind of data (real, synthetic or not stated)."""
    kinds = ours["latency_kind"] if cost == "latency_us" else ours["energy_kind"]
    series = []
    for kind, colour in COLOURS.items():
        for data in sorted(set(ours.loc[kinds == kind, "data"])):
            rows = ours[(kinds == kind) & (ours["data"] == data)]
            series.append(Series(f"this harness ({kind}, {data} data)", rows, colour, MARKERS.get(data, "s"), data == "real"))
    return series


def left_off(df: pd.DataFrame, cost: str) -> pd.DataFrame:
    """Our runs with a figure for `cost` that no latency/energy axis carries (host-CPU emulation times)."""
    ours = df[(df["source"] == "this harness") & df[cost].notna()]
    kinds = ours["latency_kind"] if cost == "latency_us" else ours["energy_kind"]
    return ours[~kinds.isin(ON_BOARD_AXES)]


def pareto(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The runs no other run beats in both cost (lower is better) and accuracy (higher is better)."""
    front, best = [], float("-inf")
    for cost, acc in sorted(points, key=lambda p: (p[0], -p[1])):
        if acc > best:
            front.append((cost, acc))
            best = acc
    return front


def _draw_ours(ax, series: list[Series], cost: str) -> None:
    for k in series:
        ax.scatter(k.rows[cost], k.rows["accuracy"], s=55, marker=k.marker, label=k.label, zorder=3,
                   color=k.colour if k.filled else "none", edgecolors=k.colour, linewidths=1.5)
        for i, (_, r) in enumerate(k.rows.iterrows()):  # staggered so that close points stay readable
            ax.annotate(f"{r['board']} {r['flow']}", (r[cost], r["accuracy"]), textcoords="offset points",
                        xytext=(6, -10 - 9 * (i % 3)), fontsize=7)
    real = pd.concat([k.rows for k in series if k.filled]) if any(k.filled for k in series) else None
    front = pareto(list(zip(real[cost], real["accuracy"]))) if real is not None else []
    if len(front) > 1:
        ax.plot(*zip(*front), color="#333333", linewidth=1, linestyle="--", label="Pareto front (this harness, real data)",
                zorder=2)


def _draw_published(ax, published: pd.DataFrame, cost: str) -> None:
    ax.scatter(published[cost], published["accuracy"], marker="*", s=140, color="#2166ac",
               label="published (measured, real data)", zorder=3)
    for i, (_, r) in enumerate(published.iterrows()):
        ax.annotate(f"{r['source'].removeprefix('published ')} {r['board']}", (r[cost], r["accuracy"]),
                    textcoords="offset points", xytext=(6, 4 + 9 * (i % 3)), fontsize=7, color="#2166ac")


def accuracy_against(df: pd.DataFrame, task: str, cost: str, path: Path) -> bool:
    """Accuracy vs `cost` (latency_us or energy_uj) for one task; False when nothing to plot."""
    rows = df[(df["task"] == task) & df[cost].notna() & df["accuracy"].notna()]
    ours = rows[rows["source"] == "this harness"]
    series = our_series(ours, cost)
    published = rows[rows["source"] != "this harness"]
    if not series and published.empty:
        return False
    label = {"latency_us": "latency (µs, 1 / median throughput)", "energy_uj": "energy (µJ / inference)"}[cost]
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    _draw_ours(ax, series, cost)
    if not published.empty:
        _draw_published(ax, published, cost)
    ax.set_xscale("log")
    ax.margins(x=0.3, y=0.25)  # room for the labels beside the points
    ax.set_xlabel(label)
    ax.set_ylabel(rows["metric"].iloc[0])
    ax.set_title(f"{task}: accuracy against {label.split(' (')[0]} (on-board figures only)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def resources_against_budget(df: pd.DataFrame, budgets: dict[str, dict], path: Path) -> bool:
    """Each run's LUT/BRAM/DSP as a fraction of its board's budget; False when no run has estimates."""
    rows = df[df["lut"].notna()]
    if rows.empty:
        return False
    fig, ax = plt.subplots(figsize=(6.4, 0.5 + 0.45 * len(rows)), dpi=110)
    names = [f"{r['task']} {r['flow']} {r['board']} ({r['resources_kind']})" for _, r in rows.iterrows()]
    for i, (key, budget_key) in enumerate((("lut", "lut"), ("bram", "bram36"), ("dsp", "dsp"))):
        used = [100 * r[key] / budgets[r["board"]][budget_key] for _, r in rows.iterrows()]
        ax.barh([n + i * 0.25 for n in range(len(rows))], used, height=0.25, label=key.upper())
    ax.axvline(100, color="red", linewidth=1)
    ax.set_yticks(range(len(rows)), names, fontsize=7)
    ax.set_xlabel("% of the board's budget")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True
