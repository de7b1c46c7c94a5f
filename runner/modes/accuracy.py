"""Accuracy mode (docs/mlperf-tiny.md 3.7): every window of every file, `infer 1 0`; Top-1 and AUC over per-file
mean results (metrics.py). A file whose input the DUT refuses, or whose result cannot be scored, is
an error of that file: it is recorded and named, left out of the metrics, and the run goes on."""

from __future__ import annotations

import math

import numpy as np
from tqdm import tqdm

from common import metrics
from common.eembc_dataset import Entry
from common.errors import DutRejected
from runner import mlc_format as fmt
from runner.dut import Dut
from runner.resume import finished_files, infer_problem
from runner.session import Session


def _unscorable(entry: Entry, values: list[float]) -> str | None:
    """Why a result vector cannot be scored, or None."""
    if len(values) != entry.result_length:
        return f"{len(values)} values in m-results, expected {entry.result_length}"
    if not all(math.isfinite(v) for v in values):
        return f"non-finite value in m-results {values}"
    if len(values) > 1 and sum(values) == 0:
        return "m-results sums to 0: it cannot be normalised"
    return None


def _kept_problem(record: dict, entry: Entry) -> str | None:
    """A window kept from an interrupted session is used as a new one would be: scorable."""
    return infer_problem(record, entry) or _unscorable(entry, record["infer"]["results"])


def accuracy(dut: Dut, entries: list[Entry], session: Session) -> dict:
    """The summary: file and inference counts, the files left out and why, Top-1 and AUC. Files that
    an earlier, interrupted session finished (session.previous) are taken from its records, not run
    again."""
    total = sum(len(e.windows()) for e in entries)
    finished = finished_files(session, entries, _kept_problem)
    scored: list[tuple[Entry, np.ndarray]] = []
    file_errors: list[str] = []
    with tqdm(total=total, desc="accuracy", unit="window") as bar:
        for entry in entries:
            windows = entry.windows()
            if entry.file in finished:
                records = finished[entry.file]
                problem = next((r["error"] for r in records if isinstance(r.get("error"), str)), None)
                vectors = [] if problem else [r["infer"]["results"] for r in records]  # each checked by _kept_problem
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
    try:
        result["auc"] = metrics.auc(labels, preds)
    except ValueError as e:  # the reason itself, not a guess at it
        session.log(f"ERROR: {e}")
    else:
        if result["auc"] is None:
            session.log(f"AUC is undefined for these files: their labels do not cover every class ({sorted(set(labels))})")
    session.write_results(fmt.accuracy_lines(result["top1"], result["auc"]))
    return result


def _run_file(dut: Dut, entry: Entry, windows: list[bytes], session: Session, bar) -> tuple[list[list[float]], str | None]:
    """Every window of one file through the DUT; (result vectors, why the file cannot be scored or None)."""
    base = fmt.file_fields(entry, len(windows))
    vectors, problem = [], None
    for k, window in enumerate(windows):
        session.log(fmt.loading(entry.file, k))
        try:
            dut.load(window)
            session.log(fmt.LOAD_COMPLETE)
            r = dut.infer(1, 0)
        except DutRejected as e:
            problem = f"window {k}: {e}"
        else:
            session.raw(fmt.running(1, 0))
            session.record({**base, "infer": fmt.infer_record(r)})
            problem = _unscorable(entry, r.results)
            problem = problem and f"window {k}: {problem}"
            vectors.append(r.results)
        bar.update()
        if problem:
            bar.update(len(windows) - k - 1)
            session.record({**base, "error": problem})
            session.log(f"ERROR: {entry.file} left out of the metrics: {problem}")
            break
    return vectors, problem
