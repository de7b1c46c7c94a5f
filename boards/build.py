"""Every binary of a flow for a board, from one request: the emulated DUT (the toolchain's software
model behind the host HAL), the toolchain's vendor steps where every tool is there, the board's
firmware for its QEMU machine (when asked for), and what runs on the board itself with the driver
of the toolchain's IP (the bare-metal firmware, and the PYNQ Linux program of a board with a
Linux image). Each target that cannot be built here is named as skipped, with why; nothing stands
in for it. The caller (the build stage) records what comes back."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from boards import firmware
from boards.board import BOARDS_DIR, Board
from common import vendor_release
from common.errors import BuildError
from common.paths import REPO, SHARED
from toolchains.base import Accelerator, ToolchainBase


@dataclass
class BuildRequest:
    """What the build of a flow for a board takes.

    board: the board's description; task_sources, task_defines, input_bytes: the task's firmware
    (its th_* code, the defines of its task_model.h, the model's input size in bytes);
    accelerator: what the emulated board links, the toolchain's software model; qemu_accelerator:
    what the board's firmware for its QEMU machine links, the toolchain's bare-metal model (None:
    the same as accelerator, or there is none, with no_qemu_accelerator saying why);
    board_accelerator: the driver of the toolchain's IP for the firmware on the board itself, or
    None with no_board_accelerator saying why; toolchain and
    convert_dir: whose vendor steps run (where their tools are on PATH) on which converted design;
    qemu: whether the board's firmware for its QEMU machine is wanted; out: the folder to build in;
    build_key: the build stage's key, compiled into every firmware (its `profile` reports it, so a
    run can tell that the DUT holds this build); log: where the build's lines go."""

    board: Board
    task_sources: list[Path]
    task_defines: dict
    input_bytes: int
    accelerator: Accelerator
    out: Path
    board_accelerator: Accelerator | None = None
    no_board_accelerator: str | None = None
    toolchain: ToolchainBase | None = None
    convert_dir: Path | None = None
    qemu: bool = False
    qemu_accelerator: Accelerator | None = None
    no_qemu_accelerator: str | None = None
    build_key: str | None = None
    log: logging.Logger = field(default_factory=lambda: logging.getLogger(__name__))


@dataclass
class BuiltTargets:
    """What was built: {artifact name: path under the request's out} (dut_<variant>, qemu_<variant>,
    board_<variant>, linux_<variant> and the vendor steps' own), and {target: "skipped: why"}."""

    artifacts: dict[str, Path] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def build_all(request: BuildRequest) -> BuiltTargets:
    r, built = request, BuiltTargets()
    b, out = r.board, r.out
    for variant, binary in firmware.build_emulated(b, r.task_sources, r.task_defines, r.input_bytes, r.accelerator,
                                                   out, build_key=r.build_key).items():
        built.artifacts[f"dut_{variant}"] = binary
    vendor = _vendor_steps(r, built)
    if r.qemu:  # built when asked for
        qemu, why = _qemu_firmware(r, out / "qemu")
        if why:
            built.skipped[f"{b.processor.name} firmware in QEMU"] = f"skipped: {why}"
            r.log.warning("build: the %s firmware for QEMU skipped (%s)", b.processor.name, why)
        built.artifacts.update({f"qemu_{variant}": elf for variant, elf in qemu.items()})
    # what runs on the board itself: the firmware (and the PYNQ Linux program) with the IP's driver
    for kind, what, build in (("board", f"{b.processor.name} firmware for the board", _board_firmware),
                              ("linux", "PYNQ Linux program for the board", _linux_program)):
        made, why = build(r, out / kind) if r.board_accelerator else ({}, r.no_board_accelerator)
        if why:
            built.skipped[what] = f"skipped: {why}"
            r.log.warning("build: the %s skipped (%s)", what, why)
        built.artifacts.update({f"{kind}_{variant}": path for variant, path in made.items()})
    built.artifacts.update(vendor)
    return built


