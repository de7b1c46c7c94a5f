"""Without the vendor tools: every vendor step raises ToolMissing naming its tool, programming
checks the tools before it looks for the build, a failing tool run reports its log, and the CLI
exits with the message."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import toolchains
from boards import board
from boards.vendor import microblaze_design as design
from boards.vendor import program, steps, zynq
from boards.vendor.plans import microblaze_system
from common.errors import BuildError, ConfigError, ToolMissing
from tests.vendor.tcl_harness import HLS4ML_IP, REPO, zynq_board

# ---- without the vendor tools ------------------------------------------------------------------


def test_a_step_without_its_tool_raises_tool_missing(arty, tmp_path, no_vendor_tools):
    step = design.block_design_step(arty, HLS4ML_IP, tmp_path / "system")
    with pytest.raises(ToolMissing, match=r"vivado not found on PATH, needed for the arty_a7 block design") as e:
        steps.run(step, tmp_path)
    assert e.value.tools == ["vivado"]
    flash = microblaze_system.flash_step(arty, design.system_files(tmp_path), tmp_path / "b.elf", tmp_path / "f.img",
                                         tmp_path / "f.mcs")
    with pytest.raises(ToolMissing) as e:
        steps.run(flash, tmp_path)
    assert e.value.tools == ["updatemem", "vivado"]
    with pytest.raises(ToolMissing, match="bootgen"):
        steps.run(zynq.bootgen_step(tmp_path / "boot.bif", tmp_path / "BOOT.BIN"), tmp_path)
    assert not list(tmp_path.glob("*.log"))  # nothing ran


def test_program_checks_the_tools_before_it_looks_for_the_build(tmp_path, no_vendor_tools):
    def not_to_be_called():
        raise AssertionError("the build's artifacts were looked for before the tools")

    for name, flash, tools in (("arty_a7", False, ["vivado", "xsct"]), ("arty_a7", True, ["updatemem", "vivado"]),
                               ("pynq_z2", False, ["vivado", "xsct"]),
                               ("pynq_z2", True, ["bootgen", "program_flash", "vivado", "xsct"])):
        for flow in ("finn", "hls4ml"):  # the Pynq-Z2: FINN's shell, or our Zynq design around hls4ml's IP
            with pytest.raises(ToolMissing) as e:
                program.program(board.load(name), not_to_be_called, tmp_path, flash=flash, toolchain=toolchains.load(flow))
            assert e.value.tools == tools
    with pytest.raises(ConfigError, match="vivado.plan names a plan for the flows finn, hls4ml, not for an unnamed flow"):
        program.program(board.load("pynq_z2"), not_to_be_called, tmp_path)
    for flash, tools in ((False, ["vivado", "xsct"]), (True, ["bootgen", "program_flash", "vivado", "xsct"])):
        with pytest.raises(ToolMissing) as e:
            program.program(zynq_board(tmp_path), not_to_be_called, tmp_path, flash=flash)
        assert e.value.tools == tools


def test_a_failing_tool_run_reports_its_log(arty, tmp_path, no_vendor_tools):
    (no_vendor_tools / "vivado").write_text("#!/bin/sh\necho \"ERROR: [Board 49-71] board part not found: $*\"\nexit 3\n")
    (no_vendor_tools / "vivado").chmod(0o755)
    step = zynq.export_xsa_step(tmp_path / "p.xpr", tmp_path / "p.xsa")
    with pytest.raises(BuildError, match=r"(?s)vivado exit 3.*board part not found: -mode batch"):
        steps.run(step, tmp_path)


def test_pipeline_program_without_tools_exits_with_the_message(tmp_path, no_vendor_tools):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "pipeline", "program", "--task", "ad", "--board", "arty_a7", "--flash",
                           "--build-root", str(tmp_path / "build")],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
    assert proc.returncode != 0
    assert "pipeline: updatemem and vivado not found on PATH" in proc.stderr
    assert "writing the arty_a7 flash" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "build").exists() or not list((tmp_path / "build").rglob("vivado"))
