"""The one AMD Vivado/Vitis release every vendor step is written for, and the check that the tools
on PATH are that release (docs/toolchains.md D: why 2024.2).

Every step that runs a vendor tool (hls4ml's HLS synthesis and IP export, FINN's HLS IP and stitched
IP, the boards' block designs, boot images and programming) calls `check` with the tools it is about
to run: a tool from another release is named with the release it belongs to, before anything runs.
A release is read from where the tool is installed (…/Vivado/2024.2/bin/vivado, or the 2025.1+
layout …/2025.1/Vivado/bin/vivado), else from the XILINX_* variable its settings64.sh sets. A
submitter who chooses to try another release says so with VENDOR_RELEASE=<release>: the steps then
run with a warning that the release is not the one the scripts were written for."""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path
from typing import Iterable

from common.errors import BuildError

log = logging.getLogger(__name__)

RELEASE = "2024.2"
ACCEPT_ENV = "VENDOR_RELEASE"  # a release the user accepts in its place, at their own risk
_RELEASE_RE = re.compile(r"20\d\d\.\d")
# where settings64.sh records each tool's installation (a fallback where the path names no release)
_INSTALL_ENV = {"vivado": "XILINX_VIVADO", "updatemem": "XILINX_VIVADO", "vitis_hls": "XILINX_HLS",
                "vitis-run": "XILINX_VITIS", "xsct": "XILINX_VITIS", "xsdb": "XILINX_VITIS", "bootgen": "XILINX_VITIS",
                "program_flash": "XILINX_VITIS"}


class ReleaseMismatch(BuildError):
    """A vendor tool on PATH belongs to another release than the one the steps are written for."""


def release_of(tool: str) -> str | None:
    """The release of `tool` as found on PATH (its install path, then its XILINX_* variable), or None."""
    found = shutil.which(tool)
    candidates = [Path(found).resolve(), Path(found)] if found else []
    if os.environ.get(_INSTALL_ENV.get(tool, "XILINX_VIVADO")):
        candidates.append(Path(os.environ[_INSTALL_ENV.get(tool, "XILINX_VIVADO")]))
    for path in candidates:
        releases = [part for part in path.parts if _RELEASE_RE.fullmatch(part)]
        if releases:
            return releases[-1]
    return None


def check(tools: Iterable[str], what: str) -> None:
    """Raise ReleaseMismatch naming every tool (on PATH) of another release than RELEASE, or than
    $VENDOR_RELEASE where the user accepts one; a tool whose release cannot be read is logged."""
    wanted = os.environ.get(ACCEPT_ENV, "").strip() or RELEASE
    if wanted != RELEASE and not _RELEASE_RE.fullmatch(wanted):
        raise BuildError(f"{ACCEPT_ENV}={wanted}: give a release such as {RELEASE}")
    found = {tool: release_of(tool) for tool in dict.fromkeys(tools) if shutil.which(tool)}
    wrong = {tool: release for tool, release in found.items() if release is not None and release != wanted}
    if wrong:
        names = ", ".join(f"{tool} {release}" for tool, release in wrong.items())
        raise ReleaseMismatch(f"{what} is written for Vivado/Vitis {RELEASE}, but PATH has {names}: source {RELEASE}'s "
                              f"settings64.sh (or set {ACCEPT_ENV}=<release> to try that release at your own risk)")
    unknown = sorted(tool for tool, release in found.items() if release is None)
    if unknown:
        log.warning("cannot tell the Vivado/Vitis release of %s (neither its path nor its XILINX_* variable names one); "
                    "%s is written for %s", ", ".join(unknown), what, RELEASE)
    if wanted != RELEASE and found:
        log.warning("%s runs with Vivado/Vitis %s (%s=%s); its scripts are written for %s", what, wanted, ACCEPT_ENV,
                    wanted, RELEASE)
