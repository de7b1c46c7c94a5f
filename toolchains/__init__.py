"""Toolchains, found by folder: toolchains/<name>/toolchain.py defines `Toolchain`, a subclass of
the interface in toolchains/base.py (every member documented there), chosen by `flow=`. A third
toolchain is a new folder; the pipeline and the boards name none."""

from __future__ import annotations

import importlib
from pathlib import Path

from common.errors import ConfigError

TOOLCHAINS_DIR = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(p.parent.name for p in TOOLCHAINS_DIR.glob("*/toolchain.py"))


def load(name: str):
    if name not in available():
        raise ConfigError(f"unknown flow '{name}': choose one of {', '.join(available())}")
    return importlib.import_module(f"toolchains.{name}.toolchain").Toolchain()
