"""Programming a board with what the build stage made: the board's plan (boards/vendor/plans/, by
board.yaml vivado.plan), its vendor tools checked before anything else, then its actions in order.

What was put on the board is written down once every action succeeded: `programmed.json` in the
folder the steps wrote to (the board, the variant, JTAG or flash, the build stage's key, and the
sha256 of the bitstream and of the firmware ELF). It is removed before the first action runs, so a
programming that failed halfway leaves no record of a state the board is not in. The run stage
records it with a run on the board (pipeline/stages/run.py)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Callable, Mapping

from boards.board import Board
from boards.vendor.plans import firmware_elf, plan
from boards.vendor.steps import hw_server_url, require
from common.download import sha256
from common.errors import BuildError
from common.jsonio import write_json
from toolchains.base import ToolchainBase

log = logging.getLogger(__name__)

PROGRAMMED = "programmed.json"


def program(board: Board, artifacts: Mapping[str, Path] | Callable[[], Mapping[str, Path]], out: Path, *,
            toolchain: ToolchainBase | None = None, convert_dir: Path | Callable[[], Path | None] | None = None,
            energy: bool = False, flash: bool = False, build_key: str | Callable[[], str | None] | None = None) -> Path:
    """Program `board` with what the build stage made: its artifacts and the convert stage's folder
    (or functions that find them, called once the tools are known to be there, so that a machine
    without them learns that first), through the flow's toolchain, which declares what its vendor
    build made (its IP, or its own Zynq design). build_key: the build stage's key, recorded in
    out/programmed.json with the digests of what was put on the board. Returns the folder the steps
    wrote to. The JTAG steps reach the hw_server at $HW_SERVER (HOST:PORT; default localhost:3121)."""
    hw_server_url("xsdb")  # a malformed $HW_SERVER is named before any tool runs
    steps = plan(board, out, energy, flash, toolchain.name if toolchain is not None else None)
    require(steps.tools)
    built = dict(artifacts() if callable(artifacts) else artifacts)
    ctx = {"toolchain": toolchain, "artifacts": built, "convert_dir": convert_dir() if callable(convert_dir) else convert_dir}
    (out / PROGRAMMED).unlink(missing_ok=True)  # from here on the board may hold anything
    for what, action in steps.actions:
        log.info("program %s: %s", board.name, what)
        action(ctx)
    loaded = {"elf": firmware_elf(board, built, energy)}
    if steps.bitstream is not None:
        loaded["bitstream"] = steps.bitstream(ctx)
    write_programmed(out, board.name, "energy" if energy else "performance", "flash" if flash else "JTAG",
                     build_key() if callable(build_key) else build_key, loaded)
    return out


def write_programmed(out: Path, board: str, variant: str, how: str, build_key: str | None, loaded: Mapping[str, Path]) -> dict:
    """out/programmed.json: what is on the board now ({name: file} digested by sha256)."""
    missing = [str(path) for path in loaded.values() if not Path(path).is_file()]
    if missing:
        raise BuildError(f"programming the {board} finished, but what it loaded is not there to record: {', '.join(missing)}")
    record = {"board": board, "variant": variant, "how": how, "build_key": build_key,
              "files": {name: {"path": str(path), "sha256": sha256(Path(path))} for name, path in loaded.items()},
              "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / PROGRAMMED, record)
    return record


def programmed(out: Path) -> dict | None:
    """What the last programming through `out` put on the board (programmed.json), or None when
    nothing was recorded there (never programmed, or the last programming failed)."""
    try:
        record = json.loads((out / PROGRAMMED).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise BuildError(f"{out / PROGRAMMED} cannot be read ({e}): program the board again") from None
    if not isinstance(record, dict) or not isinstance(record.get("files"), dict):
        raise BuildError(f"{out / PROGRAMMED} is not a programming record: program the board again")
    return record
