"""Benchmark: the runner's accuracy mode against the link bound of a 115200-baud UART.

Over a real UART the runner is bound by the bytes on the wire. The emulated DUT (stub accelerator:
no model time) is paced like a UART (`dut_host --pace 115200`: 10 bits per byte, each direction);
the runner counts the bytes it sends and receives. Printed: wall time / (bytes x 10 / baud); the
goal is <= 1.1. kws01: the 1000 official files from ../shared when present, else 1000 random
ones; ad01: a subset of windows (all 48 608 would take hours at 115200 baud).

    .venv/bin/python bench/runner_link.py [--kws-files 1000] [--ad-windows 200] [--baud 115200]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from boards import board, firmware  # noqa: E402
from common import provenance  # noqa: E402
from common.paths import SHARED  # noqa: E402
from runner.cli import run  # noqa: E402
from runner.emulated import emulated_dut  # noqa: E402
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


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kws-files", type=int, default=1000)
    p.add_argument("--ad-windows", type=int, default=200)
    p.add_argument("--baud", type=int, default=115200)
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for task, (data, what) in (("kws", kws_files(tmp / "kws_data", args.kws_files)),
                                   ("ad", ad_windows(tmp / "ad_data", args.ad_windows))):
            binary = stub_dut(task, tmp / f"{task}_dut")
            with emulated_dut(binary, ("--pace", str(args.baud))) as url:
                start = time.perf_counter()
                summary = run(url, data, tmp / f"{task}_out", ["accuracy"], provenance.emulated(), args.baud,
                              model_id=load_recipe(task).model_id)
                wall = time.perf_counter() - start
            bound = summary["accuracy"]["link_bytes"] * 10 / args.baud
            rows.append((task, what, summary["accuracy"]["link_bytes"], bound, wall, wall / bound))
    print(f"\naccuracy mode over an emulated {args.baud}-baud UART (stub accelerator; host {sys.platform})\n")
    print(f"| task | inputs | bytes on the wire | link bound (s) | wall (s) | wall / bound |\n|---|---|---|---|---|---|")
    for task, what, nbytes, bound, wall, ratio in rows:
        print(f"| {task} | {what} | {nbytes:,} | {bound:.1f} | {wall:.1f} | {ratio:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
