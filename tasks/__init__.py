"""Task recipes, found by folder: tasks/<name>/recipe.py with its task.yaml. A recipe turns a dataset
into a trained model and tells the toolchains and the firmware what they need: the interface, with
the skeleton every recipe shares, is tasks/base.py."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from common.errors import ConfigError, DatasetError

TASKS_DIR = Path(__file__).resolve().parent
SYNTHETIC_MARK = "SYNTHETIC"  # a file beside y_labels.csv: this EEMBC test folder was generated, not real

if TYPE_CHECKING:
    from tasks.base import RecipeBase


def available() -> list[str]:
    return sorted(p.parent.name for p in TASKS_DIR.glob("*/recipe.py"))


def load_recipe(name: str, overrides: dict | None = None) -> RecipeBase:
    if name not in available():
        raise ConfigError(f"unknown task '{name}': choose one of {', '.join(available())}")
    from tasks.base import RecipeBase

    recipe = importlib.import_module(f"tasks.{name}.recipe").Recipe(overrides)
    if not isinstance(recipe, RecipeBase):
        raise ConfigError(f"tasks/{name}/recipe.py: Recipe must subclass tasks.base.RecipeBase (the recipe interface)")
    return recipe


def resolve_data(data: str, real_path: str, dataset: str, check_layout: Callable[[Path], object]) -> tuple[str, Path | None]:
    """('synthetic', None) or ('real', folder) for data=auto|synthetic|PATH: auto takes the real
    dataset at real_path when it is there, and says loudly when it falls back to synthetic data;
    a PATH is checked now, before any stage runs."""
    if data == "synthetic":
        return "synthetic", None
    if data == "auto":
        real = Path(real_path).expanduser()
        if real.is_dir():
            return "real", real
        logging.getLogger(__name__).warning(
            "\n%s\n  data=auto: no real %s at %s (make download fetches it where there is internet)\n"
            "  USING SYNTHETIC DATA: results are not comparable with MLPerf Tiny and are never exported as a submission.\n%s",
            "!" * 78, dataset, real, "!" * 78)
        return "synthetic", None
    path = Path(data).expanduser().resolve()
    check_layout(path)
    return "real", path


def read_testset(eembc: Path, model_id: str, input_bytes: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    """(inputs N x input_bytes of dtype, labels) of an EEMBC test folder of whole-file inputs,
    validated as the runner validates it."""
    from common import eembc_dataset

    entries = eembc_dataset.load(eembc, model_id)
    wrong = [e.file for e in entries if len(e.data) != input_bytes or e.windowed]
    if wrong:
        raise DatasetError(f"{eembc / model_id}: {len(wrong)} file(s) are not {input_bytes}-byte whole-file inputs, "
                           f"e.g. {wrong[0]}")
    x = np.stack([np.frombuffer(e.data, dtype=dtype) for e in entries])
    return x, np.array([int(e.label) for e in entries])
