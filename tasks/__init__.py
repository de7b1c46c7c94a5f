"""Task recipes, found by folder: tasks/<name>/recipe.py with its task.yaml. A recipe turns a dataset
into a trained model and tells the toolchains and the firmware what they need (see tasks/ad/recipe.py)."""

from __future__ import annotations

import importlib
from pathlib import Path

from common.errors import ConfigError

TASKS_DIR = Path(__file__).resolve().parent
PLANNED = ["ic"]  # MLPerf Tiny tasks whose recipes are not written yet
SYNTHETIC_MARK = "SYNTHETIC"  # a file beside y_labels.csv: this EEMBC test folder was generated, not real


def available() -> list[str]:
    return sorted(p.parent.name for p in TASKS_DIR.glob("*/recipe.py"))


def load_recipe(name: str, overrides: dict | None = None):
    if name not in available():
        if name in PLANNED:
            raise ConfigError(f"task '{name}' is not implemented yet; available: {', '.join(available())}")
        raise ConfigError(f"unknown task '{name}': choose one of {', '.join(available())}")
    return importlib.import_module(f"tasks.{name}.recipe").Recipe(overrides)
