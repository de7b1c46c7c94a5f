"""Performance mode (docs/mlperf-tiny.md 3.6): window 0 of the first 5 files, `infer N W` each, timed by the DUT's
m-lap-us; the median throughput, or the MLC runner's ERROR 1 / ERROR 2 instead of it when the loop
is not valid."""

from __future__ import annotations

import math
import time

import numpy as np
from tqdm import tqdm

from common.eembc_dataset import Entry
from common.errors import DutError
from common.run_rules import MIN_WINDOW_S, PERFORMANCE_WINDOWS
from runner import clock_check
from runner import mlc_format as fmt
from runner.calibration import PACE_PROBE, calibrate, deadline_s, host_pace, timed_infer
from runner.dut import INFER_TIMEOUT_S, Dut, InferResult
from runner.resume import is_number, kept_in_order
from runner.session import Session


def throughput(result: InferResult) -> float:
    """Inferences per second from the DUT's own timestamps (the MLC runner's arithmetic)."""
    if result.elapsed_us is None:
        raise DutError(f"the DUT printed no m-lap-us pair for 'infer {result.iterations} {result.warmups}': "
                       "performance mode needs the performance build (EE_CFG_ENERGY_MODE=0)")
    if result.elapsed_us <= 0:  # the MLC runner would divide by it: a throughput of 0, or negative, would pass as one
        raise DutError(f"the DUT's m-lap-us pair for 'infer {result.iterations} {result.warmups}' gives {result.elapsed_us} us "
                       f"(from {result.start_us} to {result.end_us}): {result.iterations} inferences take time; its timer "
                       "stopped, wrapped or runs backwards (check TIMER_HZ/GTIMER_HZ and the firmware's timer)")
    return result.iterations / (result.elapsed_us / 1_000_000)


def _kept_window(record: dict, entry: Entry) -> str | None:
    """A window kept from an interrupted session, checked from its raw values: its elapsed time is its
    two timestamps apart and positive, its throughput N over that time (a figure is never taken as written)."""
    infer = record["infer"]
    start, end, elapsed = infer.get("start_time"), infer.get("end_time"), infer.get("elapsed_time")
    if not (is_number(elapsed) and elapsed > 0):
        return f"elapsed time {elapsed}, not a positive number of microseconds"
    if not (is_number(start) and is_number(end) and end - start == elapsed):
        return f"elapsed time {elapsed}, not end_time {end} - start_time {start}"
    rate = infer["iterations"] / (elapsed / 1_000_000)  # as throughput() computes it
    if not (is_number(infer.get("throughput")) and math.isclose(infer["throughput"], rate, rel_tol=1e-12)):
        return f"throughput {infer.get('throughput')}, not N / elapsed time = {rate}"
    return None


def _check_clock(session: Session, clock: dict | None, modeled: bool) -> dict | None:
    """The calibration's clock check, in the log and in results.json (a record of its own, beside the
    windows); None where there is none to make."""
    if modeled:
        session.log("clock check: not made: the DUT's clock is the modeled board's (timing=modeled), not a timer")
        return None
    if clock is None:
        session.log("clock check: not made: the last calibration probe had no m-lap-us pair")
        return None
    session.log(clock_check.describe(clock))
    session.results.append({"clock_check": clock, "mode": session.letter})
    return clock


def performance(dut: Dut, entries: list[Entry], session: Session, iterations: int | None, warmups: int,
                target_s: float = MIN_WINDOW_S, min_window_s: float = MIN_WINDOW_S, modeled: bool = False) -> dict:
    """The five windows, N given or calibrated for windows of target_s; writes results.txt.
    min_window_s: the run rules' 10 s; 0 for a DUT with modeled timing, whose windows are exact
    at any length (and never a submission). modeled: the DUT's clock is the modeled board's, so
    the host's time is not its (no clock check; with N given, a short probe times the host).
    Windows an interrupted session finished (session.previous) are taken from its records, with their N."""
    chosen = entries[:PERFORMANCE_WINDOWS]
    kept, iterations = kept_in_order(session, chosen, iterations, "windows", _kept_window)
    pace, clock = None, None  # the host's seconds per inference, for deadlines (calibration.py)
    if iterations is None:
        calibrated = calibrate(dut, chosen[0].windows()[0], target_s)
        iterations, pace = calibrated.iterations, calibrated.pace
        session.log(f"Calibrated iterations per window: {iterations} (target {target_s:g} s; calibration runs not recorded)")
        clock = _check_clock(session, calibrated.clock, modeled)
    elif modeled and len(kept) < len(chosen):
        pace = host_pace(dut, chosen[0].windows()[0], INFER_TIMEOUT_S)
        session.log(f"modeled timing: the host takes {1e3 * pace:.3f} ms per inference (infer {PACE_PROBE} 1, not recorded); "
                    "each window is waited for by that")
    lines, rates = [], []
    for k, r in enumerate(kept, 1):
        rates.append(r["infer"]["throughput"])
        lines += fmt.window_lines(k, iterations, r["infer"]["elapsed_time"], rates[-1])
    loop_start = time.monotonic() - sum(r["infer"]["elapsed_time"] for r in kept) / 1e6  # the DUT's time, at least
    for k, entry in enumerate(tqdm(chosen[len(kept):], desc="performance", unit="window", initial=len(kept),
                                   total=len(chosen)), len(kept) + 1):
        session.log(fmt.loading(entry.file, 0))
        dut.load(entry.windows()[0])
        session.log(fmt.LOAD_COMPLETE)
        # nothing timed yet (N given): as long as the MLC runner waits, or three target windows
        floor_s = INFER_TIMEOUT_S if pace else max(INFER_TIMEOUT_S, 3 * target_s)
        r, host_s = timed_infer(dut, iterations, warmups, deadline_s(iterations + warmups, pace, floor_s))
        pace = host_s / (iterations + warmups)
        session.raw(fmt.running(iterations, warmups))
        rate = throughput(r)
        rates.append(rate)
        session.record({**fmt.file_fields(entry, 1), "infer": fmt.infer_record(r, rate)})
        session.log(f"Performance results for window {k}: {iterations} inferences in {r.elapsed_us / 1e6:.3f} s, "
                    f"{rate:.3f} inf./sec., m-results {r.results}")
        if r.elapsed_us / 1e6 < min_window_s:
            session.log(f"WARNING: window {k} lasted {r.elapsed_us / 1e6:.3f} s; the run rules ask for at least "
                        f"{MIN_WINDOW_S:g} s per window (raise --iterations or --window-seconds)")
        elif r.elapsed_us / 1e6 > INFER_TIMEOUT_S:
            session.log(f"WARNING: window {k} lasted {r.elapsed_us / 1e6:.3f} s; the MLC runner gives up on a reply after "
                        f"{INFER_TIMEOUT_S:g} s, so it could not rerun this (lower --iterations)")
        lines += fmt.window_lines(k, iterations, r.elapsed_us, rate)
    error = None
    if len(chosen) != PERFORMANCE_WINDOWS:
        error = fmt.ERROR_1
        session.results.append({"error": "error 1", "mode": session.letter})
    elif time.monotonic() - loop_start < min_window_s:
        error = fmt.ERROR_2
        session.results.append({"error": "error 2", "mode": session.letter})
    median = None
    if error:
        lines.append(fmt.runner_line(error))
        session.log(f"not a valid performance result: {error}")
    else:
        median = float(np.median(rates))
        lines += fmt.median_throughput_lines(median)
    session.write_results(lines)
    return {"throughput": median, "error": error, "iterations": iterations, "window_throughputs": rates,
            "clock_check": clock}
