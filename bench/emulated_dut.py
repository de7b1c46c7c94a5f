"""Benchmark: how fast the emulated board answers, per stage of one ad01 window.

Measures (host CPU, emulated DUT; not FPGA numbers): the `name` round trip over the pty, loading
one 2560-byte window through `db` (83 commands), and accelerator emulation throughput from the
DUT's own m-lap-us timestamps. Needs a built flow (make task=ad board=pynq_z2 to=build).

    .venv/bin/python bench/emulated_dut.py [--build-root build] [--task ad] [--board pynq_z2]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.flow import Flow  # noqa: E402
from runner.dut import Dut  # noqa: E402
from runner.emulated import emulated_dut  # noqa: E402
from runner.transport import SerialTransport  # noqa: E402


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-root", type=Path, default=None)
    p.add_argument("--task", default="ad")
    p.add_argument("--board", default="pynq_z2")
    args = p.parse_args()
    flow = Flow(task=args.task, board=args.board, data="synthetic",
                **({"build_root": args.build_root} if args.build_root else {}))
    binary = flow.emulated_dut()
    window = next((flow.artifacts("data")["eembc"] / flow.recipe.model_id).glob("*.bin")).read_bytes()[:flow.recipe.input_bytes]
    rows = []
    with emulated_dut(binary) as url, SerialTransport(url) as t:
        dut = Dut(t)
        rt = timed(lambda: dut.command("name"), 200)
        rows.append(("name round trip (pty)", f"{statistics.median(rt) * 1e6:.0f} us", "median of 200"))
        lt = timed(lambda: dut.load(window), 20)
        rows.append(("load one 2560-byte window (83 db commands)", f"{statistics.median(lt) * 1e3:.1f} ms", "median of 20"))
        r = dut.infer(2000, 10)
        rows.append(("emulated inference (DUT m-lap-us)", f"{2000 / (r.elapsed_us / 1e6):.0f} inf/s", "infer 2000 10"))
        at = timed(lambda: (dut.load(window), dut.infer(1, 0)), 20)
        rows.append(("accuracy-mode window (load + infer 1 0)", f"{statistics.median(at) * 1e3:.1f} ms", "median of 20"))
    rows.append(("bench process peak RSS (runner, pipeline imported)",
                 f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", "this process"))
    width = max(len(r[0]) for r in rows)
    print(f"{'measurement (host CPU, emulated DUT)':<{width}} | value | note")
    for name, value, note in rows:
        print(f"{name:<{width}} | {value} | {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
