"""Command line of the pipeline (the Makefile calls it).

    python -m pipeline run --task ad --board pynq_z2 [--flow hls4ml] [--data auto|synthetic|PATH]
                           [--model trained|reference|MODEL.onnx] [--testset EEMBC_FOLDER]
                           [--input-scale S] [--input-zero-point Z] [--dut emulated|qemu|usb|PORT]
                           [--from STAGE] [--to STAGE] [--force] [--resume] [--set KEY=VALUE ...]
    python -m pipeline dut --task ad --board pynq_z2 [--tcp PORT] [--energy]
    python -m pipeline program --task ad --board arty_a7 [--flow hls4ml] [--energy] [--flash]

Stages: data -> train -> convert -> build -> run -> report, written under the build root
(build/ in the repository, or $BUILD_ROOT): build/<task>/data, build/<task>/<flow>/train and
build/<task>/<flow>/<board>/{convert,build,run,report}. `dut` starts the emulated DUT of a built
flow and prints the serial path it listens on, for any EEMBC-compatible host tool. `program` puts a
built flow on the board with the vendor tools (boards/vendor/): over JTAG, or (--flash) into its
boot flash so that it starts on its own at power-on; it writes under <board>/vivado/ beside build/.

A QONNX model trained elsewhere runs with flow=finn: --model path/to/model.onnx with its own test
folder (--testset) and the scale that maps the test files' integers to its float input:
x = (integer - Z) * S, e.g. the scale of the model's input quantizer the files were quantized with.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from pathlib import Path

import yaml

import tasks
import toolchains
from boards import board as boards
from common.errors import ConfigError, HarnessError
from common.paths import build_root
from pipeline.execute import run_stages
from pipeline.flow import DEFAULT_MODES, RUN_MODES, Flow
from pipeline.layout import STAGES


def _overrides(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set expects KEY=VALUE (e.g. train.epochs=2), got '{pair}'")
        out[key] = yaml.safe_load(value)
    return out


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"a TCP port is a number from 0 to 65535, got '{text}'")
    return int(text)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"expected a whole number > 0, got '{text}'")
    return int(text)


def _seconds(text: str) -> float:
    """A window length: float() also takes nan, inf and negatives, which the runner's calibration cannot use."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got '{text}'")
    return value


def _program(flow: Flow, energy: bool, flash: bool) -> int:
    """The board's vendor steps on the build stage's artifacts; the tools are checked before the
    artifacts are looked for, so a machine without them says that first."""
    from boards.vendor.program import program

    out = program(flow.board_cfg, lambda: flow.artifacts("build"), flow.root / "vivado", toolchain=flow.toolchain,
                  convert_dir=lambda: flow.artifacts("convert").get("convert"), energy=energy, flash=flash,
                  build_key=lambda: flow.manifest("build")["key"])
    print(f"programmed the {flow.board} ({'flash' if flash else 'JTAG'}); files in {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--task", required=True, help=f"{' | '.join(tasks.available())}: a folder under tasks/")
    common.add_argument("--board", required=True, help=f"{' | '.join(boards.available())}: a folder under boards/")
    common.add_argument("--flow", default="hls4ml", help=f"{' | '.join(toolchains.available())}: the toolchain, "
                        f"a folder under toolchains/ (default: %(default)s)")
    common.add_argument("--data", default="auto", help="auto | synthetic | PATH of a real dataset (default: %(default)s)")
    common.add_argument("--model", default="trained", help="trained | reference: the MLPerf pretrained model, "
                        "where the task has one | a QONNX file (.onnx) trained elsewhere (default: %(default)s)")
    common.add_argument("--testset", help="an EEMBC test folder (<model id>/y_labels.csv + .bin files) to check and run on")
    common.add_argument("--input-scale", type=float, help="a QONNX model's input scale: its float input is (test file integer "
                        "- zero point) * S")
    common.add_argument("--input-zero-point", type=int, default=0, help="the test files' zero point (default: %(default)s)")
    common.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a task.yaml value")
    common.add_argument("--build-root", type=Path, default=None, help="default: $BUILD_ROOT or build/ in the repository")

    r = sub.add_parser("run", parents=[common], help="run the stages")
    r.add_argument("--dut", default="emulated", help="emulated (the host build) | qemu (the board's firmware in QEMU, "
                   "the model in software) | usb (the board's UART found by board.yaml's USB id and interface, "
                   "confirmed by its name) | serial port or pyserial URL of a board")
    r.add_argument("--timing", default="host", choices=["host", "modeled"], help="host: the DUT's own clock; modeled: "
                   "m-lap-us advances by the modeled board latency per inference (emulated and QEMU DUTs)")
    r.add_argument("--from", dest="start", choices=STAGES, help="re-run from this stage")
    r.add_argument("--to", dest="stop", choices=STAGES, help="stop after this stage")
    r.add_argument("--force", action="store_true", help="re-run stages even when their inputs are unchanged")
    r.add_argument("--iterations", type=_positive, help="measured inferences per performance window (default: calibrated)")
    r.add_argument("--window-seconds", type=_seconds, default=10.0, help="calibrated window length (run rules: >= 10 s)")
    r.add_argument("--modes", nargs="+", default=DEFAULT_MODES, choices=RUN_MODES,
                   help="runner modes (default: performance accuracy; energy: modeled, with timing=modeled)")
    r.add_argument("--resume", action="store_true", help="go on with the run (every mode) an interruption left in run.partial")

    d = sub.add_parser("dut", parents=[common], help="start the emulated DUT of a built flow")
    d.add_argument("--tcp", type=_port, help="listen on 127.0.0.1:PORT instead of a pty (0: any free port)")
    d.add_argument("--energy", action="store_true", help="the energy-mode build (no m-lap-us; timestamp pin pulses)")

    g = sub.add_parser("program", parents=[common], help="program the board with a built flow (Vivado/Vitis tools)")
    g.add_argument("--energy", action="store_true", help="the energy-mode build (on the Arty: its 9600 baud UART on Pmod JA)")
    g.add_argument("--flash", action="store_true", help="write the boot flash (Arty: bitstream, bootloader and firmware; "
                   "Pynq-Z2: BOOT.BIN into the QSPI flash) instead of loading over JTAG")

    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        if args.build_root is not None and args.build_root.exists() and not args.build_root.is_dir():
            raise ConfigError(f"--build-root {args.build_root} is a file, not a folder")
        flow = Flow(task=args.task, board=args.board, flow=args.flow, data=args.data, model=args.model, testset=args.testset,
                    input_scale=args.input_scale, input_zero_point=args.input_zero_point,
                    build_root=args.build_root or build_root(), overrides=_overrides(args.set),
                    **({"dut": args.dut, "timing": args.timing, "iterations": args.iterations,
                        "window_seconds": args.window_seconds, "modes": args.modes,
                        "resume": args.resume} if args.command == "run" else {}))
        if args.command == "run":
            run_stages(flow, args.start, args.stop, args.force)
            return 0
        if args.command == "program":
            return _program(flow, args.energy, args.flash)
        binary = flow.emulated_dut("energy" if args.energy else "performance")
    except HarnessError as e:
        print(f"pipeline: {e}", file=sys.stderr)
        return 1
    os.execv(binary, [str(binary), *(["--tcp", str(args.tcp)] if args.tcp is not None else [])])
