"""The hls4ml design for a board, through hls4ml's own VivadoAccelerator backend: the same Keras
model and per-layer types as the emulated design, wrapped by hls4ml in an AXI-stream top
(myproject_axi, float words in and out), which the board firmware drives through an AXI DMA
(accel_hls4ml_board.c). Where hls4ml knows the board (board.yaml vivado.hls4ml_board: the
Pynq-Z2) it also writes the block design (design.tcl: PS7, AXI DMA, the IP) and a PYNQ driver, and
the build stage builds it to a bitstream with hls4ml's build(..., bitfile=True). Elsewhere (the
Arty A7) the top is written with hls4ml's Zynq template for the board's part, hls4ml's Zynq block
design is removed, and the build stage synthesises and exports the top as IP for the board's own
block design (boards/<board>/vivado). Written by the convert stage (no vendor tool needed)."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

log = logging.getLogger(__name__)
PROJECT = "board_prj"
INTERFACE = "axi_stream"
BITFILE = "myproject_vivado_accelerator/project_1.runs/impl_1/design_1_wrapper.bit"
AXI_TOP_TEMPLATE = "pynq-z2"  # the VivadoAccelerator board whose AXI-stream top serves a board hls4ml does not know
ZYNQ_ONLY = ("design.tcl", "axi_stream_driver.py")  # hls4ml's pieces for its own board, not ours
IP = "myproject_prj/solution1/impl/ip"  # where Vivado HLS exports the top as IP (in the project folder)


def write(keras_model, hls_config: dict, board, clock_period_ns: float, io_type: str, top: str, out: Path) -> str:
    """Write the board project under out/PROJECT; returns its folder name."""
    from frameworks import keras2  # noqa: F401  (Keras 2 set up before hls4ml loads Keras)

    # isort: split
    import hls4ml

    project = out / PROJECT
    hls_model = hls4ml.converters.convert_from_keras_model(
        keras_model, hls_config=copy.deepcopy(hls_config), output_dir=str(project), project_name=top,
        backend="VivadoAccelerator", board=board.vivado.hls4ml_board or AXI_TOP_TEMPLATE, part=board.part,
        clock_period=clock_period_ns, io_type=io_type, interface=INTERFACE)
    hls_model.write()
    if not board.vivado.hls4ml_board:
        for name in ZYNQ_ONLY:
            (project / name).unlink(missing_ok=True)
        _retarget(project, hls_model.config.get_config_value("Part"), board.part)
    config = project / "hls4ml_config.yml"  # relative paths: the stage folder is renamed when it completes
    config.write_text(config.read_text().replace(str(project.resolve()), "."))
    log.info("hls4ml: %s board project (VivadoAccelerator, %s%s) in %s", board.name, INTERFACE,
             "" if board.vivado.hls4ml_board else ", the AXI-stream top only", PROJECT)
    return PROJECT


def _retarget(project: Path, template_part: str, part: str) -> None:
    """VivadoAccelerator puts its template board's part in the project whatever part it is given:
    the HLS project (project.tcl, the config the build reads) gets the board's own."""
    for name in ("project.tcl", "hls4ml_config.yml"):
        text = (project / name).read_text()
        if template_part not in text:
            from common.errors import BuildError

            raise BuildError(f"hls4ml's {name} does not name the part {template_part} to replace with {part}")
        (project / name).write_text(text.replace(template_part, part))


def build(convert_dir: Path, out: Path, bitfile: bool = True) -> dict[str, str]:
    """hls4ml's own build of the board project, in a copy under out: HLS synthesis and IP export
    (Vivado HLS), then (bitfile) its design.tcl in Vivado to the bitstream."""
    import os
    import shutil

    from frameworks import keras2  # noqa: F401  (Keras 2 set up before hls4ml loads Keras)

    # isort: split
    import hls4ml

    project = out / PROJECT
    shutil.copytree(convert_dir / PROJECT, project, dirs_exist_ok=True)
    here = os.getcwd()
    os.chdir(project)  # the config's paths are relative to the project
    try:  # the project as written (a retargeted part stays), or hls4ml's own board design from its config
        hls_model = (hls4ml.converters.convert_from_config(str(project / "hls4ml_config.yml")) if bitfile
                     else hls4ml.converters.link_existing_project(str(project)))
        hls_model.build(csim=False, synth=True, export=True, bitfile=bitfile)
    finally:
        os.chdir(here)
    if not bitfile:
        if not (project / IP).is_dir():
            from common.errors import BuildError

            raise BuildError(f"hls4ml's HLS build finished without the exported IP {project / IP}: see the logs in {project}")
        return {"board_project": PROJECT, "ip": f"{PROJECT}/{IP}"}
    if not (project / BITFILE).is_file():
        from common.errors import BuildError

        raise BuildError(f"hls4ml's board build finished without {project / BITFILE}: see the Vivado logs in {project}")
    return {"board_project": PROJECT, "bitfile": f"{PROJECT}/{BITFILE}"}
