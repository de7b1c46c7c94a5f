"""The hw_server the programming steps reach: localhost:3121 by default, HOST:PORT from $HW_SERVER
(make program hw_server=HOST:PORT sets it), in each tool's form: xsdb/xsct and program_flash take
TCP:HOST:PORT, Vivado's hardware manager HOST:PORT. The command lines are the ones the steps build;
the Makefile's is what make itself expands."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import toolchains
from boards import board
from boards.vendor import program, zynq
from boards.vendor.plans import microblaze_system
from common.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def _after(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def _commands(tmp_path: Path) -> dict[str, list[str]]:
    arty = board.load("arty_a7")
    f = tmp_path / "f"
    return {"zynq jtag": zynq.jtag_step("pynq_z2", f, f, f, f).command, "zynq qspi": zynq.qspi_step("pynq_z2", f, f).command,
            "arty jtag": microblaze_system.arty_jtag_step(arty, f, f).command,
            "arty flash": microblaze_system.program_flash_step(arty, f).command}


def test_the_default_is_the_local_hw_server(tmp_path, monkeypatch):
    monkeypatch.delenv("HW_SERVER", raising=False)
    c = _commands(tmp_path)
    assert _after(c["zynq jtag"], "-hw_server") == _after(c["arty jtag"], "-hw_server") == "TCP:localhost:3121"
    assert _after(c["zynq qspi"], "-url") == "TCP:localhost:3121"
    assert _after(c["arty flash"], "-hw_server") == "localhost:3121"


@pytest.mark.parametrize("given", ["lab-pc:3122", "TCP:lab-pc:3122", "tcp:lab-pc:3122"])
def test_another_hw_server_reaches_every_step(tmp_path, monkeypatch, given):
    monkeypatch.setenv("HW_SERVER", given)
    c = _commands(tmp_path)
    assert _after(c["zynq jtag"], "-hw_server") == _after(c["arty jtag"], "-hw_server") == "TCP:lab-pc:3122"
    assert _after(c["zynq qspi"], "-url") == "TCP:lab-pc:3122"
    assert _after(c["arty flash"], "-hw_server") == "lab-pc:3122"


@pytest.mark.parametrize("given", ["lab-pc", "lab-pc:", "lab-pc:99999", ":3121", "lab pc:3121"])
def test_a_malformed_hw_server_is_named_before_any_tool_runs(tmp_path, monkeypatch, given):
    monkeypatch.setenv("HW_SERVER", given)
    with pytest.raises(ConfigError, match=f"HW_SERVER={given}: give the hw_server as HOST:PORT"):
        program.program(board.load("pynq_z2"), {}, tmp_path / "vivado", toolchain=toolchains.load("hls4ml"))


def test_make_program_passes_hw_server():
    lines = subprocess.run(["make", "-n", "program", "task=ad", "board=pynq_z2", "hw_server=lab-pc:3122"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout
    assert any(line.startswith("HW_SERVER='lab-pc:3122' ") and "-m pipeline program" in line for line in lines.splitlines())
    plain = subprocess.run(["make", "-n", "program", "task=ad", "board=pynq_z2"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout
    assert "HW_SERVER" not in plain
