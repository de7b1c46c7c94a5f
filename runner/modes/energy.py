"""Energy mode (docs/mlperf-tiny.md 3.8): window 0 of the first 5 files, `infer N W` each, with the power monitor
sampling the DUT's supply; the median µJ per inference, each trial scored between its last two
timestamp events (energy_score.py) and its trace plotted (trace_plot.py)."""

from __future__ import annotations

import numpy as np
from tqdm import tqdm

from common.eembc_dataset import Entry
from common.errors import HarnessError
from common.run_rules import ENERGY_TRIALS, MIN_WINDOW_S
from runner import mlc_format as fmt
from runner.calibration import PACE_PROBE, calibrate_energy, deadline_s, host_pace, timed_infer
from runner.dut import INFER_TIMEOUT_S, Dut
from runner.energy_score import trial_energy
from runner.resume import is_number, kept_in_order
from runner.session import Session
from runner.trace_plot import plot_trial


def _kept_trial(record: dict, entry: Entry) -> str | None:
    """A trial kept from an interrupted session is scored again from its raw samples and events, with
    the checks of a new one (energy_score.py): what cannot be scored is measured again."""
    power = record.get("power")
    samples, stamps = (power.get("samples"), power.get("timestamps")) if isinstance(power, dict) else (None, None)
    if not (isinstance(samples, list) and all(map(is_number, samples))):
        return "its power samples are not a list of numbers"
    if not (isinstance(stamps, list) and all(isinstance(e, list) and len(e) == 2 and isinstance(e[1], int) for e in stamps)):
        return "its timestamps are not [event, sample index] pairs"
    try:
        trial_energy(samples, [(str(n), i) for n, i in stamps], record["infer"]["iterations"])
    except (HarnessError, ValueError) as e:  # ValueError: an event number that is not one
        return str(e)
    return None


def energy(dut: Dut, monitor, entries: list[Entry], session: Session, iterations: int | None, warmups: int,
           min_window_s: float = MIN_WINDOW_S, target_s: float = MIN_WINDOW_S) -> dict:
    """The five trials with a started monitor (runner.monitors); N given, or calibrated for trials of
    target_s. min_window_s: 0 for modeled timing (as in performance). Trials an interrupted session
    finished are scored again from their kept samples, not run again."""
    chosen = entries[:ENERGY_TRIALS]
    kept, iterations = kept_in_order(session, chosen, iterations, "trials", _kept_trial)
    pace = None  # the host's seconds per inference, for deadlines (calibration.py)
    if iterations is None:
        calibrated = calibrate_energy(dut, monitor, chosen[0].windows()[0], target_s)
        iterations, pace = calibrated.iterations, calibrated.pace
        session.log(f"Calibrated iterations per trial: {iterations} (target {target_s:g} s, timed by the power monitor)")
    elif len(kept) < len(chosen):  # the monitor's time says nothing of the host's (modeled timing): timed first
        pace = host_pace(dut, chosen[0].windows()[0], 3 * INFER_TIMEOUT_S, monitor)
        session.log(f"the host takes {1e3 * pace:.3f} ms per inference (infer {PACE_PROBE} 1, not recorded); "
                    "each trial is waited for by that")
    lines, per_inference, short = [fmt.ENERGY_HEADER], [], False
    for k, r in enumerate(kept):  # scored again from their kept samples: the same figures
        t = trial_energy(r["power"]["samples"], [tuple(e) for e in r["power"]["timestamps"]], iterations)
        per_inference.append(t["uj_per_inference"])
        short |= t["elapsed_s"] < min_window_s
        lines += fmt.trial_lines(k, t, iterations, t["elapsed_s"] < min_window_s)
    for k, entry in enumerate(tqdm(chosen[len(kept):], desc="energy", unit="trial", initial=len(kept), total=len(chosen)),
                              len(kept)):
        session.log(fmt.loading(entry.file, 0))
        dut.load(entry.windows()[0])
        session.log(fmt.LOAD_COMPLETE)
        monitor.trial()
        r, host_s = timed_infer(dut, iterations, warmups, deadline_s(iterations + warmups, pace, 3 * INFER_TIMEOUT_S))
        pace = host_s / (iterations + warmups)
        samples, events = monitor.collect(2)
        t = trial_energy(samples, events, iterations)
        per_inference.append(t["uj_per_inference"])
        session.record({**fmt.file_fields(entry, 1), "infer": fmt.infer_record(r),
                        "power": fmt.power_record(samples, events, monitor.voltage_mv)})
        plot_trial(session.folder.with_name(f"{session.folder.name}.traces") / f"energy_inf_{k:03d}.png", samples, events, t)
        below = t["elapsed_s"] < min_window_s
        short |= below
        if t["elapsed_s"] > INFER_TIMEOUT_S:
            session.log(f"WARNING: trial {k} lasted {t['elapsed_s']:.3f} s; the MLC runner gives up on a reply after "
                        f"{INFER_TIMEOUT_S:g} s (lower --iterations)")
        lines += fmt.trial_lines(k, t, iterations, below)
        session.log(f"trial {k}: {t['elapsed_s']:.3f} s, {t['uj_per_inference']:.3f} uJ/inf, m-results {r.results}")
    median = float(np.median(per_inference))
    # as the MLC runner: the median is printed, then why it is not valid for a submission
    errors = ([fmt.ENERGY_TRIALS_ERROR] if len(chosen) != ENERGY_TRIALS else []) + ([fmt.ENERGY_ERROR] if short else [])
    lines += fmt.median_energy_lines(median, errors)
    session.write_results(lines)
    for error in errors:
        session.log(f"not a valid energy result: {error}")
    return {"uj_per_inference": median, "trials": per_inference, "iterations": iterations,
            "error": " ".join(errors) or None}
