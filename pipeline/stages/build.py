"""build: every binary of the flow for the board, in one request to boards/ (boards/build.py): the
emulated DUT, the firmware for QEMU, the firmware and PYNQ Linux program for the board with the
IP's driver, and the vendor steps where the tools exist (each target that cannot be built here is
named as skipped, with why). This stage assembles the request from the flow and records the result."""

from __future__ import annotations

import logging
from pathlib import Path

from boards.build import BuildRequest, build_all, source_folders
from common.errors import BuildError, ConfigError
from pipeline.flow import Flow
from pipeline.stages.stage import Stage

log = logging.getLogger("pipeline")


def _build_params(f: Flow) -> dict:
    return {"board": f.board_cfg.model_dump(), "input_bytes": f.recipe.input_bytes, "timing": f.timing,
            "qemu": f.dut == "qemu"}


def _build(f: Flow, out: Path) -> dict:
    from pipeline.execute import stage_key

    # this stage's own key (what run_stages recorded it under), compiled into every firmware: its
    # `profile` reports it, and the run stage refuses a DUT that reports another
    key = stage_key(f, "build")[0]
    convert = f.artifacts("convert")["convert"]
    accel = f.toolchain.accelerator(convert)
    qemu_accel, no_qemu_accel = None, None
    if f.dut == "qemu":  # the board's firmware in QEMU links the toolchain's bare-metal model
        try:
            qemu_accel = f.toolchain.qemu_accelerator(convert)
        except BuildError as e:
            no_qemu_accel = str(e)
    modeled = None
    if f.timing == "modeled":
        modeled = f.toolchain.latency(f.recipe, f.model, f.artifacts("train"), f.manifest("convert")["outputs"], f.board_cfg)
        if modeled is None:
            raise ConfigError(f"timing=modeled: flow={f.flow} has no latency model for this design (see its latency module)")
        for a in filter(None, (accel, qemu_accel)):
            a.defines.update(EE_TIMING_MODELED=1, EE_MODELED_INFER_NS=round(1000 * modeled["modeled_latency_us"]))
        log.info("build: modeled timing, %.2f us per inference (%s)", modeled["modeled_latency_us"], modeled["what"])
    try:  # what runs on the board itself links the driver of the toolchain's IP
        driver, no_driver = f.toolchain.board_accelerator(f.board_cfg, convert), None
    except BuildError as e:
        driver, no_driver = None, str(e)
    built = build_all(BuildRequest(
        board=f.board_cfg, task_sources=f.recipe.firmware_sources, task_defines=f.recipe.firmware_defines(f.artifacts("train")),
        input_bytes=f.recipe.input_bytes, accelerator=accel, out=out, board_accelerator=driver, no_board_accelerator=no_driver,
        toolchain=f.toolchain, convert_dir=convert, qemu=f.dut == "qemu", qemu_accelerator=qemu_accel,
        no_qemu_accelerator=no_qemu_accel, build_key=key, log=log))
    return {"build_key": key, "accelerator": accel.name, "skipped": built.skipped, "modeled_latency": modeled,
            "board_accelerator": driver and driver.name,
            "artifacts": {name: str(path.relative_to(out)) for name, path in built.artifacts.items()}}


STAGE = Stage("build", _build_params, lambda f: {"modules": ["boards.build", f"tasks.{f.task}.recipe"],
                                                 "files": [*source_folders(f.board_cfg), *f.recipe.sources["firmware"]["files"],
                                                           *f.toolchain.board_files]},
              ["convert"], _build)
