"""The honesty gate: what keeps a run out of a submission. A run is exported only when it was
measured on a physical board by the board's own timer, on an official test set (official.py), with
valid performance windows (common/run_rules.py: 5, each >= 10 s, a median written), every accuracy
file scored, energy (where measured) of exactly 5 trials of >= 10 s, and, for the closed division,
the reference model at the quality target (division.py). A run made with `python -m runner` also
needs a DUT that said itself it is a board (m-platform-[board]: the command line's --dut-kind is
what a user assumed), and a board not last programmed, through its flow's `make program`, with
another build than the one the DUT reports. Figures are the ones recomputed from the
raw records (integrity.py). Nothing synthetic, emulated or modeled passes. Every refusal says why."""

from __future__ import annotations

import math

from boards.vendor.program import programmed
from common.errors import HarnessError
from common.provenance import LINK_TEXT, TIMING_TEXT, Provenance
from common.run_rules import ENERGY_TRIALS, MIN_WINDOW_S, PERFORMANCE_WINDOWS
from results import division as divisions
from results import official
from results.runs import Run


def _provenance(p: Provenance) -> list[str]:
    reasons = []
    if p.data != "real":
        reasons.append(f"the data is {p.data or 'not stated'}, not the real test set")
    if p.link != "board":
        reasons.append(f"the DUT was not a physical board but an {LINK_TEXT[p.link]}")
    if p.timing != "board-timer":
        reasons.append(f"its times are {TIMING_TEXT[p.timing]}, not the board timer's")
    return reasons


def _performance(stated: dict, figures: dict) -> list[str]:
    if stated.get("error") or figures["throughput"] is None or stated.get("throughput") is None:
        return [f"the performance run is not valid: {stated.get('error') or 'no median throughput'}"]
    reasons = [] if len(figures["windows"]) == PERFORMANCE_WINDOWS else [
        f"the performance run has {len(figures['windows'])} windows, not the {PERFORMANCE_WINDOWS} the run rules ask"]
    return reasons + [f"performance window {k} lasted {s:.3f} s, under the {MIN_WINDOW_S:g} s the run rules ask"
                      for k, s in enumerate(figures["seconds"], 1) if s < MIN_WINDOW_S]


def _energy(stated: dict, figures: dict) -> list[str]:
    reasons = [f"the energy run is not valid: {stated['error']}"] if stated.get("error") else []
    reasons += [] if len(figures["trials"]) == ENERGY_TRIALS else [
        f"the energy run has {len(figures['trials'])} trials, not the {ENERGY_TRIALS} the run rules ask"]
    reasons += [f"energy trial {k} lasted {s:.3f} s, under the {MIN_WINDOW_S:g} s the run rules ask"
                for k, s in enumerate(figures["seconds"]) if s < MIN_WINDOW_S]
    return reasons + [f"energy trial {k} gives {uj} uJ per inference: not a measured energy"
                      for k, uj in enumerate(figures["trials"]) if not (math.isfinite(uj) and uj > 0)]


def _command_line(run: Run) -> list[str]:
    said = run.summary.get("platform")
    if said != "board":
        return [f"the DUT said it is {said or 'nothing (no m-platform line in its profile)'}, not a board: a run made with "
                "python -m runner is exported only from a DUT whose firmware reports m-platform-[board]"]
    try:
        record = programmed(run.stages_root / "vivado")
    except HarnessError as e:
        return [str(e)]
    if record is not None and record.get("build_key") != run.summary.get("build"):
        return [f"{run.stages_root / 'vivado' / 'programmed.json'} says the board was last programmed with build "
                f"{str(record.get('build_key'))[:12]}, but the DUT reports build {run.summary['build'][:12]}"]
    return []


def refusals(run: Run, division: str, figures: dict[str, dict]) -> list[str]:
    """Why the run may not be submitted in `division`; [] if it may. figures: integrity.verify's."""
    accuracy = figures["accuracy"]
    reasons = _provenance(run.provenance) + (_command_line(run) if run.made_by_runner else [])
    reasons += _performance(run.summary.get("performance") or {}, figures["performance"])
    if accuracy["top1"] is None:
        reasons.append("the accuracy run scored no file: no accuracy result")
    if (run.summary.get("accuracy") or {}).get("file_errors"):
        reasons.append(f"{len(run.summary['accuracy']['file_errors'])} accuracy file(s) could not be scored")
    if "energy" in figures:
        reasons += _energy(run.summary.get("energy") or {}, figures["energy"])
    reasons += official.refusals(run, accuracy["files"], accuracy["labels"])
    if division == "closed":
        reasons += divisions.closed_refusals(run, accuracy)
    return reasons
