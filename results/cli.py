"""Command line of the results package.

    python -m results export --run build/ad/hls4ml/pynq_z2/run [--run ...] --organization ORG
                             [--division open|closed] [--status available|preview|rdi] [--out DIR] [--dry-run]
                             [--build-root DIR]
    python -m results export --run build/runs/20250101_120000 --organization ORG     (a python -m runner run)
    python -m results check DIR [--csv summary.csv]
    python -m results report [--build-root build] [--out build/report]

`export` writes the MLPerf Tiny submission tree from runs (one per benchmark and system), with the
code that made each run and a digest list of every file. A run is a pipeline run stage, or the --out
folder of `python -m runner` on a board: its manifest.json names the build key the DUT reported, and
the export takes the flow whose build stage has that key (under --build-root); a DUT that reports no
key, or a key no build stage has, is a one-line error. Every figure is first recomputed
from the run's raw records: a missing, empty, truncated or edited result file stops the export. A
run that was not measured on a board, on an official test set, with valid windows (and, for
--division closed, the reference model at the quality target) is refused with the reason, as is a
runner run whose DUT did not itself report m-platform-[board] (an emulated or QEMU DUT), unless
--dry-run, which writes the same tree marked as practice. `check` applies the submission checker's
rules and the digest list. `report` writes the comparison of every run in the build tree with the
published FPGA results: comparison.md/.csv, plots and a standalone index.html; a run folder it cannot
read is listed with the reason.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common.errors import HarnessError
from common.paths import build_root
from results import checker, page, submission


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m results", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export", help="write a submission tree from runs")
    e.add_argument("--run", type=Path, action="append", required=True,
                   help="a run stage folder (build/<task>/<flow>/<board>/run)")
    e.add_argument("--organization", required=True)
    e.add_argument("--division", choices=["open", "closed"], default="open")
    e.add_argument("--status", choices=["available", "preview", "rdi"], default="available")
    e.add_argument("--out", type=Path, default=None, help="default: <build root>/submission")
    e.add_argument("--dry-run", action="store_true", help="write the tree even for refused runs, marked as practice")
    e.add_argument("--build-root", type=Path, default=None, help="where the build stage of a python -m runner run is looked "
                   "for by the key its DUT reported (default: $BUILD_ROOT or build/ in the repository)")
    c = sub.add_parser("check", help="check a submission tree")
    c.add_argument("input", type=Path)
    c.add_argument("--csv", type=Path, default=Path("summary.csv"))
    r = sub.add_parser("report", help="compare every run with the published FPGA results")
    r.add_argument("--build-root", type=Path, default=None, help="default: $BUILD_ROOT or build/ in the repository")
    r.add_argument("--out", type=Path, default=None, help="default: <build root>/report")
    args = p.parse_args(argv)
    try:
        return _command(args)
    except HarnessError as err:
        print(f"results: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # a path given that cannot be read or written: --out a file, --csv in a missing folder
        print(f"results: {err.strerror or err}: {err.filename or ''}", file=sys.stderr)
        return 1


def _command(args: argparse.Namespace) -> int:
    if args.command == "report":
        root = args.build_root or build_root()
        if not root.is_dir():
            raise HarnessError(f"--build-root {root} is not a folder: give the build tree the pipeline wrote (build/)")
        written = page.write(root, args.out or root / "report")
        print(f"runs used ({len(written['runs'])}):" + "".join(f"\n  {r}" for r in written["runs"]) if written["runs"]
              else f"no finished runs under {root}: the table holds the published results only")
        for path, why in written["broken"]:
            print(f"results: not in the report (broken run): {why}", file=sys.stderr)
        print(f"wrote {written['page']} with {len(written['figures'])} plots"
              + (f"; {len(written['broken'])} broken run(s) listed on the page" if written["broken"] else ""))
        return 0
    if args.command == "export":
        out = args.out or build_root() / "submission"
        root = submission.export(args.run, out, args.organization, args.division, args.status, args.dry_run, args.build_root)
        print(f"wrote {root}{' (PRACTICE: not a submission)' if args.dry_run else ''}")
        report = checker.check(out)
    else:
        report = checker.check(args.input, args.csv)
    for finding in report.findings:
        print(finding, file=sys.stderr if finding.level == "error" else sys.stdout)
    for row in report.rows:
        print(f"OK {row['Division']}/{row['Organization']}/{row['SystemDesc']}/{row['Model']}: "
              f"{row['Result']} inf./sec., accuracy {row['Accuracy']}")
    print("checker: submission looks OK" if report.ok else "checker: submission has errors")
    return 0 if report.ok else 1
