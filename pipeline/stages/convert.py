"""convert: the toolchain converts the trained model, emulates it bit-accurately and checks the
emulation against the model on every test input (the toolchain's gate)."""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.flow import Flow
from pipeline.stages.stage import Stage

log = logging.getLogger("pipeline")


def _convert_params(f: Flow) -> dict:
    return {**f.toolchain.convert_params(f.recipe, f.model, f.board_cfg), **f.testset_params()}


def _convert(f: Flow, out: Path) -> dict:
    report = f.toolchain.convert(f.recipe, f.model, f.artifacts("train"), f.eembc(), f.board_cfg, out)
    agreement = f"; {100 * report['argmax_agreement']:.2f}% same argmax" if report["argmax_agreement"] is not None else ""
    gate = f"; gate: {report['gate']}, {100 * report['gate_agreement']:.2f}%" if "gate_agreement" in report else ""
    log.info("%s emulation vs the %s model: %.2f%% of %d test inputs bit-identical%s%s", f.flow, f.model_name,
             100 * report["exact_fraction"], report["windows_checked"], agreement, gate)
    return {**report, "artifacts": {"convert": "."}}


STAGE = Stage("convert", _convert_params, lambda f: {"modules": [*f.toolchain.sources["modules"], f"tasks.{f.task}.recipe"],
                                                   "files": f.toolchain.sources["files"]}, ["train"], _convert)
