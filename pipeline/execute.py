"""Running a flow's stages: each stage's key (its parameters, the source of the code it runs and
its upstream stages' keys), skipped when its folder's manifest has that key, else run into a fresh
`.partial` folder (pipeline/artifacts.py)."""

from __future__ import annotations

import logging

from pipeline.artifacts import StageError, json_digest, source_digest
from pipeline.flow import Flow
from pipeline.layout import SHARED_STAGES, STAGES
from pipeline.stages import STAGE_DEFS

log = logging.getLogger("pipeline")


def stage_key(f: Flow, name: str) -> tuple[str, dict]:
    stage = STAGE_DEFS[name]
    inputs = {
        "params": stage.params(f),
        "sources": source_digest(**stage.code(f), functions=[stage.params, stage.work]),
        "upstream": {u: f.manifest(u)["key"] for u in stage.upstream if u in f.stages},
    }
    return json_digest(inputs), inputs


def run_stages(f: Flow, start: str | None = None, stop: str | None = None, force: bool = False) -> None:
    first = STAGES.index(start) if start else 0
    last = STAGES.index(stop) if stop else len(STAGES) - 1
    if last >= STAGES.index("run"):
        f.check_dut()
    for i, name in enumerate(STAGES):
        if i > last:
            break
        if name not in f.stages:
            log.info("[%s] not needed: model=%s reads the test folder %s", name, f.model, f.testset)
            continue
        stage = f.stage_dir(name)
        note = f" ({SHARED_STAGES[name]})" if name in SHARED_STAGES else ""
        if i < first:
            if stage.manifest() is None:
                raise StageError(f"stage '{name}' has never run for {f.task}/{f.flow}/{f.board}: start from it (from={name})")
            log.info("[%s] kept as it is (from=%s)%s", name, start, note)
            continue
        key, inputs = stage_key(f, name)
        if not force and stage.is_current(key):
            log.info("[%s] up to date, skipped%s", name, note)
            continue
        log.info("[%s] running -> %s", name, stage.path)
        m = stage.run(key, inputs, lambda out, n=name: STAGE_DEFS[n].work(f, out), keep_partial=f.resume and name == "run")
        log.info("[%s] done in %.1f s", name, m["seconds"])
