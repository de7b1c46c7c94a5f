"""The flash bootloader of our MicroBlaze system (boards/<board>/bootloader/): cross-compiled with the
board's own compiler into the local BRAM (updatemem merges it into the bitstream), it copies the
firmware image (images.py) out of the XIP flash into DDR and starts it."""

from __future__ import annotations

from pathlib import Path

from boards.board import Board
from boards.vendor.board_values import define, defines, system
from boards.vendor.steps import hexa
from common.errors import ConfigError, ToolMissing

VECTORS_BYTES = 0x50  # the MicroBlaze vector block at 0x0: the only part of the LMB a firmware image writes
BOOT_STACK_BYTES = 1024


def bootloader_defines(board: Board, target: str = "board") -> dict[str, int]:
    """The bootloader's build defines: where the flash, the image, DDR and the UART are."""
    ours, values = system(board), defines(board, target)
    flash = ours.flash
    xip = flash.qemu_xip_base if target == "qemu" else flash.xip_base
    if xip is None:
        raise ConfigError(f"board {board.name}: no flash in its QEMU machine (board.yaml vivado.system.flash.qemu_xip_base)")
    return {"FLASH_XIP_BASE": xip, "IMAGE_OFFSET": flash.image_offset, "DDR_BASE": define(values, "DDR_BASE", board),
            "DDR_BYTES": ours.ddr_bytes, "MB_UART_BASE": define(values, "MB_UART_BASE", board),
            "LMB_BYTES": ours.local_memory_kb * 1024, "VECTORS_BYTES": VECTORS_BYTES, "STACK_BYTES": BOOT_STACK_BYTES}


def build_bootloader(board: Board, out: Path, target: str = "board") -> Path:
    """Cross-compile the flash bootloader (boards/<board>/bootloader/) into out/bootloader_<target>.elf,
    linked into the local BRAM; target qemu takes the QEMU machine's addresses."""
    from boards import firmware

    compiler, cc = firmware.cross_compiler(board)
    if cc is None:
        raise ToolMissing([compiler], f"the {board.name} flash bootloader", hint="make setup provides the cross compilers")
    here = board.folder / "bootloader"
    dash = [f"-D{k}={hexa(v)}" for k, v in bootloader_defines(board, target).items()]
    out.mkdir(parents=True, exist_ok=True)
    script, elf = out / "boot.ld", out / f"bootloader_{target}.elf"
    firmware.run_compiler([cc, "-E", "-P", "-x", "c", *dash, str(here / "boot.ld"), "-o", str(script)], out, "bootloader build")
    assert board.firmware is not None  # a board with a bootloader has a bare-metal build (board.yaml firmware)
    flags = [*board.firmware.cflags, "-Os", "-Wall", "-Werror", "-ffreestanding", "-nostdlib", "-nostartfiles", *dash]
    firmware.run_compiler([cc, *flags, "-T", str(script), str(board.firmware_folder / "crt.S"), str(here / "boot.c"),
                           "-lgcc", "-o", str(elf)], out, "bootloader build")
    return elf
