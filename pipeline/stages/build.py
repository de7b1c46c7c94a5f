"""build: every binary of the flow for the board: the emulated DUT, the firmware for QEMU, the
firmware and PYNQ Linux program for the board with the IP's driver, and the vendor steps where
the tools exist (each target that cannot be built here is named as skipped, with why)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from boards import firmware
from common.errors import BuildError, ConfigError
from pipeline.flow import Flow
from pipeline.stages.stage import Stage

log = logging.getLogger("pipeline")


def _build_params(f: Flow) -> dict:
    return {"board": f.board_cfg.model_dump(), "input_bytes": f.recipe.input_bytes, "timing": f.timing,
            "qemu": f.dut == "qemu"}


def _build(f: Flow, out: Path) -> dict:
    accel = f.toolchain.accelerator(f.artifacts("convert")["convert"])
    defines = f.recipe.firmware_defines(f.artifacts("train"))
    modeled = None
    if f.timing == "modeled":
        modeled = f.toolchain.latency(f.recipe, f.model, f.artifacts("train"), f.manifest("convert")["outputs"], f.board_cfg)
        if modeled is None:
            raise ConfigError(f"timing=modeled: flow={f.flow} has no latency model for this design (see its latency module)")
        accel.defines.update(EE_TIMING_MODELED=1, EE_MODELED_INFER_NS=round(1000 * modeled["modeled_latency_us"]))
        log.info("build: modeled timing, %.2f us per inference (%s)", modeled["modeled_latency_us"], modeled["what"])
    binaries = firmware.build_emulated(f.board_cfg, f.recipe.firmware_sources, defines, f.recipe.input_bytes, accel, out)
    skipped, vendor = {}, {}
    steps = f.toolchain.vendor_steps(f.board_cfg)
    missing = sorted({tool for tool, _ in steps if shutil.which(tool) is None})
    if missing:  # the vendor steps run in order, all or none
        for tool, what in steps:
            why = f"{tool} not found on PATH" if tool in missing else f"it follows steps that need {', '.join(missing)}"
            skipped[what] = f"skipped: {why}"
            log.warning("build: %s skipped (%s)", what, why)
    elif steps:
        vendor = f.toolchain.vendor_build(f.board_cfg, f.artifacts("convert")["convert"], out)
    qemu, why = _qemu_firmware(f, accel, defines, out) if f.dut == "qemu" else ({}, None)  # built when asked for
    if why:
        skipped[f"{f.board_cfg.processor.name} firmware in QEMU"] = f"skipped: {why}"
        log.warning("build: the %s firmware for QEMU skipped (%s)", f.board_cfg.processor.name, why)
    try:  # what runs on the board itself: the firmware (and the PYNQ Linux program) with the IP's driver
        driver, no_driver = f.toolchain.board_accelerator(f.board_cfg, f.artifacts("convert")["convert"]), None
    except BuildError as e:
        driver, no_driver = None, str(e)
    on_board = {}
    for kind, what, build in (("board", f"{f.board_cfg.processor.name} firmware for the board", _board_firmware),
                              ("linux", "PYNQ Linux program for the board", _linux_program)):
        made, why = build(f, driver, defines, out / kind) if driver else ({}, no_driver)
        if why:
            skipped[what] = f"skipped: {why}"
            log.warning("build: the %s skipped (%s)", what, why)
        on_board.update({f"{kind}_{variant}": str(e.relative_to(out)) for variant, e in made.items()})
    return {"accelerator": accel.name, "skipped": skipped, "modeled_latency": modeled,
            "board_accelerator": driver and driver.name,
            "artifacts": {**{f"dut_{variant}": str(b.relative_to(out)) for variant, b in binaries.items()},
                          **{f"qemu_{variant}": str(e.relative_to(out)) for variant, e in qemu.items()}, **on_board, **vendor}}


def _no_cross_build(b) -> str | None:
    """Why the board's bare-metal firmware cannot be built here, or None."""
    if b.firmware is None:
        return f"board {b.name} describes no bare-metal build"
    compiler, found = firmware.cross_compiler(b)
    if found is None:
        return f"{compiler} not found" + (f" (nor ../shared/{b.processor.toolchain_archive})" if b.processor.toolchain_archive else "")
    return None


def _board_firmware(f: Flow, driver, defines: dict, out: Path) -> tuple[dict[str, Path], str | None]:
    """The board's bare-metal firmware with the driver of the toolchain's IP: ({variant: ELF}, None),
    or ({}, why not)."""
    why = _no_cross_build(f.board_cfg)
    if why:
        return {}, why
    return firmware.build_cross(f.board_cfg, f.recipe.firmware_sources, defines, f.recipe.input_bytes, driver, out,
                                target="board"), None


def _linux_program(f: Flow, driver, defines: dict, out: Path) -> tuple[dict[str, Path], str | None]:
    """The protocol core as a PYNQ Linux program with the driver of the toolchain's IP (boards with
    a Linux image): ({variant: program}, None), ({}, why not), or ({}, None) for other boards."""
    lx = f.board_cfg.linux
    if lx is None:
        return {}, None
    if shutil.which(lx.compiler) is None:
        return {}, f"{lx.compiler} not found on PATH"
    return firmware.build_linux(f.board_cfg, f.recipe.firmware_sources, defines, f.recipe.input_bytes, driver, out), None


def _qemu_firmware(f: Flow, accel, defines: dict, out: Path) -> tuple[dict[str, Path], str | None]:
    """The board's firmware for its QEMU machine, the toolchain's software model behind the
    accelerator interface: ({variant: ELF}, None), or ({}, why not)."""
    b = f.board_cfg
    if b.firmware is None or b.firmware.qemu is None:
        return {}, f"board {b.name} describes no QEMU machine"
    why = _no_cross_build(b)
    if why:
        return {}, why
    if any(s.suffix != ".c" for s in accel.sources):
        return {}, f"the accelerator model ({accel.name}) is C++, and the firmware is built as C"
    return firmware.build_cross(b, f.recipe.firmware_sources, defines, f.recipe.input_bytes, accel, out / "qemu",
                                target="qemu"), None


STAGE = Stage("build", _build_params, lambda f: {"modules": ["boards.firmware", f"tasks.{f.task}.recipe"],
                                                 "files": ["boards/common/firmware", "boards/emulated", f"boards/{f.board}",
                                                           *f.recipe.sources["firmware"]["files"], *f.toolchain.board_files]},
              ["convert"], _build)
