"""The comparison as files: comparison.md / comparison.csv, the plots, and a standalone HTML page
(inline style, plots embedded) that opens in any browser without the build tree beside it. The page
says what the plots leave off and why, and lists every run folder it could not read, with the reason."""

from __future__ import annotations

import base64
import html
import time
from pathlib import Path

import pandas as pd

from boards import board as boards
from results import compare, plots, sweeps
from results import runs as run_folders

STYLE = """
body { font-family: system-ui, -apple-system, Segoe UI, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
.sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { padding: .35rem .5rem; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
th { background: #f5f5f5; position: sticky; top: 0; }
tr.published td { color: #2166ac; } tr.ours td:first-child { border-left: 3px solid #1b7837; }
.kind { display: inline-block; padding: 0 .4rem; border-radius: .6rem; font-size: .75rem; background: #eee; }
.measured { background: #d9f0d3; } .modeled { background: #fee0b6; } .emulated { background: #e0e0e0; }
.plots { display: flex; flex-wrap: wrap; gap: 1rem; }
.plots img { width: calc(50% - .5rem); min-width: 420px; border: 1px solid #eee; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: .6rem .8rem; }
.broken { background: #fdecea; border-left: 4px solid #c62828; padding: .6rem .8rem; }
code { background: #f3f3f3; padding: 0 .2rem; }
"""


def _png(path: Path) -> str:
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}">'


def _table_html(df: pd.DataFrame, shown: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in shown.columns)
    rows = []
    for (_, raw), (_, row) in zip(df.iterrows(), shown.iterrows()):
        cells = []
        for col, value in row.items():
            text = html.escape(str(value))
            for k in ("measured", "modeled", "emulated"):  # mark the kind of each number
                text = (text.replace(f", {k})", f', <span class="kind {k}">{k}</span>)')
                        .replace(f"({k})", f'(<span class="kind {k}">{k}</span>)'))
            cells.append(f"<td>{text}</td>")
        css = "ours" if raw["source"] == "this harness" else "published"
        rows.append(f'<tr class="{css}">{"".join(cells)}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _left_off_note(df: pd.DataFrame) -> str | None:
    """Why our emulated figures are in the table but on no latency or energy axis."""
    off = pd.concat([plots.left_off(df, cost) for cost in ("latency_us", "energy_uj")]).drop_duplicates("run")
    if off.empty:
        return None
    names = ", ".join(f"{r['task']} {r['flow']} on {r['board']} ({r['latency_us']:,.1f} µs)" for _, r in off.iterrows())
    return ("Not on the latency and energy axes: " + html.escape(names) + ". These are host-CPU times of the bit-accurate "
            "model behind the real firmware (emulated DUT or QEMU), not FPGA speed: they check the chain and stay in the "
            "table, but an axis carries only figures measured on a board or modeled for one, like the published results.")


def _broken_html(broken: list[tuple[Path, str]]) -> str:
    if not broken:
        return ""
    items = "".join(f"<li><code>{html.escape(str(p))}</code>: {html.escape(why)}</li>" for p, why in broken)
    head = f"{len(broken)} run folder(s) could not be read and are not in the comparison:"
    return f'<div class="broken"><b>{head}</b><ul>{items}</ul></div>'


def _sweeps_html(found: list[sweeps.Sweep]) -> str:
    if not found:
        return "<p>No sweep yet: <code>make sweep task=... flow=... space=...</code> (docs/sweep.md).</p>"
    parts = []
    for s in found:
        counts = ", ".join(f"{n} {status}" for status, n in sorted(s.statuses.items()))
        what = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in sorted(s.what.items()))
        table = s.front.to_html(index=False, na_rep="–", border=0) if not s.front.empty else "<p>No design on the front.</p>"
        parts.append(f"<h3>{html.escape(s.task)} {html.escape(s.design)} (<code>{html.escape(str(s.folder))}</code>)</h3>"
                     f"<p>Trials: {html.escape(counts)}. The Pareto designs (results.md has every trial and the "
                     f"<code>make</code> line promoting each):</p>{table}<ul>{what}</ul>"
                     f'<div class="plots">{"".join(_png(p) for p in s.figures)}</div>')
    return "".join(parts)


