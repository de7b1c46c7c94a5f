"""What FINN's vendor build made, as a board's vendor steps take it (toolchains/base.py
AcceleratorIp, ShellDesign): the stitched IP (its component.xml; its own IP repository and its
layers', which its make_project.tcl lists; the words of one inference's output, from finn_io.h,
since FINN's output stream has no TLAST), and in FINN's Zynq shell the bitfile/ folder and the
Vivado project its build records in the intermediate models (metadata vivado_pynq_proj)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

from common.errors import BuildError
from toolchains.base import AcceleratorIp, ShellDesign
from toolchains.finn import board_io

STITCHED = "stitched_ip"  # vendor_build's artifact names (build.hardware)
BITFILE = "bitfile"


def accelerator_ip(artifacts: Mapping[str, Path], convert_dir: Path | None) -> AcceleratorIp:
    """FINN's stitched IP with the IP repositories of its layers, and its output words per inference."""
    if STITCHED not in artifacts:
        raise BuildError(f"the build stage made no accelerator IP (no '{STITCHED}' among {', '.join(artifacts)}): "
                         f"FINN's stitched IP is built where Vivado and Vitis HLS are installed")
    stitched = Path(artifacts[STITCHED])
    return AcceleratorIp(stitched / "ip" / "component.xml", _repos(stitched), _output_words(convert_dir))


def _repos(stitched: Path) -> list[Path]:
    """The stitched IP's own repository and its layers' (FINN's make_project.tcl lists them)."""
    repos = [stitched / "ip"]
    script = stitched / "make_project.tcl"
    listed = re.search(r"set_property ip_repo_paths \[list ([^\]]*)\]", script.read_text()) if script.is_file() else None
    for entry in (listed.group(1).split() if listed else []):
        if "$::env(FINN_RTLLIB)" in entry:
            entry = entry.replace("$::env(FINN_RTLLIB)", str(_rtllib()))
        if Path(entry).is_dir() and Path(entry) not in repos:
            repos.append(Path(entry))
    return repos


def _rtllib() -> Path:
    import os
    from importlib.util import find_spec

    if os.environ.get("FINN_RTLLIB"):
        return Path(os.environ["FINN_RTLLIB"])
    spec = find_spec("finn")
    return Path(spec.origin).parent / "finn-rtllib" if spec and spec.origin else Path("finn-rtllib")


def _output_words(convert_dir: Path | None) -> int | None:
    """Words per inference of FINN's output stream (finn_io.h FINN_OUT_WORDS), or None without it."""
    header = convert_dir / board_io.HEADER if convert_dir else None
    found = re.search(r"#define FINN_OUT_WORDS (\d+)", header.read_text()) if header and header.is_file() else None
    return int(found.group(1)) if found else None


def shell_design(board, artifacts: Mapping[str, Path]) -> ShellDesign:
    """The bitstream of FINN's Zynq shell (its bitfile/ folder) and the Vivado project that made it."""
    if board.vivado.finn_board is None:
        raise BuildError(f"FINN has no Zynq shell for the {board.name} (board.yaml vivado.finn_board): its IP goes into "
                         f"the board's own block design")
    if BITFILE not in artifacts:
        raise BuildError(f"the build stage made no '{BITFILE}' for the {board.name} (it needs Vivado): see its manifest")
    folder = Path(artifacts[BITFILE])
    return ShellDesign(bitstream(folder), *_project(folder))


def bitstream(folder: Path) -> Path:
    """The .bit file of FINN's bitfile/ folder (the file itself where given one)."""
    if folder.is_dir():
        found = sorted(folder.glob("*.bit"))
        if len(found) != 1:
            raise BuildError(f"expected one .bit in {folder}, found {[p.name for p in found]}")
        return found[0]
    return folder


def _project(bitfile: Path) -> tuple[Path | None, str]:
    """FINN's Zynq project, as the build's newest intermediate model records it (vivado_pynq_proj)."""
    models = sorted((bitfile.parent if bitfile.is_file() else bitfile).parent.glob("intermediate_models/*.onnx"),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for model in models:
        folder = _metadata(model, "vivado_pynq_proj")
        if folder and sorted(Path(folder).glob("*.xpr")):
            return sorted(Path(folder).glob("*.xpr"))[0], ""
    return None, (f"no Vivado project found for the bitstream {bitfile} (looked for FINN's vivado_pynq_proj metadata in "
                  f"its intermediate models; FINN keeps that project under FINN_BUILD_DIR, which may be gone)")


def _metadata(model: Path, key: str) -> str | None:
    try:
        import onnx

        props = onnx.load(str(model), load_external_data=False).metadata_props
    except Exception:  # an unreadable model names no project
        return None
    return next((p.value for p in props if p.key == key), None)
