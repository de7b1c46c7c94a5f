"""The stages, one module each, in the order they run: data -> train -> convert -> build -> run -> report.
Each is a named, individually runnable step (the FINN builder's idea) with a manifest of what it
was made from (pipeline/execute.py); a stage reads its upstream's outputs through the upstream's
manifest, never by a path convention. Gates between stages raise with a message (train: the metric
against task.yaml; convert: the toolchain's emulation against the trained model)."""

from __future__ import annotations

from pipeline.layout import STAGES
from pipeline.stages import build, convert, data, report, run, train
from pipeline.stages.stage import Stage

STAGE_DEFS: dict[str, Stage] = {s.STAGE.name: s.STAGE for s in (data, train, convert, build, run, report)}
assert list(STAGE_DEFS) == STAGES, "pipeline/layout.py STAGES and the stage modules disagree"
