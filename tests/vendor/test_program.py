"""Programming runs its plan through to the vendor tools with what the flow's toolchain declares of
its vendor build: stand-ins for vivado and xsct on PATH record their command lines (and write what
the real ones would), and the board's plan hands them the toolchain's IP (the Arty's block design,
our Zynq design) or the toolchain's own Zynq design (the Pynq-Z2's XSA, then JTAG)."""

from __future__ import annotations

import hashlib
import json
import shlex
import sys

import pytest

import toolchains
from boards import board
from boards.vendor import program
from common.errors import BuildError
from tests.vendor.tcl_harness import zynq_board
from tests.vendor.test_ip import component

# A stand-in tool: records its arguments (one JSON list per line) and, for vivado, writes what the
# script it runs would: a block design's bitstream, address map and XSA, or an XSA with ps7_init.tcl.
STAND_IN = r"""
import json, sys, zipfile
from pathlib import Path
args = sys.argv[1:]
with open(RECORD, "a") as f:
    f.write(json.dumps([TOOL, *args]) + "\n")
named = dict(zip(args[args.index("-tclargs") + 1::2], args[args.index("-tclargs") + 2::2])) if "-tclargs" in args else {}
if "-out_dir" in named:  # a block_design.tcl
    out = Path(named["-out_dir"])
    out.mkdir(parents=True, exist_ok=True)
    (out / (named["-name"] + ".bit")).write_bytes(b"bit")
    (out / "addresses.txt").write_text(Path(ADDRESSES).read_text())
    named["-xsa"] = str(out / (named["-name"] + ".xsa"))
if "-xsa" in named and "-ps7_init" not in named:  # export_xsa.tcl, or the Zynq design's platform
    with zipfile.ZipFile(named["-xsa"], "w") as z:
        z.writestr("ps7_init.tcl", "proc ps7_init {} {}\n")
"""

ARTY_ADDRESSES = [("dlmb_bram_if_cntlr_Mem", 0, "64K"), ("mig_7series_0_memaddr", 0x80000000, "256M"),
                  ("axi_uartlite_0_Reg", 0x40600000, "64K"), ("axi_timer_0_Reg", 0x41C00000, "64K"),
                  ("axi_gpio_0_Reg", 0x40000000, "64K"), ("axi_dma_0_Reg", 0x41E00000, "64K"),
                  ("axi_quad_spi_0_Reg", 0x44A00000, "64K"), ("axi_quad_spi_0_MEM0", 0x60000000, "16M")]


def stand_ins(folder, tmp_path, space: str = "microblaze_0/Data", assigned=ARTY_ADDRESSES):
    """vivado and xsct stand-ins in `folder` (on PATH), whose block designs assign `assigned` in
    `space`; returns the file their calls are recorded in."""
    record, addresses = tmp_path / "calls.jsonl", tmp_path / "addresses.txt"
    addresses.write_text("\n".join(f"{space} 0x{base:08X} {size} /{space}/SEG_{seg}" for seg, base, size in assigned))
    for tool in ("vivado", "xsct"):
        script = folder / tool
        script.write_text(f"#!{sys.executable}\nRECORD, ADDRESSES, TOOL = {str(record)!r}, {str(addresses)!r}, {tool!r}\n"
                          + STAND_IN)
        script.chmod(0o755)
    return record


def elf(path):
    """A firmware file where the build stage would have put it (the stand-ins do not read it; its digest is recorded)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x7fELF firmware of " + path.name.encode())
    return path


def calls(record) -> list[list[str]]:
    return [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []


def test_the_arty_block_design_takes_the_ip_finn_declares(tmp_path, no_vendor_tools):
    record = stand_ins(no_vendor_tools, tmp_path)
    stitched = tmp_path / "build/finn_build/stitched_ip"
    component(stitched / "ip", "xilinx_finn", "finn", "finn_design",
              {"s_axis_0": ("slave", False), "m_axis_0": ("master", False)})
    (tmp_path / "convert").mkdir()
    (tmp_path / "convert/finn_io.h").write_text("#define FINN_OUT_WORDS 12\n")
    artifacts = {"stitched_ip": stitched, "board_performance": elf(tmp_path / "build/board/fw.elf")}
    out = program.program(board.load("arty_a7"), artifacts, tmp_path / "vivado", toolchain=toolchains.load("finn"),
                          convert_dir=tmp_path / "convert")
    design, jtag = calls(record)
    args = dict(zip(design[design.index("-tclargs") + 1::2], design[design.index("-tclargs") + 2::2]))
    assert design[0] == "vivado" and design[design.index("-source") + 1].endswith("arty_a7/vivado/block_design.tcl")
    assert (args["-ip_vlnv"], args["-ip_stream_in"], args["-ip_stream_out"], args["-last_after"]) == \
        ("xilinx_finn:finn:finn_design:1.0", "s_axis_0", "m_axis_0", "12")
    assert shlex.split(args["-ip_repos"]) == [str(stitched / "ip")]
    assert jtag[0] == "xsct" and jtag[1].endswith("arty_a7/vivado/program_jtag.tcl")
    assert jtag[jtag.index("-elf") + 1] == str(tmp_path / "build/board/fw.elf")
    program.program(board.load("arty_a7"), artifacts, out, toolchain=toolchains.load("finn"), convert_dir=tmp_path / "convert")
    assert [c[0] for c in calls(record)] == ["vivado", "xsct", "xsct"]  # the design's inputs are unchanged: not built again


def hls4ml_ip(tmp_path, outputs: int = 640):
    """The hls4ml board IP as Vitis HLS exports it (accel_axis: no TLAST) and the convert stage's
    header that says how many words an inference's output has."""
    ip = tmp_path / "build/hls4ml_prj/accel_axis_prj/solution1/impl/ip"
    component(ip, "xilinx.com", "hls", "accel_axis", {"in_r": ("slave", False), "out_r": ("master", False)})
    (tmp_path / "convert/hls4ml_prj").mkdir(parents=True)
    (tmp_path / "convert/hls4ml_prj/accel_axis.h").write_text(f"#define ACCEL_N_OUT {outputs}\n")
    return ip


