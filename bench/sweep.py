"""Benchmark: a 16-trial sweep on Ray with 1 and with 2 workers (the speed-up on this machine), and
the engine's overhead per trial against running the same stages directly (run_stages in this
process, one trial after the other, into the same kind of key-addressed store).

The sweep is the ad01 FINN flow on a tiny synthetic ToyCar set: 4 weight widths x 4 FINN target
throughputs, 2-epoch training (4 trained models, 16 conversions with estimates). Each of the three
runs starts from an empty store, so every stage really runs in each; times are wall-clock on the
host (the sweep's figures themselves are modeled, synthetic data).

    .venv/bin/python bench/sweep.py [--workers 1 2] [--trials 16] [--keep]
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.paths import build_root  # noqa: E402

SPACE = """
task: ad
fixed:
  data.synthetic.machine_ids: [1, 2]
  data.synthetic.train_per_id: 6
  data.synthetic.test_normal_per_id: 3
  data.synthetic.test_anomaly_per_id: 3
flows:
  finn:
    objectives: [accuracy, latency_us, lut]
    fixed: {brevitas.train.epochs: 2, brevitas.min_auc.synthetic: 0.01, finn.check_inputs: 20}
    parameters:
      brevitas.quant.weight_bits: {values: [2, 3, 4, 6]}
      finn.target_fps: {values: [50000, 100000, 200000, 400000]}
"""


def direct(space, store: Path, trials: int) -> float:
    """The same trials' stages, run_stages in this process, serially: no Ray, no journal, no records."""
    from pipeline.execute import run_stages
    from sweep.search import make_search
    from sweep.store import StoreFlow

    search = make_search(space, trials, [])
    start = time.perf_counter()
    while (proposal := search.next([])) is not None:
        flow = StoreFlow(**space.flow_kwargs(), overrides=space.overrides(proposal[1]), store=store, build_root=store.parent)
        run_stages(flow, stop=space.stop)
    return time.perf_counter() - start


def engine(space, root: Path, workers: int, trials: int) -> tuple[float, float, int]:
    """(seconds for the whole sweep, of which Ray's start, trials run)."""
    from sweep.engine import connect, run_sweep

    start = time.perf_counter()
    connect(None)  # before anything imports ray: the embedded instance on the loopback
    started = time.perf_counter() - start
    import ray

    try:
        run = run_sweep(space, root / "sweep", root / "stages", trials=trials, workers=workers)
    finally:
        ray.shutdown()
    return time.perf_counter() - start, started, len(run.ran)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--trials", type=int, default=16, help="the first N of the 16 designs (a quick check of the bench itself)")
    p.add_argument("--keep", action="store_true", help="keep the three build folders (under the build root's bench/)")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from sweep.space import Space

    parent = build_root() / "bench"
    parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="sweep-", dir=parent))
    (work / "space.yaml").write_text(SPACE)
    space = Space(work / "space.yaml", "ad", "finn", "pynq_z2", "synthetic")
    trials = min(args.trials, len(space.grid()))
    try:
        print(f"bench/sweep.py: {trials} trials (ad finn, tiny synthetic set, 2 epochs) from an empty store each run ...",
              flush=True)
        t_direct = direct(space, work / "direct" / "stages", trials)
        print(f"  direct (run_stages in this process, serially): {t_direct:.1f} s", flush=True)
        rows = []
        for n in args.workers:
            total, started, ran = engine(space, work / f"ray-{n}", n, trials)
            rows.append((n, total, started, ran))
            print(f"  Ray, {n} worker(s): {total:.1f} s ({started:.1f} s of it starting Ray), {ran} trials", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    one = next((total for n, total, _, _ in rows if n == 1), None)
    print("\n| run | wall-clock (s, host) | per trial (s) | speed-up vs 1 worker | engine overhead per trial vs direct (s) |")
    print("|---|---|---|---|---|")
    print(f"| direct, serial | {t_direct:.1f} | {t_direct / trials:.2f} | | |")
    for n, total, _, _ in rows:
        speedup = f"{one / total:.2f}x" if one else ""
        print(f"| Ray, {n} worker(s) | {total:.1f} | {total / trials:.2f} | {speedup} | "
              f"{(total - t_direct) / trials:+.2f}{' (serial: the engine alone)' if n == 1 else ''} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
