"""Programming plans, one module per kind of board, found by folder: boards/vendor/plans/<kind>.py
defines `plan(board, out, energy, flash) -> Plan`, and board.yaml vivado.plan names the kind (for
every flow, or per flow). A new board of a known kind is a board.yaml; a new kind is a module here."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from boards.board import Board
from common.errors import BuildError, ConfigError
from toolchains.base import ToolchainBase

PLANS_DIR = Path(__file__).resolve().parent


@dataclass
class Plan:
    """What programming a board takes: the vendor tools (checked before anything runs) and the
    actions in order, which read the build stage's artifacts when they run; bitstream(ctx) is the
    bitstream the actions put on the board (recorded in its programmed.json, boards/vendor/program.py)."""

    tools: list[tuple[str, str]] = field(default_factory=list)
    actions: list[tuple[str, Callable[[dict], None]]] = field(default_factory=list)
    bitstream: Callable[[dict], Path] | None = None


def available() -> list[str]:
    return sorted(p.stem for p in PLANS_DIR.glob("*.py") if p.stem != "__init__")


def plan(board: Board, out: Path, energy: bool = False, flash: bool = False, flow: str | None = None) -> Plan:
    """The steps that program `board` with a build of `flow` from the build stage's artifacts into
    `out`: over JTAG, or (flash) into its boot flash so that it starts on its own at power-on."""
    try:
        kind = board.vivado.plan_for(flow)
    except ValueError as e:
        raise ConfigError(f"board {board.name}: {e}") from None
    if kind is None:
        raise ConfigError(f"board {board.name}: no programming steps for it (board.yaml vivado.plan names none; "
                          f"known kinds: {', '.join(available())})")
    if kind not in available():
        raise ConfigError(f"board {board.name}: board.yaml vivado.plan '{kind}' is not a known kind ({', '.join(available())})")
    return importlib.import_module(f"{__name__}.{kind}").plan(board, out, energy, flash)


def toolchain(ctx: dict) -> ToolchainBase:
    """The flow's toolchain: what its vendor build made is its to declare."""
    if ctx.get("toolchain") is None:
        raise ConfigError("programming a board needs the flow's toolchain (program(..., toolchain=...))")
    return ctx["toolchain"]


def firmware_elf(board: Board, artifacts: dict, energy: bool) -> Path:
    key = f"board_{'energy' if energy else 'performance'}"
    if key not in artifacts:
        raise BuildError(f"the build stage made no firmware for the {board.name} itself ('{key}'): "
                         f"see its manifest's skipped steps")
    return artifacts[key]

