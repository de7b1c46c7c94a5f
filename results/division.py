"""The division is a fact the export checks, not a label (docs/mlperf-tiny.md 4.1): closed only for
the MLPerf reference model itself, with post-training steps only (model=reference: imported, never
trained), its file's digest the reference file's (tasks/<task>/task.yaml `reference: sha256` for the
float model hls4ml takes, `reference: int8: sha256` for the int8 model FINN takes), the stages that
made the run being the ones that imported it, and at the closed quality target. Anything trained is
open division."""

from __future__ import annotations

import yaml

from common.paths import REPO
from results.checker import TARGETS
from results.runs import Run

CHAIN = (("run", "build"), ("build", "convert"), ("convert", "train"))  # (stage, the upstream stage it read)


def reference_digests(task: str) -> dict[str, str]:
    """The digests of the task's MLPerf reference model files, as its task.yaml records them, by the
    train stage parameter that names each: reference (the float model), reference_int8 (the int8 one)."""
    path = REPO / "tasks" / task / "task.yaml"
    reference = ((yaml.safe_load(path.read_text()) if path.is_file() else None) or {}).get("reference") or {}
    found = {"reference": reference.get("sha256"), "reference_int8": (reference.get("int8") or {}).get("sha256")}
    return {key: digest for key, digest in found.items() if digest}


def reference_sha256(task: str) -> str | None:
    """The digest of the task's float MLPerf reference model file."""
    return reference_digests(task).get("reference")


def _chain_refusals(run: Run) -> list[str]:
    """The run was made from the train stage found beside it: each stage's recorded upstream key is that stage's key."""
    for stage, upstream in CHAIN:
        down = run.manifest if stage == "run" else run.stage_manifest(stage)
        up = run.stage_manifest(upstream)
        if down is None or up is None:
            return [f"the {upstream if up is None else stage} stage of this run is not at "
                    f"{run.stage_manifest_path(upstream if up is None else stage).parent}: what model it ran cannot be shown"]
        if (down.get("inputs") or {}).get("upstream", {}).get(upstream) != up.get("key"):
            return [f"the {upstream} stage at {run.stage_manifest_path(upstream).parent} was run again after this run's "
                    f"{stage} stage read it: what model it ran cannot be shown"]
    return []


def _reference_refusals(run: Run) -> list[str]:
    expected = reference_digests(run.task)
    if not expected:
        return [f"task {run.task} has no MLPerf reference model (tasks/{run.task}/task.yaml reference: sha256)"]
    reasons = _chain_refusals(run)
    if reasons:
        return reasons
    params = run.stage_manifest("train")["inputs"].get("params", {})  # type: ignore[index]  # the chain checked it is there
    imported = [key for key in expected if key in params]
    if not imported:
        return ["the train stage trained a model rather than importing the reference: closed division allows no retraining"]
    recorded = (params[imported[0]] or {}).get("sha256")
    if recorded != expected[imported[0]]:
        return [f"the model file's sha256 {recorded} is not the reference file's {expected[imported[0]]} "
                f"(tasks/{run.task}/task.yaml)"]
    return []


def _target_refusals(run: Run, accuracy: dict) -> list[str]:
    kind, target = TARGETS[run.benchmark]
    value = accuracy.get("auc" if kind == "auc" else "top1")
    if value is None or value < target:
        has = "none" if value is None else f"{value:.3f}"
        return [f"closed division needs {kind} >= {target:g} for {run.benchmark}; the run has {has} (below the quality target)"]
    return []


def closed_refusals(run: Run, accuracy: dict) -> list[str]:
    """Why the run may not be closed division; [] if it may. accuracy: its recomputed figures (integrity.py)."""
    if run.model != "reference":
        reasons = [f"model={run.model_name} is not the MLPerf reference model: a trained or imported model is open "
                   f"division (closed takes model=reference, post-training steps only)"]
    else:
        reasons = _reference_refusals(run)
    return reasons + _target_refusals(run, accuracy)
