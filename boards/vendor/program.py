"""Programming a board with what the build stage made: the board's plan (boards/vendor/plans/, by
board.yaml vivado.plan), its vendor tools checked before anything else, then its actions in order."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Mapping

from boards.board import Board
from boards.vendor.plans import plan
from boards.vendor.steps import require
from toolchains.base import ToolchainBase

log = logging.getLogger(__name__)


def program(board: Board, artifacts: Mapping[str, Path] | Callable[[], Mapping[str, Path]], out: Path, *,
            toolchain: ToolchainBase | None = None, convert_dir: Path | Callable[[], Path | None] | None = None,
            energy: bool = False, flash: bool = False) -> Path:
    """Program `board` with what the build stage made: its artifacts and the convert stage's folder
    (or functions that find them, called once the tools are known to be there, so that a machine
    without them learns that first), through the flow's toolchain, which declares what its vendor
    build made (its IP, or its own Zynq design). Returns the folder the steps wrote to."""
    steps = plan(board, out, energy, flash)
    require(steps.tools)
    ctx = {"toolchain": toolchain, "artifacts": dict(artifacts() if callable(artifacts) else artifacts),
           "convert_dir": convert_dir() if callable(convert_dir) else convert_dir}
    for what, action in steps.actions:
        log.info("program %s: %s", board.name, what)
        action(ctx)
    return out
