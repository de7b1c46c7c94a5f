"""What the vendor steps read from board.yaml: the addresses and clocks the firmware is built with,
as numbers (the hardware must put every peripheral there), the FPGA as the JTAG chain names it, and
our own processor system where the board has one (board.yaml vivado.system)."""

from __future__ import annotations

import re

from boards.board import Board, System
from common.errors import ConfigError


def system(board: Board) -> System:
    if board.vivado.system is None:
        raise ConfigError(f"board {board.name} has no block design of ours (board.yaml vivado.system): "
                          f"its bitstream comes from the toolchain's own design")
    return board.vivado.system


def defines(board: Board, target: str = "board") -> dict[str, int]:
    """The addresses and clocks the firmware is built with, as numbers (board.yaml
    fabric_addresses, firmware.defines and, for target qemu, firmware.qemu.defines)."""
    fw = board.firmware
    if fw is None:
        raise ConfigError(f"board {board.name} has no bare-metal firmware (board.yaml firmware)")
    merged = {**board.fabric_addresses, **fw.defines, **(fw.qemu.defines if target == "qemu" and fw.qemu else {})}
    out = {}
    for name, value in merged.items():
        try:
            out[name] = value if isinstance(value, int) else int(str(value), 0)
        except ValueError:
            continue  # not a number (a string define): no address
    return out


def define(values: dict[str, int], name: str, board: Board) -> int:
    if name not in values:
        raise ConfigError(f"board {board.name}: board.yaml firmware.defines has no {name}")
    return values[name]


def device(board: Board) -> str:
    """The FPGA as the JTAG chain names it: xc7a100tcsg324-1 -> xc7a100t."""
    found = re.match(r"(xc\d[a-z]+\d+t)", board.part)
    if not found:
        raise ConfigError(f"board {board.name}: cannot tell the device of part {board.part}")
    return found.group(1)
