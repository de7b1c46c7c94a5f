"""What hls4ml's vendor build made, as a board's vendor steps take it (toolchains/base.py
AcceleratorIp, ShellDesign): the AXI-stream top exported as IP by Vivado HLS (board_project.IP; its
output stream has TLAST), and where hls4ml knows the board its implemented VivadoAccelerator design:
the bitstream under <project>.runs/impl_1/ and the project <project>.xpr beside that folder."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from common.errors import BuildError
from toolchains.base import AcceleratorIp, ShellDesign

IP = "ip"  # vendor_build's artifact names (board_project.build)
BITFILE = "bitfile"


def accelerator_ip(artifacts: Mapping[str, Path]) -> AcceleratorIp:
    """hls4ml's AXI-stream top as Vivado HLS exported it: one IP repository, the IP's own."""
    if IP not in artifacts:
        raise BuildError(f"the build stage made no accelerator IP (no '{IP}' among {', '.join(artifacts)}): "
                         f"hls4ml's IP is exported where Vivado HLS is installed")
    folder = Path(artifacts[IP])
    return AcceleratorIp(folder / "component.xml", [folder])


def shell_design(board, artifacts: Mapping[str, Path]) -> ShellDesign:
    """The bitstream of hls4ml's own design for the board (design.tcl) and the project that made it."""
    if board.vivado.hls4ml_board is None:
        raise BuildError(f"hls4ml has no design of its own for the {board.name} (board.yaml vivado.hls4ml_board): its IP "
                         f"goes into the board's own block design")
    if BITFILE not in artifacts:
        raise BuildError(f"the build stage made no '{BITFILE}' for the {board.name} (it needs Vivado): see its manifest")
    bit = Path(artifacts[BITFILE])
    return ShellDesign(bit, *_project(bit))


def _project(bit: Path) -> tuple[Path | None, str]:
    """<dir>/<project>.runs/impl_1/x.bit belongs to <dir>/<project>.xpr."""
    for parent in bit.parents:
        if parent.suffix == ".runs":
            xpr = parent.with_suffix(".xpr")
            if xpr.is_file():
                return xpr, ""
            break
    return None, f"no Vivado project found for the bitstream {bit} (looked for the .xpr beside its .runs/ folder)"
