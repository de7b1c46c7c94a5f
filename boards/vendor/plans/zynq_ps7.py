"""Programming a Zynq-7000 board whose design a toolchain implemented itself (its Zynq shell: PS7,
data movers and the IP; the Pynq-Z2): the hardware platform (XSA) of that Vivado project, then over
JTAG the bitstream, ps7_init and the firmware ELF, or BOOT.BIN (FSBL, bitstream, firmware) into
the QSPI flash."""

from __future__ import annotations

from pathlib import Path

from boards.board import Board
from boards.vendor.images import write_bif
from boards.vendor.plans import Plan, artifact, firmware_elf
from boards.vendor.steps import run
from boards.vendor.zynq import (
    bitstream,
    bootgen_step,
    export_xsa_step,
    fsbl_step,
    ps7_init,
    pynq_jtag_step,
    qspi_step,
    vivado_project,
)


def plan(board: Board, out: Path, energy: bool, flash: bool) -> Plan:
    p = Plan()
    folder = out / "boot"
    xsa = folder / "system.xsa"

    def platform(ctx: dict) -> None:
        bit = bitstream(artifact(ctx["artifacts"], "bitfile", board))
        if not (xsa.is_file() and xsa.stat().st_mtime >= bit.stat().st_mtime):
            run(export_xsa_step(vivado_project(artifact(ctx["artifacts"], "bitfile", board)), xsa), folder)

    p.tools.append(("vivado", "the hardware platform (XSA) of the toolchain's Vivado project"))
    p.actions.append(("hardware platform", platform))
    if not flash:
        p.tools.append(("xsct", f"programming the {board.name} over JTAG"))
        p.actions.append(("JTAG", lambda ctx: run(pynq_jtag_step(
            bitstream(artifact(ctx["artifacts"], "bitfile", board)), xsa, ps7_init(xsa, folder),
            firmware_elf(board, ctx["artifacts"], energy)), folder)))
        return p
    p.tools += [("xsct", "the Zynq FSBL"), ("bootgen", "BOOT.BIN"), ("program_flash", f"writing the {board.name} QSPI flash")]

    def boot_image(ctx: dict) -> None:
        run(fsbl_step(xsa, folder), folder)
        bif = write_bif(folder / "boot.bif", folder / "fsbl.elf", bitstream(artifact(ctx["artifacts"], "bitfile", board)),
                        firmware_elf(board, ctx["artifacts"], energy))
        run(bootgen_step(bif, folder / "BOOT.BIN"), folder)

    p.actions += [("BOOT.BIN", boot_image),
                  ("flash", lambda ctx: run(qspi_step(folder / "BOOT.BIN", folder / "fsbl.elf"), folder))]
    return p
