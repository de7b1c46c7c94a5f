"""The Zynq-7000 steps after a toolchain has implemented its design (toolchains/base.py ShellDesign):
the hardware platform (XSA) of its Vivado project, the FSBL built from it, BOOT.BIN (bootgen), the QSPI flash, the PS
initialisation (ps7_init) and programming over JTAG."""

from __future__ import annotations

import zipfile
from pathlib import Path

from boards.board import BOARDS_DIR
from boards.vendor.steps import HW_SERVER, Step, tclargs, vivado_batch
from common.errors import BuildError
from toolchains.base import ShellDesign

SCRIPTS = BOARDS_DIR / "pynq_z2" / "vivado"


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


def qspi_step(boot_bin: Path, fsbl: Path, hw_server: str = HW_SERVER) -> Step:
    return Step("writing BOOT.BIN to the Pynq-Z2's QSPI flash", "program_flash",
                ["-f", str(boot_bin), "-offset", "0", "-flash_type", "qspi-x4-single", "-fsbl", str(fsbl), "-url", hw_server],
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


def pynq_jtag_step(bit: Path, xsa: Path, ps7: Path, elf: Path, hw_server: str = HW_SERVER) -> Step:
    return Step("programming the pynq_z2 over JTAG", "xsct", [str(SCRIPTS / "program_jtag.tcl"),
                *tclargs({"bit": bit, "xsa": xsa, "ps7_init": ps7, "elf": elf, "hw_server": hw_server})])
