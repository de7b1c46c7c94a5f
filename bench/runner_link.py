"""Benchmark: the runner's accuracy mode against the link bound of a 115200-baud UART.

Over a real UART the runner is bound by the bytes on the wire. The emulated DUT (stub accelerator:
no model time) is paced like a UART (`dut_host --pace 115200`: 10 bits per byte, each direction);
the runner counts the bytes it sends and receives. Printed: wall time / (bytes x 10 / baud); the
goal is <= 1.1. kws01: the 1000 official files from ../shared when present, else 1000 random
ones; ad01: a subset of windows (all 48 608 would take hours at 115200 baud).

With --mlc TINY_CHECKOUT/benchmark/runner the MLCommons runner (its code, run as it is; see
tests/golden/record_mlc.py for the stand-ins of its USB look-up) does the same accuracy run against
the same paced DUT. Both runners then reach the DUT through a pty that forwards every byte as it
comes and counts them, so each is held to the bytes it put on the wire itself.

First, a modeled table (runner/link_model.py): the wall time of each accuracy mode's official test set
over a 115 200-baud UART behind an FTDI bridge whose latency timer is at its 16 ms default and at 1 ms,
from the runner's own round trips (one `db` chunk of 31 bytes each, acknowledged) and the firmware's
replies; the DUT's and host's own time left out.

    .venv/bin/python bench/runner_link.py [--kws-files 1000] [--ad-windows 200] [--baud 115200] [--mlc DIR] [--model-only]
"""

from __future__ import annotations

import argparse
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
import tty
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from boards import board, firmware  # noqa: E402
from common import provenance  # noqa: E402
from common.paths import SHARED  # noqa: E402
from runner.cli import run  # noqa: E402
from runner.emulated import emulated_dut  # noqa: E402
from runner.link_model import accuracy_link_time  # noqa: E402
from tasks import load_recipe  # noqa: E402


def stub_dut(task: str, out: Path) -> Path:
    recipe = load_recipe(task)
    accel = firmware.stub_accelerator(out / "accel", recipe.stub_accelerator())
    return firmware.build_emulated(board.load("pynq_z2"), recipe.firmware_sources, recipe.firmware_defines(None),
                                   recipe.input_bytes, accel, out)["performance"]


def kws_files(root: Path, n: int) -> tuple[Path, str]:
    official = SHARED / "datasets" / "kws01"
    if official.is_dir() and n <= 1000:
        lines = (official / "y_labels.csv").read_text().splitlines()[:n]
        folder = root / "kws01"
        folder.mkdir(parents=True)
        for line in lines:
            name = line.split(",")[0].strip()
            (folder / name).write_bytes((official / name).read_bytes())
        (folder / "y_labels.csv").write_text("\n".join(lines) + "\n")
        return root, f"{n} official kws01 files"
    rng = np.random.default_rng(0)
    folder = root / "kws01"
    folder.mkdir(parents=True)
    rows = []
    for i in range(n):
        name = f"tst_{i:06d}_{i % 12}.bin"
        (folder / name).write_bytes(rng.integers(-128, 128, 490, dtype=np.int8).tobytes())
        rows.append(f"{name}, 12, {i % 12}")
    (folder / "y_labels.csv").write_text("\n".join(rows) + "\n")
    return root, f"{n} random kws01-shaped files"


