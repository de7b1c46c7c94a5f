"""data: the task's dataset (real, or synthetic in the same on-disk format), its training
features and EEMBC test files; the recipe does the work."""

from __future__ import annotations

from pathlib import Path

from pipeline.flow import Flow
from pipeline.stages.stage import Stage


def _data_params(f: Flow) -> dict:
    assert f.data_kind is not None  # the flow resolves data=... whenever it has a data stage
    return f.recipe.data_params(f.data_kind, f.data_path)


def _data(f: Flow, out: Path) -> dict:
    assert f.data_kind is not None
    return f.recipe.data(f.data_kind, f.data_path, out)


STAGE = Stage("data", _data_params, lambda f: {"modules": f.recipe.sources["data"]["modules"]}, [], _data)
