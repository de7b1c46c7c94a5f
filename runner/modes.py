"""Performance, accuracy and energy modes, shaped like the MLC runner's test scripts (spec 3.4,
3.6-3.8): the same commands in the same order, the same records in results.json and the same
results.txt."""

from __future__ import annotations

import math
import time

import numpy as np
from tqdm import tqdm

from common.errors import DatasetError, DutError, DutRejected
from runner import metrics
from common.eembc_dataset import Entry
from runner.dut import INFER_TIMEOUT_S, Dut, InferResult
from runner.session import Session, stamp

PERF_LOOPS = 5
MIN_WINDOW_S = 10.0
MAX_WINDOW_S = 30.0  # the MLC runner's wait for one reply line of `infer` (spec 3.5)
MAX_ITERATIONS = 10_000_000  # the firmware's bound on `infer` counts (EE_MAX_ITERATIONS)
SEPARATOR = "-" * 57
ERROR_1 = "ERROR 1 - loop_count was not exactly 5."
ERROR_2 = "ERROR 2 - loop exited before 10 seconds elapsed."
CALIBRATION_MARGIN = 1.2  # a DUT may run faster in a long window than in a probe (seen: 10 % on the emulated board)


def infer_record(result: InferResult, throughput: float | None = None) -> dict:
    """The `infer` field of a results.json record, keys in the MLC runner's order."""
    infer: dict = {}
    if result.start_us is not None:
        infer["start_time"] = result.start_us
    if result.end_us is not None:
        infer["end_time"] = result.end_us
    infer["results"] = result.results
    if result.elapsed_us is not None:
        infer["elapsed_time"] = result.elapsed_us
    infer.update(total_inferences=result.result_lines, iterations=result.iterations, warmups=result.warmups)
    if throughput is not None:
        infer["throughput"] = throughput
    return infer


def throughput(result: InferResult) -> float:
    """Inferences per second from the DUT's own timestamps (the MLC runner's arithmetic)."""
    if result.elapsed_us is None:
        raise DutError(f"the DUT printed no m-lap-us pair for 'infer {result.iterations} {result.warmups}': "
                       "performance mode needs the performance build (EE_CFG_ENERGY_MODE=0)")
    return result.iterations / (result.elapsed_us / 1_000_000) if result.elapsed_us > 0 else 0.0


def _grown(probe, target_s: float, probe_s: float) -> int:
    """Iterations for a window of at least target_s, from probe(n) -> the seconds n inferences took,
    for n = 10, 40, 160, ... until a probe lasts probe_s (probes are not reported)."""
    n = 10
    while True:
        elapsed = max(probe(n), 1e-6)
        if elapsed >= probe_s or n * 4 > MAX_ITERATIONS:
            return min(MAX_ITERATIONS, max(10, math.ceil(target_s * CALIBRATION_MARGIN * n / elapsed)))
        n *= 4


def calibrate(dut: Dut, window: bytes, target_s: float, probe_s: float = 1.0) -> int:
    """Iterations for one measured window to last at least target_s, timed by the DUT's m-lap-us;
    one warm-up per probe, since a first call may do one-time work."""
    dut.load(window)
    return _grown(lambda n: (dut.infer(n, 1).elapsed_us or 0) / 1e6, target_s, probe_s)


def window_block(k: int, iterations: int, elapsed_us: int, rate: float) -> list[str]:
    """One window's lines in results.txt, exactly as the MLC runner prints them."""
    runtime = elapsed_us / 1e6
    lines = [f"Performance results for window {k}", f"    # Inferences : {iterations}",
             f"    Runtime: {runtime} sec.", f"    Throughput: {rate} inf./sec."]
    if runtime > MIN_WINDOW_S:
        lines.append("    Runtime requirements have been met.")
    return lines


def _resumed(session: Session, chosen: list[Entry], iterations: int | None, what: str) -> tuple[list[dict], int | None]:
    """The windows (trials) an interrupted session finished, in order, and their N: a record counts
    if it is the next file's and has the N of the others (and of --iterations, when given)."""
    kept: list[dict] = []
    for entry, r in zip(chosen, session.previous):
        n = r.get("infer", {}).get("iterations")
        if r.get("file") != entry.file or n is None or (iterations is not None and n != iterations):
            break
        iterations = n
        kept.append(r)
    if session.previous:
        session.keep(kept)
        session.log(f"resuming: {len(kept)} of {len(chosen)} {what} already done"
                    + (f"; {len(session.previous) - len(kept)} earlier record(s) of other files or another N run again"
                       if len(kept) < len(session.previous) else ""))
    return kept, iterations


