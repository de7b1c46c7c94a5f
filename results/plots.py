"""Plots of the comparison table (matplotlib, PNG): accuracy against latency and against energy per
task, our runs coloured by what their numbers are, the Pareto front across our runs, the published
FPGA results marked; and resource use against each board's budget where a run has estimates."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

COLOURS = {"measured": "#1b7837", "modeled": "#e08214", "emulated": "#8c8c8c"}


def pareto(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The runs no other run beats in both cost (lower is better) and accuracy (higher is better)."""
    front, best = [], float("-inf")
    for cost, acc in sorted(points, key=lambda p: (p[0], -p[1])):
        if acc > best:
            front.append((cost, acc))
            best = acc
    return front


def accuracy_against(df: pd.DataFrame, task: str, cost: str, path: Path) -> bool:
    """Accuracy vs `cost` (latency_us or energy_uj) for one task; False when nothing to plot."""
    rows = df[(df["task"] == task) & df[cost].notna() & df["accuracy"].notna()]
    if rows.empty:
        return False
    label = {"latency_us": "latency (µs, 1 / median throughput)", "energy_uj": "energy (µJ / inference)"}[cost]
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    ours = rows[rows["source"] == "this harness"]
    kinds = ours["latency_kind"] if cost == "latency_us" else ours["energy_kind"]
    for k in COLOURS:
        mine = ours[kinds == k]
        if not mine.empty:
            ax.scatter(mine[cost], mine["accuracy"], s=55, color=COLOURS[k],
                       label=f"this harness ({k}, {'/'.join(sorted(set(mine['data'])))} data)", zorder=3)
            for i, (_, r) in enumerate(mine.iterrows()):  # staggered so that close points stay readable
                ax.annotate(f"{r['board']} {r['flow']}", (r[cost], r["accuracy"]), textcoords="offset points",
                            xytext=(6, -10 - 9 * (i % 3)), fontsize=7)
    front = pareto(list(zip(ours[cost], ours["accuracy"])))
    if len(front) > 1:
        ax.plot(*zip(*front), color="#333333", linewidth=1, linestyle="--", label="Pareto front (this harness)", zorder=2)
    published = rows[rows["source"] != "this harness"]
    if not published.empty:
        ax.scatter(published[cost], published["accuracy"], marker="*", s=140, color="#2166ac",
                   label="published (measured, real data)", zorder=3)
        for i, (_, r) in enumerate(published.iterrows()):
            ax.annotate(f"{r['source'].removeprefix('published ')} {r['board']}", (r[cost], r["accuracy"]),
                        textcoords="offset points", xytext=(6, 4 + 9 * (i % 3)), fontsize=7, color="#2166ac")
    ax.set_xscale("log")
    ax.margins(x=0.3, y=0.25)  # room for the labels beside the points
    ax.set_xlabel(label)
    ax.set_ylabel(rows["metric"].iloc[0])
    ax.set_title(f"{task}: accuracy against {label.split(' (')[0]}")
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