def test_the_pynq_programs_hls4mls_ip_in_our_zynq_design_and_finns_in_its_shell(tmp_path, no_vendor_tools):
    """board.yaml vivado.plan per flow: hls4ml's IP goes into our Zynq design (its output marked every
    640 words), FINN's build brings its own Zynq shell; both are then programmed over JTAG."""
    record = stand_ins(no_vendor_tools, tmp_path, "ps7/Data", [("axi_dma_0_Reg", 0x40400000, "64K")])
    artifacts = {"ip": hls4ml_ip(tmp_path), "board_energy": elf(tmp_path / "build/board/fw_energy.elf")}
    program.program(board.load("pynq_z2"), artifacts, tmp_path / "vivado", toolchain=toolchains.load("hls4ml"),
                    convert_dir=tmp_path / "convert", energy=True)
    design, jtag = calls(record)
    args = dict(zip(design[design.index("-tclargs") + 1::2], design[design.index("-tclargs") + 2::2]))
    assert design[design.index("-source") + 1].endswith("common/zynq7000/vivado/block_design.tcl")
    assert (args["-ip_vlnv"], args["-last_after"], args["-uart"], args["-uart_pins"]) == \
        ("xilinx.com:hls:accel_axis:1.0", "640", "0", "board")  # energy: UART0 stays on MIO 14/15 (the J13 header)
    assert "-energy_uart_tx" not in args
    assert jtag[jtag.index("-bit") + 1] == str(tmp_path / "vivado/zynq_system_energy/zynq_system_energy.bit")
    assert jtag[jtag.index("-elf") + 1].endswith("fw_energy.elf")

    finn = tmp_path / "finn"
    bitfile = finn / "output/bitfile"
    bitfile.mkdir(parents=True)
    (bitfile / "finn-accel.bit").write_bytes(b"bit")
    with pytest.raises(BuildError, match="no Vivado project found for the bitstream"):  # FINN's shell: its own project
        program.program(board.load("pynq_z2"), {"bitfile": bitfile, "board_performance": elf(finn / "fw.elf")}, finn / "vivado",
                        toolchain=toolchains.load("finn"))


def test_our_zynq_design_takes_the_ip_and_its_platform_programs_the_board(tmp_path, no_vendor_tools):
    record = stand_ins(no_vendor_tools, tmp_path, "ps7/Data", [("axi_dma_0_Reg", 0x40400000, "64K")])
    artifacts = {"ip": hls4ml_ip(tmp_path, outputs=12), "board_performance": elf(tmp_path / "build/board/fw.elf")}
    b = zynq_board(tmp_path)
    program.program(b, artifacts, tmp_path / "vivado", toolchain=toolchains.load("hls4ml"), convert_dir=tmp_path / "convert")
    design, jtag = calls(record)
    assert design[design.index("-source") + 1].endswith("common/zynq7000/vivado/block_design.tcl")
    named = dict(zip(design[design.index("-tclargs") + 1::2], design[design.index("-tclargs") + 2::2]))
    assert (named["-ip_vlnv"], named["-last_after"]) == ("xilinx.com:hls:accel_axis:1.0", "12")
    assert jtag[1].endswith("common/zynq7000/vivado/program_jtag.tcl")
    assert jtag[jtag.index("-bit") + 1] == str(tmp_path / "vivado/zynq_system/zynq_system.bit")
    assert jtag[jtag.index("-xsa") + 1] == str(tmp_path / "vivado/zynq_system/zynq_system.xsa")
    assert (tmp_path / "vivado/boot/ps7_init.tcl").is_file()


def test_what_was_put_on_the_board_is_recorded(tmp_path, no_vendor_tools):
    """programmed.json: the build key and the sha256 of the bitstream and ELF loaded, written once
    every step succeeded; a programming that fails halfway leaves no record."""
    stand_ins(no_vendor_tools, tmp_path, "ps7/Data", [("axi_dma_0_Reg", 0x40400000, "64K")])
    ip = hls4ml_ip(tmp_path)
    fw = elf(tmp_path / "build/board/fw.elf")
    key = hashlib.sha256(b"build").hexdigest()
    out = program.program(board.load("pynq_z2"), {"ip": ip, "board_performance": fw}, tmp_path / "vivado",
                          toolchain=toolchains.load("hls4ml"), convert_dir=tmp_path / "convert", build_key=lambda: key)
    bit = tmp_path / "vivado/zynq_system/zynq_system.bit"
    record = program.programmed(out)
    assert (record["board"], record["variant"], record["how"], record["build_key"]) == ("pynq_z2", "performance", "JTAG", key)
    assert record["files"]["elf"] == {"path": str(fw), "sha256": hashlib.sha256(fw.read_bytes()).hexdigest()}
    assert record["files"]["bitstream"] == {"path": str(bit), "sha256": hashlib.sha256(b"bit").hexdigest()}
    (no_vendor_tools / "xsct").write_text("#!/bin/sh\nexit 3\n")  # JTAG fails: the board holds who knows what
    with pytest.raises(BuildError, match="exit 3"):
        program.program(board.load("pynq_z2"), {"ip": ip, "board_performance": fw}, out,
                        toolchain=toolchains.load("hls4ml"), convert_dir=tmp_path / "convert", build_key=key)
    assert program.programmed(out) is None
