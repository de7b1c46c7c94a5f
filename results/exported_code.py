"""The code/ folder of a submission: the code that made a run, enough to run it again from an empty folder.

Python: the import closure (common/module_closure.py, the function the pipeline keys its stages on)
of the runner's and the pipeline's entry points, every stage module, and the modules of the run's task
and toolchain and of the board programming plans (those three are imported by name at run time, so no
import statement leads to them). Everything else the stages read: the configs and C sources of the
task, its toolchain and its board (task.yaml, board.yaml, firmware, Vivado scripts), the data files
beside any copied module (results/published.yaml), and the files that install it (Makefile,
pyproject.toml, requirements*.txt). Plus the stage manifests of the run and a README with the
commands that reproduce it."""

from __future__ import annotations

import shutil
from pathlib import Path

from common.module_closure import module_closure
from common.paths import REPO
from results.runs import Run

ENTRY_POINTS = ("runner.__main__", "pipeline.__main__")
INSTALL_FILES = ("Makefile", "pyproject.toml", "requirements.txt", "requirements-nodeps.txt")
STAGE_MANIFESTS = ("train", "convert", "build", "run")


def _visible(path: Path) -> bool:
    rel = path.relative_to(REPO).parts
    return path.is_file() and "__pycache__" not in rel and not any(part.startswith(".") for part in rel)


def _modules_under(folder: str) -> list[str]:
    """Every module in a folder of the repository, by its dotted name."""
    return [".".join(p.relative_to(REPO).with_suffix("").parts) for p in sorted((REPO / folder).rglob("*.py")) if _visible(p)]


def python_files(task: str, flow: str) -> list[Path]:
    roots = [*ENTRY_POINTS, *_modules_under("pipeline/stages"), *_modules_under(f"tasks/{task}"),
             *_modules_under(f"toolchains/{flow}"), *_modules_under("boards/vendor/plans")]
    return module_closure(roots)


def data_files(task: str, flow: str, board: str, modules: list[Path]) -> list[Path]:
    """The files besides Python the stages read: the run's task, toolchain and board folders in full,
    the non-Python files beside each copied module, and the install files."""
    folders = [f"tasks/{task}", "tasks/firmware", f"toolchains/{flow}", f"boards/{board}", "boards/common", "boards/emulated"]
    found = {p for folder in folders for p in (REPO / folder).rglob("*") if _visible(p)}
    found |= {p for m in modules for p in m.parent.iterdir() if _visible(p)}
    found |= {REPO / name for name in INSTALL_FILES if (REPO / name).is_file()}
    return sorted(p for p in found if p.suffix != ".py")


def copy_code(run: Run, dest: Path) -> list[Path]:
    """Copy the run's code into dest (same layout as the repository); returns the files copied."""
    modules = python_files(run.task, run.flow)
    files = modules + data_files(run.task, run.flow, run.board, modules)
    for src in files:
        target = dest / src.relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    for stage, manifest in run.stage_manifest_files(STAGE_MANIFESTS).items():
        (dest / "manifests").mkdir(exist_ok=True)
        shutil.copy2(manifest, dest / "manifests" / f"{stage}.json")
    return files


def pipeline_command(run: Run) -> str:
    """The pipeline command of the run, from what its manifests recorded."""
    params = run.params
    words = ["make", f"task={run.task}", f"board={run.board}", f"flow={run.flow}", f"model={run.model}"]
    if params.get("testset"):
        words.append(f"testset={params['testset']}")
    words.append(f"dut={params.get('dut') or run.provenance.port or 'PORT'}")
    if params.get("timing", "host") != "host":
        words.append(f"timing={params['timing']}")
    if params.get("modes"):
        words.append(f'modes="{" ".join(params["modes"])}"')
    return " ".join(words)


def runner_commands(run: Run) -> list[str]:
    """The command lines a run made with `python -m runner` recorded for its modes (runner/run_manifest.py), each once."""
    recorded = run.params.get("commands")
    commands = recorded.values() if isinstance(recorded, dict) else []
    return list(dict.fromkeys(c for c in commands if isinstance(c, str))) or ["python -m runner --port PORT --dataset FOLDER"]


def _reproduce(run: Run) -> str:
    flow = f"task={run.task} board={run.board} flow={run.flow} model={run.model}"
    if run.made_by_runner:
        lines = "\n".join(f"    .venv/bin/{c}" for c in runner_commands(run))
        return f"""    make {flow} to=build   # the stages up to the build, whose key the firmware reports
    make program {flow}   # Vivado/Vitis: the build onto the board
{lines}

This result was measured with the runner's command line on the board; the commands above are the ones recorded.
`--port` (and `--monitor`) are the ports the board and the power monitor were on then: give yours."""
    return f"""    make program {flow}   # Vivado/Vitis: the build onto the board
    {pipeline_command(run)}

`dut=` is the serial port the board was on when this result was made; give the board's port on your machine."""


def readme(run: Run, practice: str | None) -> str:
    banner = f"**{practice}**\n\n" if practice else ""
    return f"""{banner}# {run.benchmark} on {run.board} through {run.flow} (model={run.model})

The code of the mlperf-tiny-fpga harness that made this result: the runner, the pipeline and every module
they import, the task's recipe ({run.task}), the {run.flow} toolchain, the {run.board} board files and the
firmware sources. `manifests/` holds the run's stage manifests: parameters, source digests and outputs.

## Set up (Debian or Ubuntu, Python 3.11)

    make setup

## Reproduce the run

{_reproduce(run)}
`.venv/bin/python -m pipeline --help` and `.venv/bin/python -m runner --help` list every option; the runner
alone (`python -m runner --port PORT --dataset FOLDER --mode p a`) writes the same files as the MLCommons runner.
"""
