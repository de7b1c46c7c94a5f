"""The MLC runner's file formats, line for line (docs/mlperf-tiny.md 3.9, 5.4): what results.txt
says in each mode, the `MMDD.HHMMSS ulp-mlperf: ` lines of the runner itself, the log lines around
each inference, and the records of results.json, keys in the MLC runner's order. session.py writes
them; the golden tests compare them with the MLC runner's own files."""

from __future__ import annotations

import time

from common.eembc_dataset import Entry
from common.run_rules import MIN_WINDOW_S
from runner.dut import InferResult

SEPARATOR = "-" * 57
ERROR_1 = "ERROR 1 - loop_count was not exactly 5."
ERROR_2 = "ERROR 2 - loop exited before 10 seconds elapsed."
ENERGY_ERROR = "ERROR: Not valid for submission. All inference times must be at least 10 seconds."
ENERGY_TRIALS_ERROR = "ERROR: Not valid for submission. Energy mode must include exactly 5 measurements."
ENERGY_HEADER = "Power Edition Output"
LOAD_COMPLETE = "Load complete."


def stamp() -> str:
    return time.strftime("%m%d.%H%M%S")


def runner_line(message: str) -> str:
    """A line of the runner's own: `MMDD.HHMMSS ulp-mlperf: <message>`."""
    return f"{stamp()} ulp-mlperf: {message}"


# ---- log.txt around each inference ----------------------------------------------------------------
def loading(file: str, segment: int) -> str:
    return f"Loading file {file} segment {segment}"


def running(iterations: int, warmups: int) -> str:
    return f"Running inference with {warmups}/{iterations} (warmup/measured) iterations ... done"


# ---- results.txt ----------------------------------------------------------------------------------
def window_lines(k: int, iterations: int, elapsed_us: int, rate: float) -> list[str]:
    """One performance window, exactly as the MLC runner prints it."""
    runtime = elapsed_us / 1e6
    lines = [f"Performance results for window {k}", f"    # Inferences : {iterations}",
             f"    Runtime: {runtime} sec.", f"    Throughput: {rate} inf./sec."]
    if runtime > MIN_WINDOW_S:
        lines.append("    Runtime requirements have been met.")
    return lines


def median_throughput_lines(median: float) -> list[str]:
    return [runner_line(SEPARATOR), runner_line(f"Median throughput is {median:>10.3f} inf./sec."), runner_line(SEPARATOR)]


def trial_lines(k: int, t: dict, iterations: int, below: bool) -> list[str]:
    """One energy trial (t: energy_score.trial_energy), as the MLC runner's Power Edition prints it."""
    return [f"Energy data for trial {k}",
            f"  Elapsed time  : {t['elapsed_s']:.3f}" + ("  <<<< below minimum duration" if below else ""),
            f"  Inferences    : {iterations}", f"  Power         : {1e3 * (t['power_w'] or 0):.4f} mW.",
            f"  Total Energy  : {1e6 * t['energy_j']:.3f} uJ", f"  Energy/Inf    : {t['uj_per_inference']:.3f} uJ/inf"]


def median_energy_lines(median: float, errors: list[str]) -> list[str]:
    """The end of energy mode's results.txt; errors: why the result is not valid (ENERGY_TRIALS_ERROR, ENERGY_ERROR)."""
    return [SEPARATOR, f"Median energy cost is {median:.4f} uJ/inf.", SEPARATOR, *errors]


def accuracy_lines(top1: float, auc: float | None) -> list[str]:
    """Top-1, and the AUC where it is defined."""
    return [runner_line(f"Top 1% = {top1:2.1f}")] + ([] if auc is None else [runner_line(f"AUC = {auc:.3f}")])


# ---- results.json ---------------------------------------------------------------------------------
def file_fields(entry: Entry, segments: int) -> dict:
    """A record's first fields: the file's y_labels.csv row, and its window count (windowed files)."""
    return {**entry.csv_fields(), "total_length": segments if entry.windowed else None}


def infer_record(result: InferResult, throughput: float | None = None) -> dict:
    """The `infer` field of a record."""
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


def power_record(samples: list[float], events: list[tuple[str, int]], voltage_mv: float) -> dict:
    """The `power` field of an energy record: the trial's 1 ms samples and its timestamp events."""
    return {"samples": samples, "timestamps": [[n, i] for n, i in events], "extracted_power": None,
            "voltage": voltage_mv / 1000}
