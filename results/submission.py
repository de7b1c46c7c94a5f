"""The MLPerf Tiny submission tree (docs/mlperf-tiny.md 5.1, 5.3) from chosen runs:

    <division>/<organization>/systems/<system_desc_id>.json
    <division>/<organization>/code/<benchmark>/<implementation>/   recipe, configs, firmware, scripts
    <division>/<organization>/results/<system_desc_id>/<benchmark>/{accuracy,performance}/
                                                                  log.txt results.txt results.json

A run is a pipeline run stage folder (build/<task>/<flow>/<board>/run); its manifest says what it
was made from. Runs the honesty gate refuses are not exported; a dry run writes the same tree with
every file that allows it marked as practice, so a submitter can rehearse the checker."""

from __future__ import annotations

import importlib.metadata
import shutil
from pathlib import Path
from typing import Literal

from boards import board as boards
from common.errors import HarnessError
from common.jsonio import write_json
from common.paths import REPO
from results import honesty
from results.runs import Run

MODES = ("accuracy", "performance")
RUN_FILES = ("log.txt", "results.txt", "results.json")
PRACTICE = "PRACTICE RUN - NOT AN MLPERF SUBMISSION"
TOOLCHAIN_PACKAGES = {"hls4ml": ["hls4ml", "qkeras", "tensorflow"], "finn": ["finn-plus", "brevitas", "qonnx"]}


class ExportRefused(HarnessError):
    """The honesty gate refused at least one run (the reasons are in the message)."""


def _version(package: str) -> str:
    try:
        return f"{package} {importlib.metadata.version(package)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{package} (not installed)"


def system_description(run: Run, organization: str, division: str, status: str, practice: str | None) -> dict:
    """Every field of the MLPerf Tiny system description template (docs/mlperf-tiny.md 5.3), filled from the board
    description and the toolchain versions; no `system_type` (the checker rejects it)."""
    b = boards.load(run.board)
    tools = ", ".join(_version(p) for p in TOOLCHAIN_PACKAGES[run.flow])
    notes = f"{practice}. " if practice else ""
    return {
        "Submitter": organization,
        "Division": division,
        "Status": status,
        "Board Name": b.title,
        "Board Memory capacity (not including SoC, processor, or accelerator)": b.memory,
        "Board Memory type": b.memory,
        "Board storage capacity": "microSD / SPI flash (boot image)",
        "Board storage type": "microSD / SPI flash",
        "SoC Name": b.part,
        "SoC Memory capacity (not including processor or accelerator)": "on-chip BRAM, see Board Memory",
        "SoC Memory type": "BRAM",
        "SoC storage capacity": "none",
        "SoC storage type": "none",
        "Processor(s) Name": b.processor.name,
        "Processor(s) Frequencies": f"{b.processor.clock_mhz:g} MHz",
        "Processor memory type and capacity": b.memory,
        "Processor storage type and capacity": "none",
        "Accelerator": f"{run.flow} dataflow accelerator in the {b.part} fabric",
        "Accelerator(s) Frequencies": f"{b.fabric_clock_mhz:g} MHz",
        "Accelerator memory type and capacity": "on-chip BRAM/registers (weights in the fabric)",
        "Accelerator storage type and capacity": "none",
        "Hardware Notes": f"{notes}Energy set-up: {b.power.method}, {b.power.supply}, {b.power.monitor}.",
        "Inference Framework": tools,
        "Software Libraries": "EEMBC test-harness protocol core (this project), bare metal",
        "Operating System ": "none (bare metal)",
        "Operating System": "none (bare metal)",
        "Other Software Stack": "mlperf-tiny-fpga harness",
        "Software Notes": f"{notes}Model: {run.provenance.model_origin or 'not stated'}.",
        "Quantization Method": "quantization-aware training" if run.flow in TOOLCHAIN_PACKAGES else "not stated",
        "Training framework (open division)": tools,
        "ML Model Compiler(s)": tools,
        "General Compiler(s)": b.processor.cross_compiler,
        "Other Software": "none",
        "Training and Quantization Notes": f"{notes}See code/{run.benchmark}/.",
    }


