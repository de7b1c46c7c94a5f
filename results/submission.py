"""The MLPerf Tiny submission tree (docs/mlperf-tiny.md 5.1, 5.3) from chosen runs:

    <division>/<organization>/systems/<system_desc_id>.json
    <division>/<organization>/code/<benchmark>/<system_desc_id>/   the code that made the run (exported_code.py)
    <division>/<organization>/results/<system_desc_id>/<benchmark>/{accuracy,performance[,energy]}/
                                                                  log.txt results.txt results.json
    <division>/<organization>/sha256sums.txt                      every file's digest (digests.py)

A run is a pipeline run stage folder (build/<task>/<flow>/<board>/run), or the output folder of a
`python -m runner` run on a board (its manifest.json ties it, by the build key the DUT reported, to
the build stage that made its firmware: runs.py); its manifest says what it was made from. Every
figure is recomputed from the run's raw records first (integrity.py): files that are missing,
truncated, empty or disagree with their records stop the export, dry run or not.
Runs the honesty gate refuses are not exported; a dry run writes the same tree with every file that
allows it marked as practice, so a submitter can rehearse the checker. The tree holds exactly the
runs given, one per benchmark and system; it is written beside its place and renamed into it
whole, so a failed export leaves the previous tree as it was."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from common.errors import HarnessError
from common.jsonio import write_json
from results import digests, exported_code, honesty, integrity, system_description
from results.runs import Run

MODES = ("accuracy", "performance")
OPTIONAL_MODES = ("energy",)  # exported when the run measured it
RUN_FILES = ("log.txt", "results.txt", "results.json")
PRACTICE = "PRACTICE RUN - NOT AN MLPERF SUBMISSION"


class ExportRefused(HarnessError):
    """The honesty gate refused at least one run (the reasons are in the message)."""


def _check_arguments(organization: str, division: str, status: str) -> None:
    if division not in ("closed", "open"):
        raise HarnessError(f"division must be closed or open, got '{division}'")
    if status.lower() not in ("available", "preview", "rdi"):
        raise HarnessError(f"status must be available, preview or rdi, got '{status}'")
    if not organization or "/" in organization or " " in organization or organization.startswith("."):
        raise HarnessError(f"organization must be a folder name without spaces, '/' or a leading '.', got '{organization}'")


def _one_per_benchmark(runs: list[Run]) -> None:
    """A submission holds one result per system and benchmark: a second run of it is refused, never written over the first."""
    seen: dict[tuple[str, str], Path] = {}
    for run in runs:
        key = (run.system_id, run.benchmark)
        if key in seen:
            raise HarnessError(f"two runs give {run.benchmark} of system {run.system_id}: {seen[key]} and {run.path}; a "
                               "submission holds one result per benchmark and system: export them into separate trees (--out)")
        seen[key] = run.path


def modes(run: Run) -> tuple[str, ...]:
    """The modes exported: those the run's manifest names as made (a folder left from another run beside them is not
    one); a manifest that names none (older runs) by the folders there."""
    made = run.summary.get("artifacts")
    if isinstance(made, dict):
        return MODES + tuple(m for m in OPTIONAL_MODES if m in made)
    return MODES + tuple(m for m in OPTIONAL_MODES if (run.path / m).is_dir())


def _refusal_text(refused: dict[Path, list[str]]) -> str:
    return "\n".join(f"  {p}:\n" + "\n".join(f"    - {w}" for w in why) for p, why in refused.items())


@contextmanager
def _staged(root: Path) -> Iterator[Path]:
    """A fresh folder beside root to write the tree into; renamed to root only when the body succeeds."""
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".partial", dir=root.parent))
    except OSError as e:
        raise HarnessError(f"cannot write the tree under {root.parent}: {e.strerror} (is --out a file?)") from None
    try:
        yield stage
        old = root.with_name(f".{root.name}.replaced-{os.getpid()}")
        if root.exists():
            root.rename(old)
        stage.rename(root)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _write_results(run: Run, dest: Path, practice: str | None) -> None:
    for mode in modes(run):
        (dest / mode).mkdir(parents=True)
        for name in RUN_FILES:
            data = (run.path / mode / name).read_bytes()
            if practice and name in ("log.txt", "results.txt"):
                data = f"{practice}\n".encode() + data
            (dest / mode / name).write_bytes(data)


def _write_run(tree: Path, run: Run, organization: str, division: str, status: str, practice: str | None) -> None:
    (tree / "systems").mkdir(exist_ok=True)
    write_json(tree / "systems" / f"{run.system_id}.json",
               system_description.describe(run, organization, division, status, practice), indent=2)
    code = tree / "code" / run.benchmark / run.system_id
    exported_code.copy_code(run, code)
    (code / "README.md").write_text(exported_code.readme(run, practice))
    _write_results(run, tree / "results" / run.system_id / run.benchmark, practice)


def export(runs: list[Path], out: Path, organization: str, division: Literal["closed", "open"], status: str,
           dry_run: bool = False, build_root: Path | None = None) -> Path:
    """Write the tree under out/<division>/<organization>; returns that folder. Raises ExportRefused
    (nothing written) when the honesty gate refuses a run and this is not a dry run. build_root: where
    the build stages of command-line runs (`python -m runner --out DIR`) are looked for."""
    _check_arguments(organization, division, status)
    loaded = [Run.load(p, build_root) for p in runs]
    if not loaded:
        raise HarnessError("no runs to export")
    _one_per_benchmark(loaded)
    figures = {r.path: integrity.verify(r.path, r.summary, modes(r)) for r in loaded}
    reasons = {r.path: honesty.refusals(r, division, figures[r.path]) for r in loaded}
    refused = {p: why for p, why in reasons.items() if why}
    if refused and not dry_run:
        raise ExportRefused(f"not exported (use --dry-run to rehearse with these runs):\n{_refusal_text(refused)}")
    root = Path(out) / division / organization
    with _staged(root) as tree:
        for run in loaded:
            practice = f"{PRACTICE}: {'; '.join(reasons[run.path]) or 'dry run'}" if dry_run else None
            _write_run(tree, run, organization, division, status, practice)
        if dry_run:
            (tree / "README.md").write_text(f"# {PRACTICE}\n\nWritten by `--dry-run` to rehearse an export; reasons per "
                                            "system are in its systems/*.json notes. Never submit this tree.\n")
        digests.write(tree)
    return root
