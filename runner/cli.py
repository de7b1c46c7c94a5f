"""Command line of the EEMBC host runner.

    python -m runner --port /dev/ttyUSB1 --dataset DIR --mode p a --out runs/x
    python -m runner --emulated build/ad-hls4ml-pynq_z2/build/dut_host --dataset DIR

The dataset folder holds <model id>/y_labels.csv and the .bin files; the DUT's `profile` reply
picks the model id. Each mode writes <out>/<performance|accuracy>/{log.txt,results.txt,results.json}.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from pathlib import Path

from runner import dataset as eembc_dataset
from runner import modes
from runner.dut import Dut
from runner.emulated import emulated_dut
from runner.session import Session
from runner.transport import DutError, SerialTransport

log = logging.getLogger("runner")
MODE_NAMES = {"p": "performance", "a": "accuracy", "performance": "performance", "accuracy": "accuracy"}


def run(url: str, dataset_path: Path, out: Path, mode_list: list[str], baud: int = 115200,
        iterations: int | None = None, warmups: int = 10, target_s: float = modes.MIN_WINDOW_S) -> dict:
    summary: dict = {"port": url}
    with SerialTransport(url, baud) as transport:
        dut = Dut(transport)
        summary["name"] = dut.name()
        # emulated DUTs say so in their name (boards/emulated/hal): their timings are host CPU time
        summary["dut_kind"] = "emulated" if summary["name"].endswith("_emulated") else "hardware"
        summary["firmware"], summary["model"] = dut.profile()
        entries = eembc_dataset.load(dataset_path, summary["model"])
        for mode in mode_list:
            name = MODE_NAMES[mode]
            session = Session(out / name, name)
            transport.echo = session.raw
            session.log(f"DUT {summary['name']} ({summary['dut_kind']}) on {url}, model {summary['model']}, firmware {summary['firmware']}")
            try:
                if name == "performance":
                    summary["throughput"] = modes.performance(dut, entries, session, iterations, warmups, target_s)
                else:
                    summary.update(modes.accuracy(dut, entries, session))
            finally:
                transport.echo = None
                session.close()
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m runner", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", help="serial port or pyserial URL (e.g. /dev/ttyUSB1, socket://127.0.0.1:5555)")
    where.add_argument("--emulated", type=Path, help="start this emulated DUT binary and connect to it")
    p.add_argument("--dataset", type=Path, required=True, help="folder holding <model id>/y_labels.csv")
    p.add_argument("--mode", nargs="+", default=["p", "a"], choices=sorted(MODE_NAMES), help="modes to run (default: p a)")
    p.add_argument("--out", type=Path, default=Path("build/runs/session"), help="output folder (default: %(default)s)")
    p.add_argument("--baud", type=int, default=115200)
    p.add_argument("--iterations", type=int, default=None, help="measured inferences per window (default: calibrated)")
    p.add_argument("--warmups", type=int, default=10)
    p.add_argument("--window-seconds", type=float, default=modes.MIN_WINDOW_S,
                   help="target length of a calibrated performance window (run rules: >= 10 s)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        with (emulated_dut(args.emulated) if args.emulated else contextlib.nullcontext(args.port)) as url:
            summary = run(url, args.dataset, args.out, args.mode, args.baud, args.iterations, args.warmups, args.window_seconds)
    except DutError as e:
        print(f"runner: {e}", file=sys.stderr)
        return 1
    for key, value in summary.items():
        print(f"{key}: {value}")
    return 0
