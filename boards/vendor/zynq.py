"""The Zynq-7000 steps, for every Zynq board (boards/common/zynq7000/vivado/): the hardware platform
(XSA) of a toolchain's implemented Vivado project (toolchains/base.py ShellDesign), the FSBL built
from an XSA, BOOT.BIN (bootgen), the QSPI flash, the PS initialisation (ps7_init) and programming
over JTAG; and the programming actions after an XSA and a bitstream exist, which the Zynq plans
share."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Callable

from boards.board import BOARDS_DIR, Board
from boards.vendor.images import write_bif
from boards.vendor.plans import Plan, firmware_elf
from boards.vendor.steps import Step, hw_server_url, run, tclargs, vivado_batch
from common.errors import BuildError
from toolchains.base import ShellDesign

SCRIPTS = BOARDS_DIR / "common" / "zynq7000" / "vivado"


def vivado_project(design: ShellDesign) -> Path:
    """The Vivado project that implemented a toolchain's Zynq design, as the toolchain found it."""
    if design.project is None:
        raise BuildError(design.why_no_project or f"no Vivado project found for the bitstream {design.bitstream}")
    return design.project


def export_xsa_step(xpr: Path, xsa: Path) -> Step:
    return vivado_batch(SCRIPTS / "export_xsa.tcl", tclargs({"xpr": xpr, "xsa": xsa}),
                        f"the hardware platform (XSA) of {xpr.name}", xsa.with_suffix(".log"))


def fsbl_step(xsa: Path, out_dir: Path, processor: str = "ps7_cortexa9_0") -> Step:
    return Step("the Zynq FSBL (xsct hsi)", "xsct", [str(SCRIPTS / "boot.tcl"),
                *tclargs({"xsa": xsa, "out_dir": out_dir, "processor": processor})], log=out_dir / "fsbl.log")


def bootgen_step(bif: Path, boot_bin: Path) -> Step:
    return Step("BOOT.BIN (bootgen)", "bootgen", ["-arch", "zynq", "-image", str(bif), "-o", str(boot_bin), "-w"],
                log=boot_bin.with_suffix(".log"))


def qspi_step(board_name: str, boot_bin: Path, fsbl: Path, hw_server: str | None = None) -> Step:
    return Step(f"writing BOOT.BIN to the {board_name}'s QSPI flash", "program_flash",
                ["-f", str(boot_bin), "-offset", "0", "-flash_type", "qspi-x4-single", "-fsbl", str(fsbl),
                 "-url", hw_server or hw_server_url("xsdb")],
                log=boot_bin.with_name("program_flash.log"))


def ps7_init(xsa: Path, out_dir: Path) -> Path:
    """ps7_init.tcl out of the XSA (a zip archive): the PS set-up xsct runs before downloading an ELF."""
    try:
        with zipfile.ZipFile(xsa) as z:
            name = next((n for n in z.namelist() if Path(n).name == "ps7_init.tcl"), None)
            if name is None:
                raise BuildError(f"{xsa} has no ps7_init.tcl: is it a Zynq-7000 platform?")
            target = out_dir / "ps7_init.tcl"
            out_dir.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(name))
            return target
    except zipfile.BadZipFile:
        raise BuildError(f"{xsa} is not an XSA (zip) file") from None


def jtag_step(board_name: str, bit: Path, xsa: Path, ps7: Path, elf: Path, hw_server: str | None = None) -> Step:
    return Step(f"programming the {board_name} over JTAG", "xsct", [str(SCRIPTS / "program_jtag.tcl"),
                *tclargs({"bit": bit, "xsa": xsa, "ps7_init": ps7, "elf": elf, "hw_server": hw_server or hw_server_url("xsdb")})])


def boot_actions(p: Plan, board: Board, folder: Path, xsa: Path, bitstream: Callable[[dict], Path], energy: bool,
                 flash: bool) -> Plan:
    """After the action that makes `xsa`: over JTAG the bitstream, the XSA's ps7_init and the
    firmware ELF; or (flash) the FSBL built from the XSA, BOOT.BIN (FSBL, bitstream, firmware)
    and that into the QSPI flash. `bitstream(ctx)` finds the .bit when an action runs."""
    p.bitstream = bitstream
    if not flash:
        p.tools.append(("xsct", f"programming the {board.name} over JTAG"))
        p.actions.append(("JTAG", lambda ctx: run(jtag_step(
            board.name, bitstream(ctx), xsa, ps7_init(xsa, folder), firmware_elf(board, ctx["artifacts"], energy)), folder)))
        return p
    p.tools += [("xsct", "the Zynq FSBL"), ("bootgen", "BOOT.BIN"), ("program_flash", f"writing the {board.name} QSPI flash")]

    def boot_image(ctx: dict) -> None:
        run(fsbl_step(xsa, folder), folder)
        bif = write_bif(folder / "boot.bif", folder / "fsbl.elf", bitstream(ctx), firmware_elf(board, ctx["artifacts"], energy))
        run(bootgen_step(bif, folder / "BOOT.BIN"), folder)

    p.actions += [("BOOT.BIN", boot_image),
                  ("flash", lambda ctx: run(qspi_step(board.name, folder / "BOOT.BIN", folder / "fsbl.elf"), folder))]
    return p