def performance(dut: Dut, entries: list[Entry], session: Session, iterations: int | None, warmups: int,
                target_s: float = MIN_WINDOW_S, min_window_s: float = MIN_WINDOW_S) -> dict:
    """Window 0 of the first 5 files, `infer N W` each; the median throughput, or the MLC runner's
    ERROR 1 / ERROR 2 instead of it when the loop is not valid. Writes results.txt.
    min_window_s: the run rules' 10 s; 0 for a DUT with modeled timing, whose windows are exact
    at any length (and never a submission). Windows an interrupted session finished
    (session.previous) are taken from its records, with their N."""
    chosen = entries[:PERF_LOOPS]
    kept, iterations = _resumed(session, chosen, iterations, "windows")
    if iterations is None:
        iterations = calibrate(dut, chosen[0].windows()[0], target_s)
        session.log(f"Calibrated iterations per window: {iterations} (target {target_s:g} s; calibration runs not recorded)")
    lines, rates, expected_s = [], [], target_s
    for k, r in enumerate(kept, 1):
        rates.append(r["infer"]["throughput"])
        lines += window_block(k, iterations, r["infer"]["elapsed_time"], rates[-1])
    loop_start = time.monotonic() - sum(r["infer"]["elapsed_time"] for r in kept) / 1e6  # the DUT's time, at least
    for k, entry in enumerate(tqdm(chosen[len(kept):], desc="performance", unit="window", initial=len(kept),
                                   total=len(chosen)), len(kept) + 1):
        session.log(f"Loading file {entry.file} segment 0")
        dut.load(entry.windows()[0])
        session.log("Load complete.")
        r = dut.infer(iterations, warmups, timeout_s=max(INFER_TIMEOUT_S, 3 * expected_s))
        session.raw(f"Running inference with {warmups}/{iterations} (warmup/measured) iterations ... done")
        rate = throughput(r)
        expected_s = iterations / rate if rate > 0 else expected_s
        rates.append(rate)
        session.record({**entry.csv_fields(), "total_length": 1 if entry.windowed else None, "infer": infer_record(r, rate)})
        session.log(f"Performance results for window {k}: {iterations} inferences in {r.elapsed_us / 1e6:.3f} s, "
                    f"{rate:.3f} inf./sec., m-results {r.results}")
        if r.elapsed_us / 1e6 < min_window_s:
            session.log(f"WARNING: window {k} lasted {r.elapsed_us / 1e6:.3f} s; the run rules ask for at least "
                        f"{MIN_WINDOW_S:g} s per window (raise --iterations or --window-seconds)")
        elif r.elapsed_us / 1e6 > MAX_WINDOW_S:
            session.log(f"WARNING: window {k} lasted {r.elapsed_us / 1e6:.3f} s; the MLC runner gives up on a reply after "
                        f"{MAX_WINDOW_S:g} s, so it could not rerun this (lower --iterations)")
        lines += window_block(k, iterations, r.elapsed_us, rate)
    error = None
    if len(chosen) != PERF_LOOPS:
        error = ERROR_1
        session.results.append({"error": "error 1", "mode": session.letter})
    elif time.monotonic() - loop_start < min_window_s:
        error = ERROR_2
        session.results.append({"error": "error 2", "mode": session.letter})
    median = None
    if error:
        lines.append(f"{stamp()} ulp-mlperf: {error}")
        session.log(f"not a valid performance result: {error}")
    else:
        median = float(np.median(rates))
        lines += [f"{stamp()} ulp-mlperf: {SEPARATOR}", f"{stamp()} ulp-mlperf: Median throughput is {median:>10.3f} inf./sec.",
                  f"{stamp()} ulp-mlperf: {SEPARATOR}"]
    session.write_results(lines)
    return {"throughput": median, "error": error, "iterations": iterations, "window_throughputs": rates}


ENERGY_TRIALS = 5
ENERGY_ERROR = "ERROR: Not valid for submission. All inference times must be at least 10 seconds."


def trial_energy(samples: list[float], events: list[tuple[str, int]], iterations: int) -> dict:
    """One trial as the MLC runner scores it (spec 3.8): between the last two timestamp events,
    elapsed = samples / 1 kHz and energy = their sum; per inference = energy / N."""
    numbers = [int(n) for n, _ in events]
    if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        raise DutError(f"the power monitor's timestamp events are not consecutive: {numbers}")
    (_, i0), (_, i1) = events[-2:]
    elapsed_s = (i1 - i0) / 1000.0
    energy_j = float(sum(samples[i0:i1]))
    return {"elapsed_s": elapsed_s, "energy_j": energy_j, "uj_per_inference": 1e6 * energy_j / iterations,
            "power_w": energy_j / elapsed_s if elapsed_s > 0 else None}


