"""The hls4ml design for a board, through hls4ml's own VivadoAccelerator backend where it knows the
board (board.yaml vivado.hls4ml_board: the Pynq-Z2): the same Keras model and per-layer types as the
emulated design, wrapped by hls4ml in an AXI-stream top (myproject_axi, float words in and out)
with its block design (design.tcl: PS7, AXI DMA, the IP) and PYNQ driver. Written by the convert
stage (no vendor tool needed); built by the build stage where Vivado HLS and Vivado exist, with
hls4ml's build(..., bitfile=True). The Arty A7 is not a VivadoAccelerator board: its MicroBlaze
block design is not in the harness yet."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

log = logging.getLogger(__name__)
PROJECT = "board_prj"
INTERFACE = "axi_stream"
BITFILE = "myproject_vivado_accelerator/project_1.runs/impl_1/design_1_wrapper.bit"


def write(keras_model, hls_config: dict, board, clock_period_ns: float, io_type: str, top: str, out: Path) -> str:
    """Write the board project under out/PROJECT; returns its folder name."""
    import hls4ml

    project = out / PROJECT
    hls_model = hls4ml.converters.convert_from_keras_model(
        keras_model, hls_config=copy.deepcopy(hls_config), output_dir=str(project), project_name=top,
        backend="VivadoAccelerator", board=board.vivado.hls4ml_board, part=board.part, clock_period=clock_period_ns,
        io_type=io_type, interface=INTERFACE)
    hls_model.write()
    config = project / "hls4ml_config.yml"  # relative paths: the stage folder is renamed when it completes
    config.write_text(config.read_text().replace(str(project.resolve()), "."))
    log.info("hls4ml: %s board project (VivadoAccelerator, %s) in %s", board.vivado.hls4ml_board, INTERFACE, PROJECT)
    return PROJECT


def build(convert_dir: Path, out: Path) -> dict[str, str]:
    """hls4ml's own build of the board project, in a copy under out: HLS synthesis and IP export
    (Vivado HLS), then its design.tcl in Vivado to the bitstream."""
    import os
    import shutil

    import hls4ml

    project = out / PROJECT
    shutil.copytree(convert_dir / PROJECT, project, dirs_exist_ok=True)
    here = os.getcwd()
    os.chdir(project)  # the config's paths are relative to the project
    try:
        hls_model = hls4ml.converters.convert_from_config(str(project / "hls4ml_config.yml"))
        hls_model.build(csim=False, synth=True, export=True, bitfile=True)
    finally:
        os.chdir(here)
    if not (project / BITFILE).is_file():
        from common.errors import BuildError

        raise BuildError(f"hls4ml's board build finished without {project / BITFILE}: see the Vivado logs in {project}")
    return {"board_project": PROJECT, "bitfile": f"{PROJECT}/{BITFILE}"}