class CountingLink:
    """A pty for a host tool, joined to the DUT's pty: each byte forwarded as soon as it comes
    (select without a polling interval) and counted, in both directions."""

    def __init__(self, dut_path: str):
        self.dut = os.open(dut_path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.dut)
        self.host, slave = os.openpty()
        tty.setraw(slave)
        self.path, self._slave = os.ttyname(slave), slave
        self.bytes = 0
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        other = {self.host: self.dut, self.dut: self.host}
        while True:
            ready, _, _ = select.select([self.host, self.dut, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            for fd in ready:
                data = os.read(fd, 65536)
                os.write(other[fd], data)
                self.bytes += len(data)

    def close(self) -> None:
        os.write(self._stop_w, b"x")
        self._thread.join()
        for fd in (self.dut, self.host, self._slave, self._stop_r, self._stop_w):
            os.close(fd)


MLC_SCRIPT = "  script:\n    - loop:\n      - download\n      - infer 1 0\n"  # its accuracy script, no resets


def mlc_accuracy(runner_dir: Path, port: str, data: Path, model_id: str, work: Path) -> None:
    from tests.golden.record_mlc import LAUNCHER

    work.mkdir(parents=True)
    (work / "devices.yaml").write_text("- name: dut\n  type: dut\n  baud: 115200\n  usb:\n    0x0403: 0x6010\n")
    (work / "tests.yaml").write_text(f"{model_id}:\n  name: {model_id}\n  model: {model_id}\n  truth_file: y_labels.csv\n"
                                     + MLC_SCRIPT)
    (work / "launch.py").write_text(LAUNCHER)
    subprocess.run([sys.executable, "launch.py", str(runner_dir), port, "-d", "devices.yaml", "-t", "tests.yaml",
                    "-s", str(data), "-m", "a"], cwd=work, check=True, stdout=subprocess.DEVNULL)


def measured(binary: Path, baud: int, drive) -> tuple[int, float]:
    """(bytes on the wire, wall seconds) of drive(port) against a fresh paced DUT."""
    with emulated_dut(binary, ("--pace", str(baud))) as url:
        time.sleep(0.3)  # past the boot banner, which neither runner is charged for
        link = CountingLink(url)
        try:
            start = time.perf_counter()
            drive(link.path)
            wall = time.perf_counter() - start
        finally:
            link.close()
    return link.bytes, wall


def ad_windows(root: Path, windows: int) -> tuple[Path, str]:
    folder = root / "ad01"
    folder.mkdir(parents=True)
    per_file, rows = 20, []
    for i in range(max(2, windows // per_file)):
        data = np.full(640 + 128 * (per_file - 1), -30.0, dtype="<f4")
        name = f"{'anomaly' if i % 2 else 'normal'}_id_01_{i:08d}_hist_librosa.bin"
        (folder / name).write_bytes(data.tobytes())
        rows.append(f"{name},2,{i % 2},2560,512")
    (folder / "y_labels.csv").write_text("\n".join(rows) + "\n")
    return root, f"{len(rows) * per_file} ad01 windows of 2560 bytes"


# each accuracy mode's official test set: (files, windows per file, bytes per window, values per m-results line)
ACCURACY_SETS = {"ad01 (all 248 files)": (248, 196, 2560, 1), "ad01 (y_labels_alt.csv, 72 files)": (72, 196, 2560, 1),
                 "kws01": (1000, 1, 490, 12), "ic01": (200, 1, 3072, 10), "vww01": (1000, 1, 27648, 2)}
LATENCY_TIMERS_MS = (16, 1)  # an FTDI bridge's default, and what the runner sets on Linux (runner/latency_timer.py)


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


def modeled_table(baud: int) -> str:
    """The modeled wall time of each accuracy mode over the link (runner/link_model.py), as a markdown table."""
    head = " | ".join(f"latency {ms} ms | total at {ms} ms" for ms in LATENCY_TIMERS_MS)
    lines = [f"modeled accuracy-mode wall time over a {baud}-baud UART behind an FTDI bridge (link only: "
             "the DUT's and the host's own time left out)\n",
             f"| test set | windows x bytes | round trips | bytes on the wire | wire time | {head} |",
             "|---" * (5 + 2 * len(LATENCY_TIMERS_MS)) + "|"]
    for name, (files, per_file, nbytes, values) in ACCURACY_SETS.items():
        times = [accuracy_link_time(files * per_file, nbytes, values, baud, ms) for ms in LATENCY_TIMERS_MS]
        cells = " | ".join(f"{_hours(t.latency_s)} | {_hours(t.total_s)}" for t in times)
        lines.append(f"| {name} | {files * per_file:,} x {nbytes:,} | {times[0].round_trips:,} | {times[0].bytes_on_wire:,} | "
                     f"{_hours(times[0].wire_s)} | {cells} |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kws-files", type=int, default=1000)
    p.add_argument("--ad-windows", type=int, default=200)
    p.add_argument("--baud", type=int, default=115200)
    p.add_argument("--mlc", type=Path, help="the MLCommons runner's folder (benchmark/runner of mlcommons/tiny), "
                   "to run it side by side")
    p.add_argument("--model-only", action="store_true", help="print the modeled table only")
    args = p.parse_args()
    print(modeled_table(args.baud) + "\n")
    if args.model_only:
        return 0
    if args.mlc and not (args.mlc / "main.py").is_file():
        p.error(f"{args.mlc} has no main.py: give the benchmark/runner folder of a mlcommons/tiny checkout")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for task, (data, what) in (("kws", kws_files(tmp / "kws_data", args.kws_files)),
                                   ("ad", ad_windows(tmp / "ad_data", args.ad_windows))):
            binary, model_id = stub_dut(task, tmp / f"{task}_dut"), load_recipe(task).model_id
            runners = {"this runner": lambda port: run(port, data, tmp / f"{task}_out", ["accuracy"], provenance.emulated(),
                                                       args.baud, model_id=model_id)}
            if args.mlc:
                runners["MLC runner"] = lambda port: mlc_accuracy(args.mlc.resolve(), port, data, model_id, tmp / f"{task}_mlc")
            for who, drive in runners.items():
                nbytes, wall = measured(binary, args.baud, drive)
                bound = nbytes * 10 / args.baud
                rows.append((task, what, who, nbytes, bound, wall, wall / bound))
    print(f"\naccuracy mode over an emulated {args.baud}-baud UART (stub accelerator; host {sys.platform})\n")
    print("| task | inputs | runner | bytes on the wire | link bound (s) | wall (s) | wall / bound |\n"
          "|---|---|---|---|---|---|---|")
    for task, what, who, nbytes, bound, wall, ratio in rows:
        print(f"| {task} | {what} | {who} | {nbytes:,} | {bound:.1f} | {wall:.1f} | {ratio:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