def write(build_root: Path, out: Path) -> dict:
    """Write the comparison for every run under build_root into out; returns what was written."""
    out.mkdir(parents=True, exist_ok=True)
    found = run_folders.scan(build_root)
    runs = found.runs
    df = compare.table(runs)
    shown = compare.display(df)
    df.to_csv(out / "comparison.csv", index=False)
    (out / "comparison.md").write_text(compare.markdown(shown))
    figures = []
    for task in sorted(set(df["task"])):
        for cost in ("latency_us", "energy_uj"):
            path = out / f"{task}_accuracy_vs_{cost.split('_')[0]}.png"
            if plots.accuracy_against(df, task, cost, path):
                figures.append(path)
    found_sweeps, broken_sweeps = sweeps.find(build_root)
    budgets = {name: boards.load(name).resources.model_dump() for name in boards.available()}
    resources = out / "resources_vs_budget.png"
    has_resources = plots.resources_against_budget(df, budgets, resources)
    if has_resources:
        figures.append(resources)
    notes = []
    if not has_resources:
        notes.append("No run has resource estimates yet: they come with each convert stage (hls4ml's modeled by "
                     "toolchains/hls4ml/resources.py, FINN's own), for runs made after it.")
    if df[df["source"] == "this harness"]["energy_uj"].isna().all():
        notes.append("No run has an energy figure yet: energy mode (a power monitor on the board's supply) is not run; "
                     "the energy plots show the published points only.")
    left_off = _left_off_note(df)
    if left_off:
        notes.append(left_off)
    if ((df["source"] == "this harness") & (df["data"] == "synthetic")).any():
        notes.append("Synthetic-data points have hollow triangles and legend entries of their own: their accuracy is on "
                     "generated stand-ins, not comparable with the real test sets; the Pareto front uses real-data runs only.")
    used = "".join(f"<li><code>{html.escape(str(r.path))}</code> ({r.task}, {r.flow}, {r.board}; "
                   f"{compare.kind_of(r)}, {r.provenance.data or 'data not stated'})</li>" for r in runs)
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>MLPerf Tiny on FPGA: comparison</title>
<style>{STYLE}</style></head><body>
<h1>MLPerf Tiny on FPGA boards: where the designs stand</h1>
<p class="sub">Written {time.strftime('%Y-%m-%d %H:%M')} from {len(runs)} run(s) of this harness
and {len(df) - len(runs)} published results.
Each number says what it is: <span class="kind measured">measured</span> on hardware,
<span class="kind modeled">modeled</span>, or <span class="kind emulated">emulated</span>; and on which data.</p>
{_broken_html(found.broken + broken_sweeps)}
{''.join(f'<p class="note">{n}</p>' for n in notes)}
<h2>Comparison</h2>{_table_html(df, shown)}
<h2>Plots</h2><div class="plots">{''.join(_png(p) for p in figures) or '<p>No plottable figures.</p>'}</div>
<h2>Design-space sweeps</h2>{_sweeps_html(found_sweeps)}
<h2>Runs used</h2><ul>{used or '<li>none: run <code>make task=... board=...</code> first</li>'}</ul>
<p class="sub">Published figures: hls4ml + FINN team, MLPerf Tiny v0.7/v1.0 open division; fpgaConvNet, v1.1 closed
division on the ZedBoard (results/published.yaml).</p>
</body></html>
"""
    (out / "index.html").write_text(page)
    return {"runs": [str(r.path) for r in runs], "figures": [p.name for p in figures], "page": str(out / "index.html"),
            "broken": [(str(p), why) for p, why in found.broken + broken_sweeps],
            "sweeps": [str(s.folder) for s in found_sweeps]}
