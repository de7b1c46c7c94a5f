"""What every recipe does the same way (tasks/<name>/recipe.py subclasses RecipeBase): load and
validate its task.yaml, load a trained QKeras model, find an MLPerf reference file, and describe its
FINN (Brevitas) model's settings. Everything task-specific stays in the task's folder."""

from __future__ import annotations

from pathlib import Path

from common.paths import SHARED, cache_root


class RecipeBase:
    def __init__(self, overrides: dict | None = None):
        self.cfg = self.load_config(overrides)
        self.model_id = self.cfg.model_id

    def load_config(self, overrides: dict | None):
        raise NotImplementedError

    def load_model(self, trained: dict[str, Path]):
        from toolchains.keras2 import load_qkeras_model

        return load_qkeras_model(trained["model"])

    def brevitas_params(self) -> dict:
        return self.cfg.brevitas.model_dump()

    @staticmethod
    def locate(remote) -> Path:
        """A file of the MLPerf Tiny repository (remote: file, url, sha256): from ../shared/models/reference
        or the download cache, else downloaded into the cache."""
        from common.download import locate

        return locate(remote.file, [SHARED / "models" / "reference", cache_root() / "models"], remote.url,
                      cache_root() / "models", remote.sha256)