def _copy_code(run: Run, dest: Path) -> None:
    """What produced the result: the task recipe, the toolchain, the board, the firmware core and
    the pipeline, plus the run's manifests (its resolved configuration)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    for rel in (f"tasks/{run.task}", "tasks/firmware", "frameworks", f"toolchains/{run.flow}", f"boards/{run.board}",
                "boards/common", "pipeline", "runner", "common", "Makefile", "requirements.txt", "requirements-nodeps.txt",
                "pyproject.toml"):
        src = REPO / rel
        if src.is_dir():
            shutil.copytree(src, dest / rel, ignore=ignore)
        elif src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dest / rel)
    for stage in ("convert", "build", "run"):
        manifest = run.path.parent / stage / "manifest.json"
        if manifest.is_file():
            (dest / "manifests").mkdir(exist_ok=True)
            shutil.copy(manifest, dest / "manifests" / f"{stage}.json")


def export(runs: list[Path], out: Path, organization: str, division: Literal["closed", "open"], status: str,
           dry_run: bool = False) -> Path:
    """Write the tree under out/<division>/<organization>; returns that folder. Raises ExportRefused
    (nothing written) when the honesty gate refuses a run and this is not a dry run."""
    if division not in ("closed", "open"):
        raise HarnessError(f"division must be closed or open, got '{division}'")
    if status.lower() not in ("available", "preview", "rdi"):
        raise HarnessError(f"status must be available, preview or rdi, got '{status}'")
    if not organization or "/" in organization or " " in organization:
        raise HarnessError(f"organization must be a folder name without spaces or '/', got '{organization}'")
    loaded = [Run.load(p) for p in runs]
    if not loaded:
        raise HarnessError("no runs to export")
    reasons = {r.path: honesty.refusals(r) for r in loaded}
    refused = {p: why for p, why in reasons.items() if why}
    if refused and not dry_run:
        text = "\n".join(f"  {p}:\n" + "\n".join(f"    - {w}" for w in why) for p, why in refused.items())
        raise ExportRefused(f"not exported (use --dry-run to rehearse with these runs):\n{text}")
    root = Path(out) / division / organization
    shutil.rmtree(root, ignore_errors=True)
    for run in loaded:
        practice = f"{PRACTICE}: {'; '.join(reasons[run.path]) or 'dry run'}" if dry_run else None
        (root / "systems").mkdir(parents=True, exist_ok=True)
        write_json(root / "systems" / f"{run.system_id}.json",
                   system_description(run, organization, division, status, practice), indent=2)
        code = root / "code" / run.benchmark / run.system_id
        _copy_code(run, code)
        (code / "README.md").write_text(
            (f"**{practice}**\n\n" if practice else "")
            + f"# {run.benchmark} on {run.board} through {run.flow}\n\nProduced by the mlperf-tiny-fpga harness:\n"
            f"`make task={run.task} board={run.board} flow={run.flow}` (see Makefile and README of the harness).\n"
            "`manifests/` holds the exact parameters and source digests of the convert, build and run stages.\n")
        for mode in MODES:
            dest = root / "results" / run.system_id / run.benchmark / mode
            dest.mkdir(parents=True, exist_ok=True)
            for name in RUN_FILES:
                src = run.path / mode / name
                if not src.is_file():
                    raise HarnessError(f"{src} is missing: the run has no complete {mode} result")
                text = src.read_bytes()
                if practice and name in ("log.txt", "results.txt"):
                    text = f"{practice}\n".encode() + text
                (dest / name).write_bytes(text)
    if dry_run:
        (root / "README.md").write_text(f"# {PRACTICE}\n\nWritten by `--dry-run` to rehearse an export; reasons per system "
                                        "are in its systems/*.json notes. Never submit this tree.\n")
    return root
