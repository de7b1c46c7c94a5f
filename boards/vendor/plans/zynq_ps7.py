"""Programming a Zynq-7000 board whose design a toolchain implemented itself (its Zynq shell: PS7,
data movers and the IP; the Pynq-Z2): the hardware platform (XSA) of that Vivado project, then over
JTAG the bitstream, ps7_init and the firmware ELF, or BOOT.BIN (FSBL, bitstream, firmware) into
the QSPI flash."""

from __future__ import annotations

from pathlib import Path

from boards.board import Board
from boards.vendor.images import write_bif
from boards.vendor.plans import Plan, firmware_elf, toolchain
from boards.vendor.steps import run
from boards.vendor.zynq import bootgen_step, export_xsa_step, fsbl_step, ps7_init, pynq_jtag_step, qspi_step, vivado_project
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
    if not flash:
        p.tools.append(("xsct", f"programming the {board.name} over JTAG"))
        p.actions.append(("JTAG", lambda ctx: run(pynq_jtag_step(
            shell(ctx).bitstream, xsa, ps7_init(xsa, folder),
            firmware_elf(board, ctx["artifacts"], energy)), folder)))
        return p
    p.tools += [("xsct", "the Zynq FSBL"), ("bootgen", "BOOT.BIN"), ("program_flash", f"writing the {board.name} QSPI flash")]

    def boot_image(ctx: dict) -> None:
        run(fsbl_step(xsa, folder), folder)
        bif = write_bif(folder / "boot.bif", folder / "fsbl.elf", shell(ctx).bitstream,
                        firmware_elf(board, ctx["artifacts"], energy))
        run(bootgen_step(bif, folder / "BOOT.BIN"), folder)

    p.actions += [("BOOT.BIN", boot_image),
                  ("flash", lambda ctx: run(qspi_step(folder / "BOOT.BIN", folder / "fsbl.elf"), folder))]
    return p
