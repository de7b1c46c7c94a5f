"""Benchmark: the hls4ml emulator (C generated from hls4ml's ModelGraph, toolchains/hls4ml/emulator.py)
against hls4ml's C simulation and the Keras model's batched float forward pass, on the same test
inputs, on the host CPU (emulated throughput: not FPGA numbers). One row per hls4ml design whose
convert stage has run; the bit-identity figure is the convert gate's own (the emulator against the C
simulation on every test input), and so is the C simulation's rate (it runs at a few to tens of
inferences/s, so it is not run again here).

    .venv/bin/python bench/hls4ml_emulator.py [--build-root build] [--board pynq_z2]
        [--run TASK:MODEL[:TESTSET] ...] [--seconds 2] [--rounds 3]

The emulator and Keras are timed in turn, `rounds` times each, so that load from other processes
falls on both alike: each cell is the median with the range of the rounds, the ratio the median of
the rounds' ratios; the footer gives the machine's load average.

Default runs: every task with its trained model and with the MLPerf reference model (kws on
../shared/datasets/kws01 when it is there). Build them with make task=... [model=reference] to=convert.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.paths import SHARED  # noqa: E402
from pipeline.artifacts import StageError  # noqa: E402
from pipeline.flow import Flow  # noqa: E402

DEFAULT_RUNS = ["ad:trained", "kws:trained", "ic:trained", "vww:trained", "ad:reference",
                f"kws:reference:{SHARED / 'datasets' / 'kws01'}", "ic:reference", "vww:reference"]


def rate(fn, n: int, seconds: float) -> float:
    """Inferences/s of fn (n inferences a call), warmed up once, repeated for at least `seconds`."""
    fn()
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls * n / elapsed


def spread(values: list[float], digits: int = 0) -> str:
    """The median, and the range where there is more than one value."""
    fmt = f"{{:,.{digits}f}}"
    mid = fmt.format(statistics.median(values))
    return mid if len(values) == 1 else f"{mid} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def row(spec: str, board: str, build_root: Path | None, seconds: float, rounds: int) -> list[str]:
    from toolchains.hls4ml import emulator

    task, model, *testset = spec.split(":", 2)
    kwargs = {"build_root": build_root} if build_root else {}
    if testset and Path(testset[0]).is_dir():
        kwargs["testset"] = testset[0]
    flow = Flow(task=task, board=board, flow="hls4ml", model=model, **kwargs)
    name = f"{task} {model}"
    try:
        convert = flow.manifest("convert")["outputs"]
    except StageError as e:
        return [name, "-", "-", "-", "-", f"not built ({e})"]
    emu = convert.get("emulator", {})
    if "none" in emu or not emu:
        return [name, "-", "-", "-", "-", f"no emulator: {emu.get('none', 'a convert stage from before the emulator')}"]
    trained = flow.artifacts("train")
    x = flow.recipe.model_inputs(flow.eembc(), trained)
    keras_model = flow.recipe.load_model(trained)
    lib = flow.artifacts("convert")["convert"] / emulator.LIBRARY
    emu_rates, keras_rates = [], []
    for _ in range(rounds):  # in turn, so that other processes' load falls on both
        emu_rates.append(rate(lambda: emulator.run(lib, x, emu["n_out"]), len(x), seconds))
        keras_rates.append(rate(lambda: keras_model.predict(x, batch_size=1024, verbose=0), len(x), seconds))
    exact = f"{emu['bit_identical_to_csim']:.0%} of {emu['inputs_checked']}"
    return [name, f"{emu['csim_inferences_per_s']:,.1f}", spread(emu_rates), spread(keras_rates),
            spread([e / k for e, k in zip(emu_rates, keras_rates, strict=True)], 2),
            f"{exact} test inputs bit-identical with the C simulation; {len(x)} inputs, {flow.eembc_kind()} data"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-root", type=Path, default=None)
    p.add_argument("--board", default="pynq_z2")
    p.add_argument("--run", nargs="+", default=DEFAULT_RUNS, help="TASK:MODEL[:TESTSET] (default: %(default)s)")
    p.add_argument("--seconds", type=float, default=2.0, help="time each rate over at least this long")
    p.add_argument("--rounds", type=int, default=3, help="time the emulator and Keras in turn this many times")
    args = p.parse_args()
    from frameworks import keras2  # noqa: F401  (Keras 2 before anything loads Keras)

    rows = [row(spec, args.board, args.build_root, args.seconds, max(args.rounds, 1)) for spec in args.run]
    print("| model | C simulation inf/s | emulator inf/s | Keras batched inf/s | emulator / Keras | note |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"\nhost CPU ({os.cpu_count()} cores; load average over 1, 5, 15 min after the runs: {load}), "
          f"{np.__name__} {np.__version__}; the emulator on every core (OpenMP), Keras predict at batch 1024, timed in turn "
          f"{max(args.rounds, 1)} times x {args.seconds:g} s each: median (range); "
          "C simulation: the convert stage's measured rate (hls4ml predict, one core)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