def plot_trial(path, samples: list[float], events: list[tuple[str, int]], t: dict) -> None:
    """One trial's power trace with its timestamp events, as a PNG (the MLC runner's energy_inf_NNN.png);
    beside the mode folder, whose files the submission checker fixes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(np.arange(len(samples)) / 1000.0, np.asarray(samples) * 1e3, lw=0.8)  # J per 1 ms sample -> W
    for _, i in events:
        ax.axvline(i / 1000.0, color="tab:red", lw=0.8)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("power (W)")
    ax.set_title(f"{t['elapsed_s']:.3f} s between the last two events, {t['uj_per_inference']:.3f} uJ/inf")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def trial_lines(k: int, t: dict, iterations: int, below: bool) -> list[str]:
    """One trial's lines in results.txt, as the MLC runner's Power Edition prints them."""
    return [f"Energy data for trial {k}", f"  Elapsed time  : {t['elapsed_s']:.3f}" + ("  <<<< below minimum duration" if below else ""),
            f"  Inferences    : {iterations}", f"  Power         : {1e3 * (t['power_w'] or 0):.4f} mW.",
            f"  Total Energy  : {1e6 * t['energy_j']:.3f} uJ", f"  Energy/Inf    : {t['uj_per_inference']:.3f} uJ/inf"]


def calibrate_energy(dut: Dut, monitor, window: bytes, target_s: float, probe_s: float = 1.0) -> int:
    """N for a trial of at least target_s, timed by the power monitor's events (an energy build
    prints no m-lap-us)."""
    def probe(n: int) -> float:
        monitor.trial()
        dut.infer(n, 1, timeout_s=max(INFER_TIMEOUT_S, 3 * MAX_WINDOW_S))
        _, events = monitor.collect(2)
        return (events[-1][1] - events[-2][1]) / 1000.0  # 1 ms samples

    dut.load(window)
    return _grown(probe, target_s, probe_s)


def energy(dut: Dut, monitor, entries: list[Entry], session: Session, iterations: int | None, warmups: int,
           min_window_s: float = MIN_WINDOW_S, target_s: float = MIN_WINDOW_S) -> dict:
    """Window 0 of the first 5 files, `infer N W` each, with the power monitor sampling the DUT's
    supply; the median µJ per inference. N: given, or calibrated for trials of target_s.
    min_window_s: 0 for modeled timing (as in performance). Trials an interrupted session finished
    are scored again from their kept samples, not run again."""
    chosen = entries[:ENERGY_TRIALS]
    kept, iterations = _resumed(session, chosen, iterations, "trials")
    if iterations is None:
        iterations = calibrate_energy(dut, monitor, chosen[0].windows()[0], target_s)
        session.log(f"Calibrated iterations per trial: {iterations} (target {target_s:g} s, timed by the power monitor)")
    lines, per_inference, short = ["Power Edition Output"], [], False
    for k, r in enumerate(kept):  # scored again from their kept samples: the same figures
        t = trial_energy(r["power"]["samples"], [tuple(e) for e in r["power"]["timestamps"]], iterations)
        per_inference.append(t["uj_per_inference"])
        short |= t["elapsed_s"] < min_window_s
        lines += trial_lines(k, t, iterations, t["elapsed_s"] < min_window_s)
    for k, entry in enumerate(tqdm(chosen[len(kept):], desc="energy", unit="trial", initial=len(kept), total=len(chosen)),
                              len(kept)):
        session.log(f"Loading file {entry.file} segment 0")
        dut.load(entry.windows()[0])
        session.log("Load complete.")
        monitor.trial()
        r = dut.infer(iterations, warmups, timeout_s=max(INFER_TIMEOUT_S, 3 * MAX_WINDOW_S))
        samples, events = monitor.collect(2)
        t = trial_energy(samples, events, iterations)
        per_inference.append(t["uj_per_inference"])
        session.record({**entry.csv_fields(), "total_length": 1 if entry.windowed else None, "infer": infer_record(r),
                        "power": {"samples": samples, "timestamps": [[n, i] for n, i in events], "extracted_power": None,
                                  "voltage": monitor.voltage_mv / 1000}})
        plot_trial(session.folder.with_name(f"{session.folder.name}.traces") / f"energy_inf_{k:03d}.png", samples, events, t)
        below = t["elapsed_s"] < min_window_s
        short |= below
        if t["elapsed_s"] > MAX_WINDOW_S:
            session.log(f"WARNING: trial {k} lasted {t['elapsed_s']:.3f} s; the MLC runner gives up on a reply after "
                        f"{MAX_WINDOW_S:g} s (lower --iterations)")
        lines += trial_lines(k, t, iterations, below)
        session.log(f"trial {k}: {t['elapsed_s']:.3f} s, {t['uj_per_inference']:.3f} uJ/inf, m-results {r.results}")
    median = float(np.median(per_inference))
    lines += [SEPARATOR, f"Median energy cost is {median:.4f} uJ/inf.", SEPARATOR]
    if short:
        lines.append(ENERGY_ERROR)
    session.write_results(lines)
    return {"uj_per_inference": median, "trials": per_inference, "iterations": iterations,
            "error": ENERGY_ERROR if short else None}


def _check_result(entry: Entry, result: InferResult) -> str | None:
    """Why a result vector cannot be scored, or None."""
    values = result.results
    if len(values) != entry.result_length:
        return f"{len(values)} values in m-results, expected {entry.result_length}"
    if not all(math.isfinite(v) for v in values):
        return f"non-finite value in m-results {values}"
    if len(values) > 1 and sum(values) == 0:
        return "m-results sums to 0: it cannot be normalised"
    return None


def _finished_files(previous: list[dict], entries: list[Entry]) -> dict[str, list[dict]]:
    """Records of the files an earlier session finished (every window scored, or an error);
    a file it was in the middle of is run again from its first window."""
    names = {e.file for e in entries}
    strangers = sorted({r.get("file") for r in previous} - names)
    if strangers:
        raise DatasetError(f"the journal to resume holds files this dataset does not ({', '.join(map(str, strangers[:3]))}): "
                           "resume with the dataset of the interrupted run, or start afresh without --resume")
    by_file: dict[str, list[dict]] = {}
    for r in previous:
        by_file.setdefault(r["file"], []).append(r)
    return {e.file: by_file[e.file] for e in entries if e.file in by_file and (
        any("error" in r for r in by_file[e.file]) or sum("infer" in r for r in by_file[e.file]) == len(e.windows()))}


def accuracy(dut: Dut, entries: list[Entry], session: Session) -> dict:
    """Every window of every file, `infer 1 0`; Top-1 and AUC over per-file mean results.
    A file whose input the DUT refuses, or whose result cannot be scored, is an error of that file:
    it is recorded and named, left out of the metrics, and the run goes on. Files that an earlier,
    interrupted session finished (session.previous) are taken from its records, not run again."""
    total = sum(len(e.windows()) for e in entries)
    finished = _finished_files(session.previous, entries)
    if session.previous:  # resuming: the journal keeps only the whole files it had
        session.keep([r for e in entries for r in finished.get(e.file, [])])
        session.log(f"resuming: {len(finished)} of {len(entries)} files already done")
    scored: list[tuple[Entry, np.ndarray]] = []
    file_errors: list[str] = []
    with tqdm(total=total, desc="accuracy", unit="window") as bar:
        for entry in entries:
            windows = entry.windows()
            if entry.file in finished:
                records = finished[entry.file]
                problem = next((r["error"] for r in records if "error" in r), None)
                vectors = [r["infer"]["results"] for r in records if "infer" in r]
                bar.update(len(windows))
            else:
                vectors, problem = _run_file(dut, entry, windows, session, bar)
            if problem:
                file_errors.append(f"{entry.file}: {problem}")
            else:
                scored.append((entry, metrics.per_file_prediction(vectors)))
    result = {"files": len(entries), "inferences": total, "file_errors": file_errors, "top1": None, "auc": None}
    if not scored:
        session.log("ERROR: no file could be scored: no accuracy result")
        return result
    labels = np.array([int(e.label) for e, _ in scored])
    preds = np.stack([p for _, p in scored])
    result["top1"] = metrics.top1(labels, preds)
    result["auc"] = metrics.auc(labels, preds)
    lines = [f"{stamp()} ulp-mlperf: Top 1% = {result['top1']:2.1f}"]
    if result["auc"] is None:
        session.log(f"AUC is undefined for these files: their labels do not cover every class ({sorted(set(labels))})")
    else:
        lines.append(f"{stamp()} ulp-mlperf: AUC = {result['auc']:.3f}")
    session.write_results(lines)
    return result


def _run_file(dut: Dut, entry: Entry, windows: list[bytes], session: Session, bar) -> tuple[list[list[float]], str | None]:
    """Every window of one file through the DUT; (result vectors, why the file cannot be scored or None)."""
    base = {**entry.csv_fields(), "total_length": len(windows) if entry.windowed else None}
    vectors, problem = [], None
    for k, window in enumerate(windows):
        session.log(f"Loading file {entry.file} segment {k}")
        try:
            dut.load(window)
            session.log("Load complete.")
            r = dut.infer(1, 0)
        except DutRejected as e:
            problem = f"window {k}: {e}"
        else:
            session.raw("Running inference with 0/1 (warmup/measured) iterations ... done")
            session.record({**base, "infer": infer_record(r)})
            problem = _check_result(entry, r)
            problem = problem and f"window {k}: {problem}"
            vectors.append(r.results)
        bar.update()
        if problem:
            bar.update(len(windows) - k - 1)
            session.record({**base, "error": problem})
            session.log(f"ERROR: {entry.file} left out of the metrics: {problem}")
            break
    return vectors, problem
