"""Command line of the sweep (the Makefile's `make sweep` calls it).

    python -m sweep --task kws --flow finn --space tasks/kws/sweep.yaml [--board pynq_z2] [--data auto|synthetic|PATH]
                    [--trials N] [--workers N] [--cluster ADDRESS] [--resume [--retry-failed]] [--name NAME]
                    [--build-root DIR]

Each trial is the pipeline on one design of the space (data -> train -> convert by default), its
stages kept by key under <build root>/sweep/<task>/stages/ (shared by every sweep of the task: a
stage any trial already made is not made again). The sweep's own folder,
<build root>/sweep/<task>/<name>/ (name: <flow>-<board>[-<space file stem>]), holds journal.jsonl
(one line per finished trial), logs/trial-NNNN.log, results.md, results.csv and the Pareto figures.

Ray runs the trials: embedded on this machine unless --cluster (or $RAY_ADDRESS) names a Ray
cluster (docs/sweep.md: starting one, what a node needs). A killed sweep goes on with --resume:
the trials in the journal are not run again."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import tasks
import toolchains
from boards import board as boards
from common.errors import HarnessError
from common.paths import build_root
from sweep import plots, table
from sweep.engine import run_sweep
from sweep.space import Space


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"expected a whole number > 0, got '{text}'")
    return int(text)


def sweep_folder(root: Path, space: Space, name: str | None) -> Path:
    stem = "" if space.path.stem == "sweep" else f"-{space.path.stem}"
    return root / "sweep" / space.task / (name or f"{space.flow}-{space.board}{stem}")


def finish(space: Space, folder: Path, records: list[dict]) -> tuple[Path, Path, list[Path]]:
    """The table and figures of everything the journal holds; prints the table and the promote lines."""
    figures = plots.draw_all(space, records, folder)
    md, csv = table.write(space, records, folder, figures)
    return md, csv, figures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sweep", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", required=True, help=f"{' | '.join(tasks.available())}")
    p.add_argument("--flow", default="hls4ml", help=f"{' | '.join(toolchains.available())} (default: %(default)s)")
    p.add_argument("--board", default="pynq_z2", help=f"{' | '.join(boards.available())} (default: %(default)s)")
    p.add_argument("--data", default="auto", help="auto | synthetic | PATH of a real dataset (default: %(default)s)")
    p.add_argument("--space", type=Path, required=True, help="the design space, e.g. tasks/kws/sweep.yaml")
    p.add_argument("--trials", type=_positive, help="trials in all (default: the space's search.trials; grid: the whole grid)")
    p.add_argument("--workers", type=_positive, help="trials at once (default: as many as the cluster's CPUs hold)")
    p.add_argument("--cluster", help="a Ray cluster's address (default: $RAY_ADDRESS, else Ray embedded on this machine)")
    p.add_argument("--resume", action="store_true", help="go on with the sweep's journal: finished trials are not run again")
    p.add_argument("--retry-failed", action="store_true", help="with --resume: run the journal's failed trials again "
                   "(not those a gate stopped or that do not fit: those are what the design is)")
    p.add_argument("--name", help="the sweep's folder name (default: <flow>-<board>[-<space file stem>])")
    p.add_argument("--build-root", type=Path, default=None, help="default: $BUILD_ROOT or build/ in the repository")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("pipeline").setLevel(logging.WARNING)  # a Flow made to check the space logs its data choice once
    try:
        space = Space(args.space, args.task, args.flow, args.board, args.data)
        root = (args.build_root or build_root()).resolve()
        folder = sweep_folder(root, space, args.name)
        run = run_sweep(space, folder, root / "sweep" / space.task / "stages", args.trials, args.workers, args.cluster,
                        args.resume, args.retry_failed)
    except HarnessError as e:
        print(f"sweep: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sweep: interrupted; every finished trial is in the journal: resume=1 (--resume) goes on", file=sys.stderr)
        return 130
    finally:
        _disconnect()
    md, csv, figures = finish(space, folder, run.records)
    print(md.read_text())
    print(f"sweep: ran {len(run.ran)} trial(s) now, {len(run.records)} of {run.total} in the journal; "
          f"{md}, {csv}{''.join(', ' + str(f) for f in figures)}")
    return 0


def _disconnect() -> None:
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        ray.shutdown()
