"""Command line of the EEMBC host runner.

    python -m runner --port /dev/ttyUSB1 --dataset DIR --mode p a --out runs/x
    python -m runner --devices devices.yaml --dataset DIR --mode a      (an MLC runner devices file)
    python -m runner --emulated build/ad/hls4ml/pynq_z2/build/dut_host --dataset DIR
    python -m runner --port /dev/ttyACM0 --interface stm32h573i-dk --baud 9600 --monitor /dev/ttyACM1 \
                     --mode e --dataset DIR                                     (energy mode on the bench)
    python -m runner --port /dev/ttyACM0 --interface arduino --baud 9600 --monitor joulescope --mode e --dataset DIR

The dataset folder holds <model id>/y_labels.csv (or the list --labels names, e.g. ad01's
y_labels_alt.csv of 72 files, recorded as the run's test list) and the .bin files; it is checked before the DUT
is contacted, and the DUT's `profile` reply picks the model id. Each mode writes
<out>/<performance|accuracy|energy>/{log.txt,results.txt,results.json} in the MLC runner's formats;
the exit status is 1 when a result is not valid (performance's ERROR 1/2, energy's ERRORs, accuracy
files left out of the metrics).
What the DUT is (a board, QEMU, the emulated board) is what its `profile` says (this harness's
firmware reports m-platform-[...] and the build key it was made with); for a DUT that does not say,
what you say it is (--dut-kind; --emulated implies it). Both are recorded with the results, never
guessed from the DUT's name.

Every run leaves <out>/manifest.json (runner/run_manifest.py): what the DUT said it is, the provenance,
each mode's summary, the test folder and each mode's command. `python -m results export --run <out>`
exports it when the DUT itself reported m-platform-[board] and a build key whose build stage is in the
build root, on --data-kind real over an official test set. Modes run into one --out by separate
commands (energy through the interface board after p a over the UART) are one run when the DUT is
the same; modes another DUT made there are dropped from the record, saying so.
"""

from __future__ import annotations

import argparse
import logging
import math
import shlex
import sys
import time
from pathlib import Path

from common import eembc_dataset
from common import provenance as prov
from common.errors import ConfigError, DutError, HarnessError
from common.paths import build_root
from common.run_rules import MIN_WINDOW_S
from runner import devices as device_files
from runner import run_manifest
from runner.connect import ConnectSpec, MonitorSpec, connect, group_modes
from runner.dut import Dut, short
from runner.modes import MODE_NAMES
from runner.modes.accuracy import accuracy
from runner.modes.energy import energy
from runner.modes.performance import performance
from runner.session import Session
from runner.transport import SerialTransport

log = logging.getLogger("runner")


