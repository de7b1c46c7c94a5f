"""The hls4ml accelerator as a board's block design takes it, built with the one Vivado/Vitis
release every vendor step is written for (common/vendor_release.py).

The IP is the Vitis backend's project that the convert stage wrote and checked (hls4ml's C simulation
and the emulator, bit for bit) under an AXI-stream top of ours (accel_axis.cpp: one 32-bit word per
value each way, the raw fixed-point bits, exact for any type up to 32 bits; no TLAST), synthesised
and exported as IP by Vitis HLS: `vitis-run --mode hls --tcl accel_axis.tcl`, the command hls4ml's
own Vitis build runs. Every board's block design takes that IP behind an AXI DMA
(boards/common/vivado/accelerator.tcl): our Zynq design on the Pynq-Z2 and the ZedBoard, our
MicroBlaze design on the Arty A7. hls4ml's VivadoAccelerator backend is not used: its HLS step runs
vivado_hls, last shipped in Vivado 2020.1, which no release that also has Vitis HLS for FINN contains
(docs/toolchains.md D).

`write` runs in the convert stage (no vendor tool needed); `build` in the build stage, where
vitis-run is on PATH."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

from common.cheader import write_header
from common.errors import BuildError

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TOP_SOURCE = HERE / "accel_axis.cpp"
SCRIPT = HERE / "accel_axis.tcl"
HEADER = "accel_axis.h"
TOOL = "vitis-run"
IP = "accel_axis_prj/solution1/impl/ip"  # where export_design puts the IP, in the project folder
WORD_BITS = 32


def write(project_dir: Path, n_in: int, n_out: int, in_type, out_type, top: str, io_stream: bool) -> dict:
    """Put the AXI-stream top, its header and its Vitis HLS script into hls4ml's project folder;
    in_type/out_type: hls4ml's precision types of the model's input and output. Raises BuildError
    where a value does not fit its 32-bit word (the top's static_asserts check the same at compile
    time)."""
    if in_type.width > WORD_BITS or out_type.width + (0 if out_type.signed else 1) > WORD_BITS:
        raise BuildError(f"the accelerator's words are 32 bits: input {in_type} or output {out_type} does not fit one")
    write_header(project_dir / HEADER, "ACCEL_AXIS_H", {
        "ACCEL_N_IN": n_in, "ACCEL_N_OUT": n_out, "ACCEL_IN_WIDTH": in_type.width, "ACCEL_OUT_WIDTH": out_type.width,
        "ACCEL_IN_SIGNED": int(bool(in_type.signed)), "ACCEL_OUT_SIGNED": int(bool(out_type.signed)),
        "ACCEL_IO_STREAM": int(io_stream), "ACCEL_TOP": top})
    for source in (TOP_SOURCE, SCRIPT):
        shutil.copy(source, project_dir / source.name)
    log.info("hls4ml: the board IP's AXI-stream top (%s, 32-bit words) and its Vitis HLS script in %s", TOP_SOURCE.name,
             project_dir.name)
    return {"top": "accel_axis", "script": SCRIPT.name, "word_bits": WORD_BITS, "tool": TOOL}


def build(project_dir: Path, out: Path) -> dict[str, str]:
    """Vitis HLS synthesis and IP export of the top, on a copy of the project under out; returns the
    artifacts {"hls_project": ..., "ip": ...} relative to out."""
    project = out / project_dir.name
    shutil.copytree(project_dir, project, dirs_exist_ok=True)
    if not (project / SCRIPT.name).is_file():
        raise BuildError(f"{project_dir} has no {SCRIPT.name}: convert again (the board IP's top is written there)")
    log_file = project / "accel_axis_hls.log"
    log.info("hls4ml: Vitis HLS synthesis and IP export of the AXI-stream top (%s) ...", TOOL)
    with open(log_file, "w") as f:
        code = subprocess.run([TOOL, "--mode", "hls", "--tcl", SCRIPT.name], cwd=project, stdout=f,
                              stderr=subprocess.STDOUT).returncode
    if code != 0:
        tail = log_file.read_text(errors="replace")[-3000:]
        raise BuildError(f"Vitis HLS failed on the hls4ml board IP ({TOOL} exit {code}); log {log_file}:\n{tail}")
    if not (project / IP / "component.xml").is_file():
        raise BuildError(f"Vitis HLS finished without the exported IP {project / IP}: see {log_file}")
    return {"hls_project": project.name, "ip": f"{project.name}/{IP}"}
