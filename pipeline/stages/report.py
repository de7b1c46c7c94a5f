"""report: the flow's figures beside the published FPGA results (results/report.py)."""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.flow import Flow
from pipeline.stages.stage import Stage

log = logging.getLogger("pipeline")


def _report(f: Flow, out: Path) -> dict:
    from results import report

    table = report.flow_table(f.task, f.flow if f.model == "trained" else f"{f.flow} ({f.model_name} model)", f.board,
                              f.manifest("train")["outputs"], f.manifest("convert")["outputs"], f.manifest("run")["outputs"],
                              f.manifest("build")["outputs"].get("modeled_latency"))
    report.write(table, out)
    print(report.markdown(table))
    log.info("all runs beside the published FPGA results: make report (build/report/index.html)")
    return {"rows": len(table), "artifacts": {"table": "results.md", "csv": "results.csv"}}


STAGE = Stage("report", lambda f: {}, lambda f: {"modules": ["results.report"]}, ["run"], _report)