def run(url: str, dataset_path: Path, out: Path, mode_list: list[str], provenance: prov.Provenance,
        baud: int = 115200, iterations: int | None = None, warmups: int = 10,
        target_s: float = MIN_WINDOW_S, resume: bool = False, model_id: str | None = None, monitor=None,
        interface: str | None = None, expect_build: str | None = None, labels: str = eembc_dataset.LABELS) -> dict:
    """Run the modes against the DUT at url; returns the summary. Raises HarnessError subclasses.
    With resume, each mode goes on from the journal an interrupted run left in out. With
    model_id, only that test folder is read (the others under dataset_path may be incomplete).
    Energy mode needs a started power monitor (runner.monitors); without iterations it calibrates. With
    interface (stm32h573i-dk | arduino), url is the interface board's port and baud the DUT's behind it.
    With expect_build (a build stage's key), a DUT reporting another build, or none, is refused. The
    provenance recorded is what the DUT says it is where it says so (runner/dut.py Identity). labels:
    the test list in each <model id>/ folder (y_labels_alt.csv: ad01's alternative 72 files), recorded."""
    # read and checked before the DUT is contacted
    datasets = ({model_id: eembc_dataset.load(dataset_path, model_id, labels)} if model_id
                else eembc_dataset.load_all(dataset_path, labels))
    summary: dict = {"port": url, "labels": labels}
    from runner.interface import PassthroughTransport

    link = PassthroughTransport(url, interface, dut_baud=baud) if interface else SerialTransport(url, baud)
    with link as transport:
        dut = Dut(transport)
        identity = dut.identify()
        if expect_build is not None:
            identity.check_build(expect_build, url)
        provenance = identity.provenance(provenance)
        summary.update(identity.summary(), provenance=provenance.model_dump())
        if summary["model"] not in datasets:
            raise DutError(f"the DUT runs model {summary['model']}, but {dataset_path} has only "
                           f"{', '.join(sorted(datasets))} (no {summary['model']}/y_labels.csv)")
        entries = datasets[summary["model"]]
        for mode in mode_list:
            name = MODE_NAMES[mode]
            session = Session(out / name, name, resume=resume)
            transport.echo = session.raw
            session.log(f"DUT {summary['name']} on {url}, model {summary['model']}, firmware {summary['firmware']}, "
                        f"build {short(identity.build)}")
            session.log(f"DUT is: {provenance.describe()}; data: {provenance.data or 'not stated'}")
            session.log(f"test list: {summary['model']}/{labels} ({len(entries)} files)")
            # modeled timing: exact windows at any length, and never a submission: the 10 s rule is moot
            min_window_s = 0.0 if provenance.timing == "modeled" else MIN_WINDOW_S
            if provenance.timing == "modeled" and name != "accuracy":
                session.log("modeled timing: the DUT's time is the modeled board's; the 10 s window rule does not apply")
            try:
                if name == "performance":
                    summary["performance"] = performance(dut, entries, session, iterations, warmups, target_s, min_window_s,
                                                       modeled=provenance.timing == "modeled")
                elif name == "energy":
                    if monitor is None:
                        raise HarnessError("energy mode needs a power monitor "
                                           "(--monitor PORT of an LPM01A, or --monitor joulescope)")
                    summary["energy"] = energy(dut, monitor, entries, session, iterations, warmups, min_window_s, target_s)
                else:
                    summary["accuracy"] = accuracy(dut, entries, session)
                summary[name]["link_bytes"] = transport.bytes_out + transport.bytes_in  # so far, this connection
            except (HarnessError, KeyboardInterrupt) as e:
                session.log(f"ERROR: {e or 'interrupted'}")
                session.log(f"stopped; the {len(session.results)} records received so far are in results.json "
                            f"and {session.journal_path.name} (go on with --resume)")
                raise
            finally:
                transport.echo = None
                session.close()
    return summary


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _seconds(text: str) -> float:
    """A length of time: float() also takes nan, inf and negatives, which calibrate to nonsense."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0, got {text}")
    return value


def _labels_name(text: str) -> str:
    """A labels file's name inside each <model id>/ folder, not a path."""
    if not text or "/" in text or "\\" in text or text in (".", ".."):
        raise argparse.ArgumentTypeError(f"a file name inside <model id>/ (e.g. y_labels_alt.csv), not a path: {text}")
    return text


def _check_out(out: Path) -> None:
    """Refuse an output folder that cannot be made (it, or a folder above it, is a file) before the
    DUT is contacted, rather than fail at the first mode's files."""
    for part in (out, *out.parents):
        if part.exists():
            if not part.is_dir():
                raise ConfigError(f"the output folder {out} cannot be made: {part} is a file")
            return


