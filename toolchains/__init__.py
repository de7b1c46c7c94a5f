"""Toolchains, found by folder: toolchains/<name>/toolchain.py defines `Toolchain`, the one small
interface the pipeline uses (hls4ml's backends-behind-one-interface idea), chosen by `flow=`:

    name, framework         which of a recipe's models it takes: "qkeras" (recipe.train) or
                            "brevitas" (recipe.train_brevitas)
    imports                 model file formats it takes as model=FILE besides the recipe's models,
                            e.g. ("qonnx",): the train stage imports the file (tasks/external.py)
    sources                 the code its convert stage runs (stage keys follow it)
    check(recipe, model)    raises a ConfigError before any stage runs when it cannot take the model
    convert_params(recipe, model, board) -> dict         what the convert stage is keyed by
    convert(recipe, model, trained, eembc, board, out)    convert, emulate bit-accurately, check
                            against the framework on every test input, write the project; returns
                            a report with exact_fraction, argmax_agreement, windows_checked
    accelerator(convert_dir) -> boards.firmware.Accelerator   what the emulated board links
    board_accelerator(board, convert_dir) -> Accelerator   the C driver of the toolchain's IP that the
                            board's firmware links (raises a BuildError saying why when there is none);
                            board_files: its sources, which key the build stage
    latency(recipe, model, trained, converted, board) -> dict | None   the modeled time per inference
                            on the board (accelerator + the board's call overhead; None: no model)
    vendor_steps(board) -> [(tool, what)]                 steps that need vendor tools (skipped
                            with a message where a tool is not on PATH)
    vendor_build(board, convert_dir, out) -> {name: path}  runs them, where every tool is there

A third toolchain is a new folder; the pipeline names none."""

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
