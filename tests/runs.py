"""Run stage folders shaped like the pipeline's, for the results tests: the MLC runner's files from
tests/golden and the manifest the pipeline writes, with the provenance a test chooses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from common.jsonio import write_json

GOLDEN = Path(__file__).resolve().parent / "golden" / "mlc"


def make_run(root: Path, link="board", timing="board-timer", data="real", window_s=10.5, board="pynq_z2") -> Path:
    """A finished run stage folder: the MLC runner's accuracy files and performance files whose five
    windows last window_s each, with the manifest the pipeline writes."""
    run = root / "ad" / "hls4ml" / board / "run"
    shutil.copytree(GOLDEN / "accuracy", run / "accuracy", ignore=shutil.ignore_patterns("conversation.json"))
    shutil.copytree(GOLDEN / "performance", run / "performance", ignore=shutil.ignore_patterns("conversation.json"))
    records = json.loads((run / "performance" / "results.json").read_text())
    for r in records:
        r["infer"]["elapsed_time"] = int(window_s * 1e6)
    (run / "performance" / "results.json").write_text(json.dumps(records))
    summary = {"model": "ad01", "name": "board", "port": "/dev/ttyUSB1",
               "provenance": {"link": link, "timing": timing, "data": data, "model_origin": "QKeras, trained here",
                              "port": "/dev/ttyUSB1"},
               "performance": {"throughput": 952.554, "error": None}, "accuracy": {"top1": 87.5, "auc": 0.889, "file_errors": []}}
    write_json(run / "manifest.json", {"stage": "run", "status": "done", "key": "k", "inputs": {}, "outputs": summary})
    return run