def _record(out: Path, summary: dict, args: argparse.Namespace, argv: list[str] | None) -> None:
    """The run's manifest in out (run_manifest.py), which `python -m results export --run OUT` reads."""
    command = "python -m runner " + shlex.join(sys.argv[1:] if argv is None else argv)
    params = {**run_manifest.dataset_params(args.dataset, summary["model"], args.labels), "iterations": args.iterations,
              "warmups": args.warmups, "window_seconds": args.window_seconds}
    dropped = run_manifest.write(out, summary, params, {MODE_NAMES[m]: command for m in args.mode})
    if dropped:
        print(f"runner: {out / run_manifest.MANIFEST} no longer lists {', '.join(dropped)}: an earlier run into {out} "
              "made them on another DUT (or with numbers of another kind); their folders are kept but not exported",
              file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m runner", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", help="serial port or pyserial URL (e.g. /dev/ttyUSB1, socket://127.0.0.1:5555)")
    where.add_argument("--emulated", type=Path, help="start this emulated DUT binary and connect to it")
    where.add_argument("--devices", type=Path, help="find the DUT of this MLC-runner devices.yaml by USB VID:PID "
                       "(and check_name); its baud per mode overrides --baud")
    p.add_argument("--dut-kind", choices=["board", "qemu", "host-emulation"], default="board",
                   help="what is on --port: a physical board (default), firmware in QEMU, or an emulated board")
    p.add_argument("--data-kind", choices=["real", "synthetic"], help="what the dataset is, recorded with the results")
    p.add_argument("--dataset", type=Path, required=True, help="folder holding <model id>/y_labels.csv")
    p.add_argument("--labels", type=_labels_name, default=eembc_dataset.LABELS,
                   help="the test list in <model id>/ (default y_labels.csv; y_labels_alt.csv: ad01's alternative 72 files)")
    p.add_argument("--mode", nargs="+", default=["p", "a"], choices=sorted(MODE_NAMES), help="modes to run (default: p a)")
    p.add_argument("--out", type=Path, help="output folder (default: <build root>/runs/<date_time>)")
    p.add_argument("--baud", type=_positive, default=115200)
    p.add_argument("--iterations", type=_positive, default=None, help="measured inferences per window (default: calibrated)")
    p.add_argument("--warmups", type=_count, default=10)
    p.add_argument("--window-seconds", type=_seconds, default=MIN_WINDOW_S,
                   help="target length of a calibrated performance window (run rules: >= 10 s)")
    p.add_argument("--monitor", help="energy mode: the LPM01A power monitor's serial port, or joulescope[:SERIAL] "
                   "for a Joulescope JS220/JS110 on USB")
    p.add_argument("--voltage", type=int, default=3300, help="energy mode: the LPM01A's supply in mV (1800-3300; "
                   "a Joulescope measures the supply instead)")
    p.add_argument("--interface", choices=["stm32h573i-dk", "arduino"],
                   help="--port is this interface board, the DUT behind it (energy mode wiring)")
    p.add_argument("--resume", action="store_true",
                   help="go on from where an interrupted run into the same --out stopped: the files (accuracy), "
                   "windows (performance) and trials (energy) it finished are not run again")
    args = p.parse_args(argv)
    if args.resume and args.out is None:
        p.error("--resume needs the --out folder of the interrupted run")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = args.out or build_root() / "runs" / time.strftime("%Y%m%d_%H%M%S")
    try:
        _check_out(out)
        # a devices file may give each mode its own port and baud rate
        groups = group_modes(args.mode, lambda mode: device_files.find_dut(args.devices, mode) if args.devices
                             else (args.port, args.baud))
        monitor = MonitorSpec.parse(args.monitor, args.voltage) if args.monitor else None
        run_manifest.forget(out, [MODE_NAMES[m] for m in args.mode])  # rewritten below once they are done again
        summary: dict = {}
        for group in groups:
            if args.emulated:
                spec = ConnectSpec("emulated", binary=args.emulated, variant=group.variant, baud=group.baud, monitor=monitor)
            else:
                spec = ConnectSpec("port", url=group.port, variant=group.variant, baud=group.baud, monitor=monitor,
                                   link=args.dut_kind)
            with connect(spec) as connection:
                made = run(connection.url, args.dataset, out, group.modes, connection.provenance(data=args.data_kind),
                           connection.baud, args.iterations, args.warmups, args.window_seconds, resume=args.resume,
                           monitor=connection.monitor, interface=args.interface, labels=args.labels)
            if summary and not run_manifest.same_dut(summary, made):
                _record(out, summary, args, argv)
                raise DutError(f"the DUT on {made['port']} (build {short(made.get('build'))}, {made.get('name')}) is not the "
                               f"one the earlier modes ran on (build {short(summary.get('build'))}, {summary.get('name')}): "
                               "one run is one DUT; run these modes into another --out")
            summary.update(made)
        _record(out, summary, args, argv)
    except HarnessError as e:
        kept = out.is_dir() and any(out.glob("*.journal.jsonl"))  # a mode had begun: its records are journaled
        print(f"runner: {e}" + (f"; what was done is kept in {out}: add --resume to go on" if kept else ""), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"runner: interrupted; what was done is kept in {out}: add --resume to go on", file=sys.stderr)
        return 130
    print(f"results in {out}")
    for key, value in summary.items():
        print(f"{key}: {value}")
    # a result the MLC runner marks not valid (performance's ERROR 1/2, energy's ERRORs) or files left out: not 0
    problems = [summary[mode]["error"] for mode in ("performance", "energy") if summary.get(mode, {}).get("error")]
    unscored = summary.get("accuracy", {}).get("file_errors") or []
    if unscored:
        problems.append(f"{len(unscored)} file(s) could not be scored")
    if problems:
        print(f"runner: the run is not valid: {'; '.join(problems)}", file=sys.stderr)
        return 1
    return 0