def source_folders(board: Board) -> list[str]:
    """The folders a board's builds read (repository-relative): what keys a build of it."""
    folders = [BOARDS_DIR / "common" / "firmware", BOARDS_DIR / "emulated", board.folder]
    if board.firmware_folder not in folders and not board.firmware_folder.is_relative_to(board.folder):
        folders.append(board.firmware_folder)  # a HAL shared by several boards
    return [str(p.relative_to(REPO)) for p in folders]


def _vendor_steps(r: BuildRequest, built: BuiltTargets) -> dict[str, Path]:
    """The toolchain's vendor steps, in order, all or none: {artifact: path}, or each named as skipped."""
    if r.toolchain is None:
        return {}
    steps = r.toolchain.vendor_steps(r.board)
    missing = sorted({tool for tool, _ in steps if shutil.which(tool) is None})
    if missing:
        for tool, what in steps:
            why = f"{tool} not found on PATH" if tool in missing else f"it follows steps that need {', '.join(missing)}"
            built.skipped[what] = f"skipped: {why}"
            r.log.warning("build: %s skipped (%s)", what, why)
        return {}
    if not steps:
        return {}
    vendor_release.check([tool for tool, _ in steps], f"the {r.toolchain.name} vendor build")
    if r.convert_dir is None:
        raise BuildError("the vendor steps build from the convert stage's folder, and the build request names none")
    return {name: r.out / rel for name, rel in r.toolchain.vendor_build(r.board, r.convert_dir, r.out).items()}


def _no_cross_build(b: Board) -> str | None:
    """Why the board's bare-metal firmware cannot be built here, or None."""
    if b.firmware is None:
        return f"board {b.name} describes no bare-metal build"
    compiler, found = firmware.cross_compiler(b)
    if found is None:
        archive = b.processor.toolchain_archive
        return f"{compiler} not found" + (f" (nor the toolchain archive {SHARED / archive})" if archive else "")
    return None


def _board_firmware(r: BuildRequest, out: Path) -> tuple[dict[str, Path], str | None]:
    """The board's bare-metal firmware with the driver of the toolchain's IP: ({variant: ELF}, None),
    or ({}, why not)."""
    why = _no_cross_build(r.board)
    if why:
        return {}, why
    assert r.board_accelerator is not None  # build_all asks only with a driver
    return firmware.build_cross(r.board, r.task_sources, r.task_defines, r.input_bytes, r.board_accelerator, out,
                                target="board", build_key=r.build_key), None


def _linux_program(r: BuildRequest, out: Path) -> tuple[dict[str, Path], str | None]:
    """The protocol core as a PYNQ Linux program with the driver of the toolchain's IP (boards with
    a Linux image): ({variant: program}, None), ({}, why not), or ({}, None) for other boards."""
    lx = r.board.linux
    if lx is None:
        return {}, None
    if shutil.which(lx.compiler) is None:
        return {}, f"{lx.compiler} not found on PATH"
    assert r.board_accelerator is not None  # build_all asks only with a driver
    return firmware.build_linux(r.board, r.task_sources, r.task_defines, r.input_bytes, r.board_accelerator, out,
                                build_key=r.build_key), None


def _qemu_firmware(r: BuildRequest, out: Path) -> tuple[dict[str, Path], str | None]:
    """The board's firmware for its QEMU machine, the toolchain's software model behind the
    accelerator interface: ({variant: ELF}, None), or ({}, why not)."""
    b, accel = r.board, r.qemu_accelerator or r.accelerator
    if b.firmware is None or b.firmware.qemu is None:
        return {}, f"board {b.name} describes no QEMU machine"
    why = _no_cross_build(b)
    if why:
        return {}, why
    if r.no_qemu_accelerator:
        return {}, r.no_qemu_accelerator
    if any(s.suffix != ".c" for s in accel.sources):
        why = firmware.no_cross_cxx(b)
        if why:
            return {}, f"the accelerator model ({accel.name}) is C++, and {why}"
    return firmware.build_cross(b, r.task_sources, r.task_defines, r.input_bytes, accel, out, target="qemu",
                                build_key=r.build_key), None
