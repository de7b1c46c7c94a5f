"""The Zynq-7000 steps after a toolchain has implemented its design: the hardware platform (XSA) of
its Vivado project, the FSBL built from it, BOOT.BIN (bootgen), the QSPI flash, the PS
initialisation (ps7_init) and programming over JTAG."""

from __future__ import annotations

import zipfile
from pathlib import Path

from boards.board import BOARDS_DIR
from boards.vendor.steps import HW_SERVER, Step, tclargs, vivado_batch
from common.errors import BuildError

SCRIPTS = BOARDS_DIR / "pynq_z2" / "vivado"


def vivado_project(bitfile: Path) -> Path:
    """The Vivado project that implemented a bitstream: <dir>/<project>.runs/impl_1/x.bit belongs to
    <dir>/<project>.xpr (hls4ml's design); FINN's bitfile/ folder records its Zynq project in the
    build's intermediate models (metadata vivado_pynq_proj)."""
    bitfile = Path(bitfile)
    for parent in bitfile.parents:
        if parent.suffix == ".runs":
            xpr = parent.with_suffix(".xpr")
            if xpr.is_file():
                return xpr
            break
    models = sorted((bitfile.parent if bitfile.is_file() else bitfile).parent.glob("intermediate_models/*.onnx"),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for model in models:
        folder = _metadata(model, "vivado_pynq_proj")
        if folder and sorted(Path(folder).glob("*.xpr")):
            return sorted(Path(folder).glob("*.xpr"))[0]
    raise BuildError(f"no Vivado project found for the bitstream {bitfile} (looked for a .runs/ parent and FINN's "
                     f"vivado_pynq_proj metadata; FINN keeps that project under FINN_BUILD_DIR, which may be gone)")


def _metadata(model: Path, key: str) -> str | None:
    try:
        import onnx

        props = onnx.load(str(model), load_external_data=False).metadata_props
    except Exception:  # an unreadable model names no project
        return None
    return next((p.value for p in props if p.key == key), None)


def bitstream(bitfile: Path) -> Path:
    """The .bit file of a bitfile artifact (hls4ml: the file; FINN: its bitfile/ folder)."""
    bitfile = Path(bitfile)
    if bitfile.is_dir():
        found = sorted(bitfile.glob("*.bit"))
        if len(found) != 1:
            raise BuildError(f"expected one .bit in {bitfile}, found {[p.name for p in found]}")
        return found[0]
    return bitfile


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
