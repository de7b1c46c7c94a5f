"""Programming a Zynq-7000 board whose design a toolchain implemented itself (its Zynq shell: PS7,
data movers and the IP; the Pynq-Z2): the hardware platform (XSA) of that Vivado project, then over
JTAG the bitstream, ps7_init and the firmware ELF, or BOOT.BIN (FSBL, bitstream, firmware) into
the QSPI flash."""

from __future__ import annotations

from pathlib import Path

from boards.board import Board
from boards.vendor.plans import Plan, toolchain
from boards.vendor.steps import run
from boards.vendor.zynq import boot_actions, export_xsa_step, vivado_project
from toolchains.base import ShellDesign


def plan(board: Board, out: Path, energy: bool, flash: bool) -> Plan:
    p = Plan()
    folder = out / "boot"
    xsa = folder / "system.xsa"

    def shell(ctx: dict) -> ShellDesign:  # what the toolchain implemented in its Zynq shell
        return toolchain(ctx).vendor_shell(board, ctx["artifacts"], ctx.get("convert_dir"))

    def platform(ctx: dict) -> None:
        design = shell(ctx)
        if not (xsa.is_file() and xsa.stat().st_mtime >= design.bitstream.stat().st_mtime):
            run(export_xsa_step(vivado_project(design), xsa), folder)

    p.tools.append(("vivado", "the hardware platform (XSA) of the toolchain's Vivado project"))
    p.actions.append(("hardware platform", platform))
    return boot_actions(p, board, folder, xsa, lambda ctx: shell(ctx).bitstream, energy, flash)
