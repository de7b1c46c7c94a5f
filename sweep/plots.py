"""The sweep's figures: one per pair of objectives, every trial with a value for both, the Pareto
front of the pair, and (accuracy against latency) the published FPGA results for the task and board.

Drawn as results/plots.py draws the harness's runs: real-data points filled circles, synthetic-data
points hollow triangles, each series named with what its numbers are (modeled latency and
resources, host accuracy of the trained model; the published points measured on boards, real data);
designs that do not fit the board are grey crosses, kept in the figure, and the title says what
kind of data and figures it shows."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from results.plots import COLOURS, MARKERS  # noqa: E402
from sweep.space import Space  # noqa: E402
from sweep.table import pareto_front  # noqa: E402

AXIS = {"latency_us": "latency (µs per inference, modeled)", "lut": "LUT (modeled estimate)", "ff": "FF (modeled estimate)",
        "bram18": "BRAM18 (modeled estimate)", "dsp": "DSP (modeled estimate)",
        "weight_kbit": "weights (kbit, modeled: nonzero x bits)"}
LOG_AXES = {"latency_us", "lut", "ff", "weight_kbit"}


def pairs(objectives: list[str]) -> list[tuple[str, str]]:
    """(x, y) per pair of objectives; accuracy always on y, as in the report's figures."""
    out = []
    for a, b in combinations(objectives, 2):
        out.append((a, b) if b == "accuracy" else (b, a) if a == "accuracy" else (a, b))
    return out


def _published(space: Space) -> list[dict[str, Any]]:
    from results.report import published

    return published(space.task, space.board)


def accuracy_label(records: list[dict[str, Any]]) -> str:
    metric = next((r["metrics"]["metric"] for r in records if r["metrics"].get("metric")), "accuracy")
    return f"{metric} (host, trained model on the test files)"


def draw(space: Space, records: list[dict[str, Any]], x: str, y: str, path: Path) -> bool:
    """One objective pair; False when fewer than one trial has both values."""
    rows = [r for r in records if r["metrics"].get(x) is not None and r["metrics"].get(y) is not None]
    if not rows:
        return False
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=110)
    kinds = sorted({r["labels"].get("data", "not stated") for r in rows})
    fitting = [r for r in rows if r["status"] == "done" and r.get("fits") is not False]
    for data in kinds:
        group = [r for r in fitting if r["labels"].get("data", "not stated") == data]
        if group:
            ax.scatter([r["metrics"][x] for r in group], [r["metrics"][y] for r in group], s=50,
                       marker=MARKERS.get(data, "s"), color=COLOURS["modeled"] if data == "real" else "none",
                       edgecolors=COLOURS["modeled"], linewidths=1.5, zorder=3, label=f"trials (modeled, {data} data)")
    over = [r for r in rows if r.get("fits") is False]
    if over:
        ax.scatter([r["metrics"][x] for r in over], [r["metrics"][y] for r in over], marker="x", s=45, color="#888888",
                   zorder=3, label=f"does not fit the {space.board} (modeled estimates)")
    at: dict[tuple[float, float], list[str]] = {}  # trials at one point share one label
    for r in rows:
        at.setdefault((r["metrics"][x], r["metrics"][y]), []).append(str(r["trial"]))
    for point, numbers in at.items():
        ax.annotate(",".join(numbers), point, textcoords="offset points", xytext=(4, 4), fontsize=7)
    front = sorted({(r["metrics"][x], r["metrics"][y]) for r in fitting if r["trial"] in pareto_front(fitting, [x, y])})
    if len(front) > 1:
        ax.step(*zip(*front), where="post", color="#333333", linewidth=1,
                linestyle="--", zorder=2, label="Pareto front of the pair (trials that fit)")
    if {x, y} == {"latency_us", "accuracy"}:
        published = [p for p in _published(space) if p.get("latency_us") and p.get("accuracy") is not None]
        if published:
            ax.scatter([p["latency_us"] for p in published], [p["accuracy"] for p in published], marker="*", s=140,
                       color="#2166ac", zorder=3, label="published (measured on the board, real data)")
            for p in published:
                ax.annotate(f"{p['model']} ({p['flow']}, {p['round']})", (p["latency_us"], p["accuracy"]),
                            textcoords="offset points", xytext=(6, -10), fontsize=7, color="#2166ac")
    for axis, setter in ((x, ax.set_xscale), (y, ax.set_yscale)):
        values = [r["metrics"][axis] for r in rows]
        if axis in LOG_AXES and min(values) > 0 and max(values) / min(values) > 20:
            setter("log")
    ax.set_xlabel(accuracy_label(rows) if x == "accuracy" else AXIS[x])
    ax.set_ylabel(accuracy_label(rows) if y == "accuracy" else AXIS[y])
    ax.set_title(f"{space.task} {space.flow} on {space.board}: {y} against {x}\n"
                 f"sweep of {len(records)} trials, {' and '.join(kinds)} data, modeled figures", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.margins(0.15)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def draw_all(space: Space, records: list[dict[str, Any]], folder: Path) -> list[Path]:
    made = []
    for x, y in pairs(space.objectives):
        path = folder / f"pareto_{y}_vs_{x}.png"
        if draw(space, records, x, y, path):
            made.append(path)
    return made
