"""What hls4ml's vendor build made, as a board's vendor steps take it (toolchains/base.py
AcceleratorIp): the AXI-stream top exported as IP by Vitis HLS (board_project.IP), one 32-bit word
per value each way; its output stream has no TLAST, so the IP declares its words per inference
(accel_axis.h ACCEL_N_OUT) for the block design to mark. hls4ml has no Zynq design of its own here:
every board's block design is ours (board_project.py says why)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

from common.errors import BuildError
from toolchains.base import AcceleratorIp, ShellDesign
from toolchains.hls4ml import board_project

IP = "ip"  # vendor_build's artifact name (board_project.build)


def accelerator_ip(artifacts: Mapping[str, Path], convert_dir: Path | None) -> AcceleratorIp:
    """hls4ml's model under our AXI-stream top as Vitis HLS exported it: one IP repository, the IP's own."""
    if IP not in artifacts:
        raise BuildError(f"the build stage made no accelerator IP (no '{IP}' among {', '.join(artifacts)}): "
                         f"hls4ml's board IP is exported where Vitis HLS ({board_project.TOOL}) is installed")
    folder = Path(artifacts[IP])
    return AcceleratorIp(folder / "component.xml", [folder], output_words(convert_dir))


def output_words(convert_dir: Path | None) -> int | None:
    """Words per inference of the top's output stream (accel_axis.h ACCEL_N_OUT), or None without it."""
    headers = sorted(convert_dir.glob(f"*/{board_project.HEADER}")) if convert_dir else []  # in hls4ml's project folder
    found = re.search(r"#define ACCEL_N_OUT (\d+)", headers[0].read_text()) if headers else None
    return int(found.group(1)) if found else None


def shell_design(board, artifacts: Mapping[str, Path]) -> ShellDesign:
    raise BuildError(f"hls4ml has no design of its own for the {board.name}: its IP goes into the board's own block "
                     f"design (board.yaml vivado.plan for flow hls4ml)")
