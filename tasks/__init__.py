"""Task recipes, by name. A recipe turns a dataset into a trained model and tells the toolchains
and the firmware what they need (see tasks/ad/recipe.py)."""

from __future__ import annotations

import importlib

RECIPES = {"ad": "tasks.ad.recipe"}
PLANNED = ["kws", "ic"]


def load_recipe(name: str, overrides: dict | None = None):
    if name in PLANNED:
        raise SystemExit(f"task '{name}' is not implemented yet; available: {', '.join(RECIPES)}")
    if name not in RECIPES:
        raise SystemExit(f"unknown task '{name}': choose one of {', '.join(RECIPES)}")
    return importlib.import_module(RECIPES[name]).Recipe(overrides)
