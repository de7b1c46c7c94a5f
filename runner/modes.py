"""Performance and accuracy modes, shaped like the MLC runner's test scripts (spec 3.4, 3.6, 3.7)."""

from __future__ import annotations

import math
import time

import numpy as np
from tqdm import tqdm

from runner import metrics
from runner.dataset import Entry
from runner.dut import Dut
from runner.session import Session, stamp

PERF_LOOPS = 5
MIN_WINDOW_S = 10.0
SEPARATOR = "-" * 57


def _record(session: Session, entry: Entry, result, mode: str, throughput: float | None = None) -> None:
    infer = {
        "start_time": result.start_us,
        "end_time": result.end_us,
        "results": result.results,
        "elapsed_time": result.elapsed_us,
        "total_inferences": result.iterations,
        "iterations": result.iterations,
        "warmups": result.warmups,
    }
    if throughput is not None:
        infer["throughput"] = throughput
    session.results.append({
        "file": entry.file, "classes": entry.classes, "class": entry.label,
        "bytes_to_send": entry.bytes_to_send, "stride": entry.stride,
        "total_length": len(entry.data), "mode": mode, "infer": infer,
    })


def calibrate(dut: Dut, window: bytes, target_s: float, probe_s: float = 0.5) -> int:
    """Iterations for one measured window to last about target_s, from probe runs (not reported)
    that grow until they last probe_s; one warm-up each, since a first call may do one-time work."""
    dut.load(window)
    n = 10
    while True:
        r = dut.infer(n, 1)
        elapsed = max(r.elapsed_us or 0, 1)
        if elapsed >= probe_s * 1e6 or n >= 10**7:
            return max(10, math.ceil(target_s * 1.05 * n * 1e6 / elapsed))
        n *= 4


def performance(dut: Dut, entries: list[Entry], session: Session, iterations: int | None, warmups: int,
                target_s: float = MIN_WINDOW_S) -> float:
    """Median throughput (inf/s) over window 0 of the first 5 files; writes results.txt."""
    chosen = entries[:PERF_LOOPS]
    if iterations is None:
        iterations = calibrate(dut, chosen[0].windows()[0], target_s)
        session.log(f"Calibrated iterations per window: {iterations} (target {target_s:g} s)")
    lines, throughputs = [], []
    loop_start = time.monotonic()
    for k, entry in enumerate(tqdm(chosen, desc="performance", unit="window"), 1):
        window = entry.windows()[0]
        session.log(f"Loading file {entry.file} segment 0")
        dut.load(window)
        session.log("Load complete.")
        session.log(f"Running inference with {warmups}/{iterations} (warmup/measured)")
        expected_s = iterations / max(throughputs[-1], 1e-9) if throughputs else target_s
        r = dut.infer(iterations, warmups, timeout_s=max(30.0, 3 * expected_s))
        lines.append(f"Performance results for window {k}")
        if r.elapsed_us is None or r.elapsed_us <= 0:
            lines.append("    ERROR: Incomplete time data, throughput set to 0")
            throughput = 0.0
        else:
            runtime = r.elapsed_us / 1e6
            throughput = iterations / runtime
            lines += [f"    # Inferences : {iterations}", f"    Runtime: {runtime:.6f} sec.", f"    Throughput: {throughput} inf./sec."]
            if runtime > MIN_WINDOW_S:
                lines.append("    Runtime requirements have been met.")
        throughputs.append(throughput)
        _record(session, entry, r, "performance", throughput)
    median = float(np.median(throughputs))
    if len(chosen) != PERF_LOOPS:
        lines.append(f"{stamp()} ulp-mlperf: ERROR 1 - loop_count was not exactly 5.")
        session.results.append({"error": "error 1"})
    elif time.monotonic() - loop_start < MIN_WINDOW_S:
        lines.append(f"{stamp()} ulp-mlperf: ERROR 2 - loop exited before 10 seconds elapsed.")
        session.results.append({"error": "error 2"})
    lines += [f"{stamp()} ulp-mlperf: {SEPARATOR}", f"{stamp()} ulp-mlperf: Median throughput is {median:>10.3f} inf./sec.",
              f"{stamp()} ulp-mlperf: {SEPARATOR}"]
    session.write_results(lines)
    return median


def accuracy(dut: Dut, entries: list[Entry], session: Session) -> dict:
    """Every window of every file, `infer 1 0`; Top-1 and AUC over per-file mean results."""
    total = sum(len(e.windows()) for e in entries)
    per_file: list[list[list[float]]] = []
    with tqdm(total=total, desc="accuracy", unit="window") as bar:
        for entry in entries:
            vectors = []
            for k, window in enumerate(entry.windows()):
                session.log(f"Loading file {entry.file} segment {k}")
                dut.load(window)
                r = dut.infer(1, 0)
                vectors.append(r.results)
                _record(session, entry, r, "accuracy")
                bar.update()
            per_file.append(vectors)
    labels = np.array([int(e.label) for e in entries])
    preds = metrics.per_file_predictions(per_file)
    result = {"top1": metrics.top1(labels, preds), "auc": metrics.auc(labels, preds), "files": len(entries), "inferences": total}
    session.write_results([f"{stamp()} ulp-mlperf: Top 1% = {result['top1']:.1f}", f"{stamp()} ulp-mlperf: AUC = {result['auc']:.3f}"])
    return result
