"""Every figure a run states, checked against the figure recomputed from its raw records (figures.py):
the numbers in each mode's results.txt (what the submission checker reads) and in the run manifest
(what the report shows). An edited median, top-1, AUC or energy, or an edited record, is a mismatch
and the run is not exported."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

from common import metrics
from results import figures
from results.records import ModeRecords, RecordsError, read

# (pattern in results.txt, decimals printed: the runner's own formats, runner/mlc_format.py)
PRINTED = {
    "throughput": (re.compile(r"Median throughput is\s+(\S+) inf\./sec\."), 3),
    "window": (re.compile(r"^\s+Throughput: (\S+) inf\./sec\.", re.M), None),
    "top1": (re.compile(r"Top 1% = (\S+)"), 1),
    "auc": (re.compile(r"AUC = (\S+)"), 3),
    "energy": (re.compile(r"Median energy cost is (\S+) uJ/inf\."), 4),
    "trial": (re.compile(r"Energy/Inf\s+: (\S+) uJ/inf"), 3),
}


def agrees(stated, value: float | None, decimals: int | None) -> bool:
    """A stated number equals the recomputed one to the digits it was printed with (all of them: None)."""
    try:
        stated = float(stated)
    except (TypeError, ValueError):
        return False
    if value is None or not math.isfinite(stated):
        return False
    if decimals is None:
        return math.isclose(stated, value, rel_tol=1e-9, abs_tol=1e-12)
    return abs(stated - value) <= 0.5 * 10.0 ** -decimals + 1e-9 * max(1.0, abs(value))


def _shown(value: float | None) -> str:
    return "none" if value is None else f"{value:.10g}"


def _printed(key: str, text: str) -> list[str]:
    return PRINTED[key][0].findall(text)


def _check_printed(key: str, m: ModeRecords, values: Sequence[float | None]) -> list[str]:
    """Each figure of this kind in results.txt against its recomputed value, in order."""
    stated, decimals = _printed(key, m.results_txt), PRINTED[key][1]
    if not stated:
        return []
    if len(stated) != len(values):
        return [f"{m.folder / 'results.txt'} prints {len(stated)} {key} figure(s); the records give {len(values)}"]
    return [f"{m.folder / 'results.txt'}: {key} {s} is not {_shown(v)} recomputed from results.json"
            for s, v in zip(stated, values) if not agrees(s, v, decimals)]


def _check_stated(where: str, key: str, stated, value: float | None) -> list[str]:
    if stated is None:
        return []
    return [] if agrees(stated, value, None) else [f"{where}: {key} {stated} is not {_shown(value)} recomputed from results.json"]


def performance(m: ModeRecords, summary: dict) -> tuple[dict, list[str]]:
    windows = [figures.window_throughput(r) for r in m.inferences]
    median = figures.median_throughput(m.inferences) if windows else None
    problems = _check_printed("window", m, windows)
    problems += _check_printed("throughput", m, [median] * len(_printed("throughput", m.results_txt)))
    problems += [f"{m.folder / 'results.json'}: window {k} says {r['infer']['throughput']} inf./sec., its timestamps "
                 f"give {_shown(w)}" for k, (r, w) in enumerate(zip(m.inferences, windows), 1)
                 if "throughput" in r["infer"] and not agrees(r["infer"]["throughput"], w, None)]
    problems += _check_stated("the run manifest", "median throughput", summary.get("throughput"), median)
    seconds = [float(r["infer"]["elapsed_time"]) / 1e6 for r in m.inferences]
    return {"throughput": median, "windows": windows, "seconds": seconds}, problems


def _auc(labels, preds) -> float | None:
    """The AUC the records give, or None where they give none: a class missing, or scores that are not
    finite numbers (the runner printed no AUC for those either; a printed one is then a mismatch)."""
    try:
        return metrics.auc(labels, preds)
    except ValueError:  # common/metrics.py raises it only for non-finite scores
        return None


def accuracy(m: ModeRecords, summary: dict) -> tuple[dict, list[str]]:
    labels, preds = figures.per_file(m.records)
    top1, auc = (metrics.top1(labels, preds), _auc(labels, preds)) if len(labels) else (None, None)
    problems = _check_printed("top1", m, [top1] * len(_printed("top1", m.results_txt)))
    problems += _check_printed("auc", m, [auc] * len(_printed("auc", m.results_txt)))
    problems += _check_stated("the run manifest", "top-1", summary.get("top1"), top1)
    problems += _check_stated("the run manifest", "AUC", summary.get("auc"), auc)
    files = sorted({r["file"] for r in m.records if "file" in r})
    return {"top1": top1, "auc": auc, "files": files, "labels": {r["file"]: int(r["class"]) for r in m.inferences}}, problems


def energy(m: ModeRecords, summary: dict) -> tuple[dict, list[str]]:
    trials = [figures.trial_energy_uj(r) for r in m.inferences]
    median = figures.median_energy(m.inferences) if trials else None
    problems = _check_printed("trial", m, trials)
    problems += _check_printed("energy", m, [median] * len(_printed("energy", m.results_txt)))
    problems += _check_stated("the run manifest", "median energy", summary.get("uj_per_inference"), median)
    return {"uj_per_inference": median, "trials": trials, "seconds": [figures.trial_seconds(r) for r in m.inferences]}, problems


CHECKS = {"performance": performance, "accuracy": accuracy, "energy": energy}


def verify_mode(run_path: Path, mode: str, summary: dict) -> dict:
    """The mode's figures recomputed from its records; RecordsError naming every figure that disagrees."""
    m = read(run_path, mode)
    try:
        found, problems = CHECKS[mode](m, summary or {})
    except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError) as e:
        raise RecordsError(f"{m.folder / 'results.json'}: a record is malformed ({type(e).__name__}: {e}); "
                           "its figures cannot be recomputed") from None
    if problems:
        raise RecordsError("figures that their records do not give (edited after the run?):\n  " + "\n  ".join(problems))
    return found


def verify(run_path: Path, summary: dict, modes: tuple[str, ...]) -> dict[str, dict]:
    """Every figure of the given modes recomputed and checked."""
    return {mode: verify_mode(run_path, mode, summary.get(mode) or {}) for mode in modes}
