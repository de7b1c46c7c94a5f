"""The boards' vendor scripts and what runs without the vendor tools (boards/vivado.py): the Tcl
scripts parse, and run under tclsh against recording stand-ins for Vivado's commands with the
arguments the Python side writes from board.yaml (the addresses, baud rates, pins and stream
widths they reach Vivado with are checked); the Arty's bootloader cross-compiles into its local
BRAM and, in QEMU, boots the firmware from a flash image (and refuses a damaged one); the flash
image holds exactly the ELF's loadable bytes (objcopy's); the BIF; the TLAST marker in iverilog;
and every vendor step without its tool raises ToolMissing naming it, the CLI included."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest
import yaml

from boards import board, vivado
from common.errors import BuildError, ConfigError, ToolMissing
from tests.conftest import qemu_firmware

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((REPO / "boards").glob("*/vivado/*.tcl"))  # the boards' scripts and common/vivado/tclargs.tcl
TCLSH = shutil.which("tclsh")
needs_tclsh = pytest.mark.skipif(TCLSH is None, reason="tclsh not found (Debian package tcl): Tcl checks skipped")

HLS4ML_IP = vivado.AcceleratorIp([Path("/ips/hls4ml")], "xilinx.com:hls:myproject_axi:1.0", "in_r", "out_r")
FINN_IP = vivado.AcceleratorIp([Path("/ips/finn")], "xilinx_finn:finn:finn_design:1.0", "s_axis_0", "m_axis_0", last_after=12)

# Vivado's and xsct's commands as recording stand-ins: each call is logged as a Tcl list; get_property
# answers from a table ("PROPERTY OBJECT" first, then "PROPERTY"), get_*/create_* return the object
# they name, everything else returns "".
HARNESS = r"""
lassign $argv log_file ::properties required script
set ::argv [lrange $argv 4 end]
set ::log [open $log_file w]
proc stub {cmd args} {
    puts $::log [list $cmd {*}$args]
    flush $::log
    switch -glob -- $cmd {
        get_property {
            foreach key [list "[lindex $args 0] [lindex $args 1]" [lindex $args 0]] {
                if {[dict exists $::properties $key]} { return [dict get $::properties $key] }
            }
            return ""
        }
        get_* - create_* - current_* - make_* - hsi::open_hw_design { return [named $args] }
        default { return "" }
    }
}
# the object a get_/create_ command names: its last word that is neither a flag nor a flag's value
proc named {words} {
    set name ""
    for {set i 0} {$i < [llength $words]} {incr i} {
        set word [lindex $words $i]
        if {$word in {-filter -type -vlnv -dir -from -to -mode -rule -config -board_interface -ip_intf -diagram}} {
            incr i
        } elseif {[string index $word 0] ne "-"} {
            set name $word
        }
    }
    return $name
}
foreach cmd $required {
    if {[namespace qualifiers $cmd] ne ""} { namespace eval [namespace qualifiers $cmd] {} }
    proc $cmd args "stub $cmd {*}\$args"
}
proc unknown {cmd args} { stub $cmd {*}$args }
rename exec tcl_exec
proc exec args { stub exec {*}$args }
rename after tcl_after
proc after args { stub after {*}$args }
proc auto_execok name { return /opt/vivado/bin/$name }
source $script
"""


@pytest.fixture(scope="module")
def arty():
    return board.load("arty_a7")


def run_script(script: Path, args: list[str], tmp: Path, properties: dict[str, object] | None = None):
    """Run a board script under tclsh with Vivado's commands recorded: (exit code, stderr, calls)."""
    harness, log = tmp / "harness.tcl", tmp / "calls.log"
    harness.write_text(HARNESS)
    required = re.search(r"require_tool \w+ \S+ \{([^}]*)\}", script.read_text()).group(1)
    table = " ".join(f"{{{k}}} {{{v}}}" for k, v in (properties or {}).items())
    proc = subprocess.run([TCLSH, str(harness), str(log), table, required, str(script), *args], capture_output=True,
                          text=True, timeout=30)
    calls = log.read_text().splitlines() if log.exists() else []
    return proc.returncode, proc.stdout + proc.stderr, calls


def design_properties(run_dir: Path, in_bytes: int = 4, out_bytes: int = 4, system_hz: int = 83333333,
                      mig_sys_hz: int = 166666667) -> dict:
    """What the stand-ins answer for the block design: the clocks (the MIG preset's input clock, the
    clocking wizard's system clock), the accelerator's stream widths, a finished run."""
    (run_dir / "impl_1").mkdir(parents=True, exist_ok=True)
    for name in ("mb_system", "mb_system_energy"):
        (run_dir / "impl_1" / f"{name}_wrapper.bit").write_bytes(b"bitstream of the recorded run")
    return {"CONFIG.FREQ_HZ clk_wiz_0/clk_out3": system_hz, "CONFIG.FREQ_HZ sys_clk_i": mig_sys_hz,
            "CONFIG.FREQ_HZ clk_ref_i": 200000000,
            "CONFIG.TDATA_NUM_BYTES accel/in_r": in_bytes, "CONFIG.TDATA_NUM_BYTES accel/out_r": out_bytes,
            "CONFIG.TDATA_NUM_BYTES accel/s_axis_0": in_bytes, "CONFIG.TDATA_NUM_BYTES accel/m_axis_0": out_bytes,
            "PROGRESS": "100%", "STATS.WNS": 0.25, "DIRECTORY": run_dir / "impl_1"}


def calls_of(calls: list[str], command: str) -> list[str]:
    return [c for c in calls if c.split(" ", 1)[0] == command]


def script_arguments(script: Path) -> tuple[set[str], set[str]]:
    """(required, optional) argument names of a board script's parse_tclargs call."""
    found = re.search(r"parse_tclargs \$argv \{([^}]*)\}(?: \{([^}]*(?:\{\}[^}]*)*)\})?\]", script.read_text())
    required = set(found.group(1).split())
    optional = found.group(2) or ""
    optional_names = set(optional.replace("{}", "EMPTY").split()[0::2])
    return required, optional_names


def tclargs_of(step: vivado.Step) -> list[str]:
    return step.args[step.args.index("-tclargs") + 1:]


def names(args: list[str]) -> set[str]:
    return {a[1:] for a in args[0::2]}


# ---- the scripts as Tcl ------------------------------------------------------------------------


def test_every_script_is_complete_tcl():
    """Balanced braces, brackets and quotes (Tcl's own judgement where tclsh exists)."""
    assert len(SCRIPTS) == 8
    for script in SCRIPTS:
        text = script.read_text()
        if TCLSH:
            check = subprocess.run([TCLSH], input=f"puts [info complete [read [open {{{script}}}]]]", capture_output=True,
                                   text=True)
            assert check.stdout.strip() == "1", f"{script} is not complete Tcl"
        else:
            assert text.count("{") == text.count("}") and text.count("[") == text.count("]"), script


def test_scripts_take_exactly_the_arguments_python_passes(arty, tmp_path):
    """Every argument a script requires is passed, and every one passed is known to the script."""
    system = vivado.system_files(tmp_path)
    written = {
        "arty_a7/vivado/block_design.tcl": vivado.block_design_args(arty, FINN_IP, tmp_path, energy=True),
        "arty_a7/vivado/flash.tcl": vivado.flash_step(arty, system, tmp_path / "b.elf", tmp_path / "f.img",
                                                      tmp_path / "f.mcs").args,
        "arty_a7/vivado/program_flash.tcl": vivado.program_flash_step(arty, tmp_path / "f.mcs").args,
        "arty_a7/vivado/program_jtag.tcl": vivado.arty_jtag_step(arty, system.bit, tmp_path / "a.elf").args[1:],
        "pynq_z2/vivado/export_xsa.tcl": vivado.export_xsa_step(tmp_path / "p.xpr", tmp_path / "p.xsa").args,
        "pynq_z2/vivado/boot.tcl": vivado.fsbl_step(tmp_path / "p.xsa", tmp_path).args[1:],
        "pynq_z2/vivado/program_jtag.tcl": vivado.pynq_jtag_step(tmp_path / "b.bit", tmp_path / "p.xsa",
                                                                  tmp_path / "ps7_init.tcl", tmp_path / "a.elf").args[1:],
    }
    assert {str(s.relative_to(REPO / "boards")) for s in SCRIPTS} - set(written) == {"common/vivado/tclargs.tcl"}
    for path, args in written.items():
        if "-tclargs" in args:
            args = args[args.index("-tclargs") + 1:]
        required, optional = script_arguments(REPO / "boards" / path)
        assert required <= names(args), f"{path}: not passed {required - names(args)}"
        assert names(args) <= required | optional, f"{path}: unknown to the script {names(args) - required - optional}"


@needs_tclsh
@pytest.mark.parametrize("script,tool", [("arty_a7/vivado/block_design.tcl", "vivado"), ("arty_a7/vivado/flash.tcl", "vivado"),
                                         ("arty_a7/vivado/program_jtag.tcl", "xsct"), ("pynq_z2/vivado/boot.tcl", "xsct"),
                                         ("pynq_z2/vivado/export_xsa.tcl", "vivado")])
def test_a_script_outside_its_tool_names_the_tool(script, tool):
    proc = subprocess.run([TCLSH, str(REPO / "boards" / script), "-out_dir", "/nonexistent"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert f"run it with {tool}" in proc.stderr


@needs_tclsh
def test_block_design_puts_the_peripherals_where_the_firmware_looks(arty, tmp_path):
    out = tmp_path / "system"
    code, said, calls = run_script(REPO / "boards/arty_a7/vivado/block_design.tcl",
                                   vivado.block_design_args(arty, HLS4ML_IP, out), tmp_path, design_properties(tmp_path / "runs"))
    assert code == 0, said
    d = vivado.defines(arty)
    placed = {c.split()[-2]: c.split()[c.split().index("-offset") + 1] for c in calls_of(calls, "assign_bd_address")
              if "microblaze_0/Data" in c}
    assert placed == {"microblaze_0_local_memory/dlmb_bram_if_cntlr/SLMB/Mem": "0x00000000",
                      "mig_7series_0/memmap/memaddr": f"0x{d['DDR_BASE']:08X}",
                      "axi_uartlite_0/S_AXI/Reg": f"0x{d['MB_UART_BASE']:08X}",
                      "axi_timer_0/S_AXI/Reg": f"0x{d['MB_TIMER_BASE']:08X}",
                      "axi_gpio_0/S_AXI/Reg": f"0x{d['MB_GPIO_BASE']:08X}",
                      "axi_dma_0/S_AXI_LITE/Reg": f"0x{d['ACCEL_DMA_BASE']:08X}",
                      "axi_quad_spi_0/AXI_LITE/Reg": "0x44A00000", "axi_quad_spi_0/aximm/MEM0": "0x60000000"}
    dma_spaces = [c for c in calls_of(calls, "assign_bd_address") if "axi_dma_0/Data_" in c]
    assert len(dma_spaces) == 2
    assert all("-offset 0x80000000 -range 0x10000000 mig_7series_0/memmap/memaddr" in c for c in dma_spaces)
    assert "set_property CONFIG.C_BAUDRATE 115200 axi_uartlite_0" in calls
    assert any("-board_interface usb_uart" in c for c in calls)
    assert any("CONFIG.C_USE_BARREL 1" in c and "CONFIG.C_I_AXI 1" in c for c in calls_of(calls, "set_property"))
    assert any("local_mem 64KB" in c and "{/clk_wiz_0/clk_out3 (83 MHz)}" in c for c in calls_of(calls, "apply_bd_automation"))
    assert any("CLKOUT1_REQUESTED_OUT_FREQ 166.667" in c and "CLKOUT2_REQUESTED_OUT_FREQ 200.000" in c
               and "CLKOUT3_REQUESTED_OUT_FREQ 83.333" in c for c in calls_of(calls, "set_property"))
    cells = [c.split()[-1] for c in calls_of(calls, "create_bd_cell")]
    assert "accel" in cells and not {"mm2s_width", "s2mm_width", "out_last"} & set(cells)  # 32-bit streams with TLAST
    assert any("c_m_axis_mm2s_tdata_width 32" in c and "c_s_axis_s2mm_tdata_width 32" in c and "c_include_sg 0" in c
               for c in calls_of(calls, "set_property"))
    xdc = (out / "constraints.xdc").read_text()
    assert "PACKAGE_PIN G13" in xdc and "SPI_BUSWIDTH 4" in xdc and "energy_uart" not in xdc
    assert (out / "mb_system.bit").read_bytes() == b"bitstream of the recorded run"
    assert any(c.endswith(f"-file {out / 'mb_system.xsa'}") for c in calls_of(calls, "write_hw_platform"))


@needs_tclsh
def test_energy_design_and_finn_streams(arty, tmp_path):
    """9600 baud on Pmod pins; FINN's 10-byte input via a 2-byte DMA stream and a width converter,
    its 1-byte output without TLAST marked every 12 words."""
    out = tmp_path / "system"
    code, said, calls = run_script(REPO / "boards/arty_a7/vivado/block_design.tcl",
                                   vivado.block_design_args(arty, FINN_IP, out, energy=True), tmp_path,
                                   design_properties(tmp_path / "runs", in_bytes=10, out_bytes=1, mig_sys_hz=100000000))
    assert code == 0, said
    assert "set_property CONFIG.C_BAUDRATE 9600 axi_uartlite_0" in calls
    assert not any("usb_uart" in c for c in calls)
    assert any("CLKOUT1_REQUESTED_OUT_FREQ 100.000" in c for c in calls_of(calls, "set_property"))  # as the MIG preset asks
    assert "set_property -dict {CONFIG.S_TDATA_NUM_BYTES 2 CONFIG.M_TDATA_NUM_BYTES 10} mm2s_width" in calls
    assert "set_property -dict {CONFIG.WIDTH 8 CONFIG.WORDS 12} out_last" in calls
    assert "connect_bd_intf_net out_last/m_axis axi_dma_0/S_AXIS_S2MM" in calls  # 1 byte both sides: no converter
    assert any("c_m_axis_mm2s_tdata_width 16" in c and "c_s_axis_s2mm_tdata_width 8" in c
               for c in calls_of(calls, "set_property"))
    xdc = (out / "constraints.xdc").read_text()
    assert "PACKAGE_PIN B11 IOSTANDARD LVCMOS33} [get_ports energy_uart_txd]" in xdc
    assert "PACKAGE_PIN A11 IOSTANDARD LVCMOS33} [get_ports energy_uart_rxd]" in xdc
    assert (out / "mb_system_energy.bit").is_file()


@needs_tclsh
def test_block_design_refuses_a_clock_the_firmware_does_not_count(arty, tmp_path):
    code, said, calls = run_script(REPO / "boards/arty_a7/vivado/block_design.tcl",
                                   vivado.block_design_args(arty, HLS4ML_IP, tmp_path / "system"), tmp_path,
                                   design_properties(tmp_path / "runs", system_hz=81250000))
    assert code != 0 and "81250000" in said and "TIMER_HZ" in said
    assert not calls_of(calls, "launch_runs")


@needs_tclsh
def test_flash_and_pynq_scripts_pass_their_arguments_on(arty, tmp_path):
    system = vivado.system_files(tmp_path / "system")
    step = vivado.flash_step(arty, system, tmp_path / "boot.elf", tmp_path / "firmware.img", tmp_path / "flash.mcs")
    assert step.tools == ("vivado", "updatemem")
    code, said, calls = run_script(REPO / "boards/arty_a7/vivado/flash.tcl", tclargs_of(step), tmp_path)
    assert code == 0, said
    (updatemem,) = calls_of(calls, "exec")
    assert f"-meminfo {system.mmi}" in updatemem and "-proc mb_system_i/microblaze_0" in updatemem
    assert f"-data {tmp_path / 'boot.elf'}" in updatemem
    (cfgmem,) = calls_of(calls, "write_cfgmem")
    assert "-interface SPIx4 -size 16" in cfgmem and f"-loaddata {{up 0x00400000 {tmp_path / 'firmware.img'}}}" in cfgmem

    code, said, calls = run_script(REPO / "boards/arty_a7/vivado/program_flash.tcl",
                                   tclargs_of(vivado.program_flash_step(arty, tmp_path / "flash.mcs")), tmp_path,
                                   {"PROGRAM.HW_CFGMEM_BITFILE": "cfgmem.bit"})
    assert code == 0, said
    assert "get_cfgmem_parts s25fl128sxxxxxx0-spi-x1_x2_x4" in calls and calls_of(calls, "program_hw_cfgmem")

    step = vivado.pynq_jtag_step(tmp_path / "b.bit", tmp_path / "p.xsa", tmp_path / "ps7_init.tcl", tmp_path / "fw.elf")
    (tmp_path / "ps7_init.tcl").write_text("proc ps7_init {} { stub ps7_init_from_the_xsa }\nproc ps7_post_config {} {}\n")
    code, said, calls = run_script(REPO / "boards/pynq_z2/vivado/program_jtag.tcl", step.args[1:], tmp_path)
    assert code == 0, said
    order = [c.split()[0] for c in calls if c.split()[0] in ("fpga", "ps7_init_from_the_xsa", "dow", "con")]
    assert order == ["fpga", "ps7_init_from_the_xsa", "dow", "con"]
    assert f"dow {tmp_path / 'fw.elf'}" in calls

    fsbl = tmp_path / "boot"
    (fsbl / "fsbl").mkdir(parents=True)
    (fsbl / "fsbl" / "executable.elf").write_bytes(b"as hsi builds it")
    code, said, calls = run_script(REPO / "boards/pynq_z2/vivado/boot.tcl", vivado.fsbl_step(tmp_path / "p.xsa", fsbl).args[1:],
                                   tmp_path)
    assert code == 0, said
    assert any("-app zynq_fsbl" in c and "-proc ps7_cortexa9_0" in c for c in calls_of(calls, "hsi::generate_app"))
    assert (fsbl / "fsbl.elf").read_bytes() == b"as hsi builds it"


# ---- board.yaml is the one source of the numbers -----------------------------------------------


def test_arguments_follow_a_changed_board_yaml(tmp_path):
    raw = yaml.safe_load((REPO / "boards/arty_a7/board.yaml").read_text())
    raw["firmware"]["defines"]["MB_UART_BASE"] = 0x40610000
    raw["fabric_addresses"]["ACCEL_DMA_BASE"] = 0x41E20000
    raw["vivado"]["system"]["flash"]["xip_base"] = 0x70000000
    raw["vivado"]["system"]["pins"]["timestamp"] = "D12"
    raw["uart"]["baud"]["energy"] = 19200
    copy = tmp_path / "board.yaml"
    copy.write_text(yaml.safe_dump(raw))
    changed = board.load("arty_a7", copy)
    args = dict(zip(*[iter(vivado.block_design_args(changed, FINN_IP, tmp_path, energy=True))] * 2))
    assert (args["-uart_base"], args["-dma_base"], args["-flash_xip_base"]) == ("0x40610000", "0x41E20000", "0x70000000")
    assert (args["-timestamp_pin"], args["-uart_baud"], args["-last_after"]) == ("D12", "19200", "12")
    assert vivado.bootloader_defines(changed)["FLASH_XIP_BASE"] == 0x70000000
    assert vivado.expected_addresses(changed)["axi_uartlite_0"] == {(0x40610000, 0x10000)}
    del raw["fabric_addresses"]["ACCEL_DMA_BASE"]  # not given: Vivado's first AXI DMA address
    copy.write_text(yaml.safe_dump(raw))
    args = dict(zip(*[iter(vivado.block_design_args(board.load("arty_a7", copy), FINN_IP, tmp_path))] * 2))
    assert args["-dma_base"] == "0x41E00000"


def test_address_report_is_checked_against_the_firmware(arty, tmp_path):
    rows = [("dlmb_bram_if_cntlr_Mem", 0, "64K"), ("mig_7series_0_memaddr", 0x80000000, "256M"),
            ("axi_uartlite_0_Reg", 0x40600000, "65536"), ("axi_timer_0_Reg", 0x41C00000, "64K"),
            ("axi_gpio_0_Reg", 0x40000000, "64K"), ("axi_dma_0_Reg", 0x41E00000, "64K"),
            ("axi_quad_spi_0_Reg", 0x44A00000, "64K"), ("axi_quad_spi_0_MEM0", 0x60000000, "16M")]
    report = tmp_path / "addresses.txt"
    lines = [f"microblaze_0/Data 0x{base:08X} {size} /microblaze_0/Data/SEG_{seg}" for seg, base, size in rows]
    report.write_text("\n".join([*lines, "axi_dma_0/Data_MM2S 0x80000000 256M /axi_dma_0/Data_MM2S/SEG_mig_7series_0_memaddr"]))
    vivado.check_addresses(report, arty)
    report.write_text("\n".join(lines).replace("0x40000000 64K", "0x40010000 64K"))
    with pytest.raises(BuildError, match=r"axi_gpio_0: firmware 0x40000000 \+0x10000, design 0x40010000 \+0x10000"):
        vivado.check_addresses(report, arty)


def test_microblaze_options_follow_the_cflags(tmp_path):
    raw = yaml.safe_load((REPO / "boards/arty_a7/board.yaml").read_text())
    raw["firmware"]["cflags"] = ["-mcpu=v11.0", "-mxl-multiply-high", "-mno-xl-soft-div"]
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(raw))
    assert vivado.microblaze_config(board.load("arty_a7", tmp_path / "a.yaml")) == {"C_USE_HW_MUL": 2, "C_USE_DIV": 1}
    raw["firmware"]["cflags"] = ["-mxl-frobnicate"]
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match="-mxl-frobnicate"):
        vivado.microblaze_config(board.load("arty_a7", tmp_path / "a.yaml"))


# ---- the accelerator IP ------------------------------------------------------------------------

COMPONENT = """<?xml version="1.0" encoding="UTF-8"?>
<spirit:component xmlns:spirit="http://www.spiritconsortium.org/XMLSchema/SPIRIT/1685-2009">
  <spirit:vendor>{vendor}</spirit:vendor><spirit:library>{library}</spirit:library>
  <spirit:name>{name}</spirit:name><spirit:version>1.0</spirit:version>
  <spirit:busInterfaces>{buses}</spirit:busInterfaces>
</spirit:component>"""
BUS = """<spirit:busInterface><spirit:name>{name}</spirit:name>
  <spirit:busType spirit:vendor="xilinx.com" spirit:library="{library}" spirit:name="{kind}" spirit:version="1.0"/>
  <spirit:{role}/><spirit:portMaps>{ports}</spirit:portMaps></spirit:busInterface>"""
PORT = ("<spirit:portMap><spirit:logicalPort><spirit:name>{0}</spirit:name></spirit:logicalPort>"
        "<spirit:physicalPort><spirit:name>{1}</spirit:name></spirit:physicalPort></spirit:portMap>")


def component(folder: Path, vendor: str, library: str, name: str, streams: dict[str, tuple[str, bool]]) -> None:
    buses = [BUS.format(name=bus, library="interface", kind="axis", role=role,
                        ports="".join(PORT.format(p, f"{bus}_{p}")
                                      for p in ("TDATA", "TVALID", "TREADY", *(("TLAST",) if last else ()))))
             for bus, (role, last) in streams.items()]
    buses += [BUS.format(name="ap_clk", library="signal", kind="clock", role="slave", ports=PORT.format("CLK", "ap_clk")),
              BUS.format(name="ap_rst_n", library="signal", kind="reset", role="slave", ports=PORT.format("RST", "ap_rst_n"))]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "component.xml").write_text(COMPONENT.format(vendor=vendor, library=library, name=name, buses="".join(buses)))


def test_accelerator_ip_from_the_build_artifacts(tmp_path):
    hls = tmp_path / "board_prj/myproject_prj/solution1/impl/ip"
    component(hls, "xilinx.com", "hls", "myproject_axi", {"in_r": ("slave", True), "out_r": ("master", True)})
    ip = vivado.accelerator_ip({"ip": hls})
    assert (ip.vlnv, ip.stream_in, ip.stream_out, ip.clock, ip.reset, ip.last_after) == \
        ("xilinx.com:hls:myproject_axi:1.0", "in_r", "out_r", "ap_clk", "ap_rst_n", 0)

    stitched = tmp_path / "finn_build/stitched_ip"
    component(stitched / "ip", "xilinx_finn", "finn", "finn_design",
              {"s_axis_0": ("slave", False), "m_axis_0": ("master", False)})
    layer = tmp_path / "layers/MVAU_hls_0/ip"
    layer.mkdir(parents=True)
    (stitched / "make_project.tcl").write_text(
        f"create_project finn_vivado_stitch_proj {stitched} -part x\n"
        f"set_property ip_repo_paths [list {layer} /gone/StreamingFIFO_0] [current_project]\n")
    with pytest.raises(BuildError, match="no TLAST"):
        vivado.accelerator_ip({"stitched_ip": stitched}, tmp_path / "convert")
    (tmp_path / "convert").mkdir()
    (tmp_path / "convert/finn_io.h").write_text("#define FINN_OUT_WORDS 12\n#define FINN_OUT_WORD_BYTES 1\n")
    ip = vivado.accelerator_ip({"stitched_ip": stitched}, tmp_path / "convert")
    assert (ip.vlnv, ip.stream_in, ip.stream_out, ip.last_after) == \
        ("xilinx_finn:finn:finn_design:1.0", "s_axis_0", "m_axis_0", 12)
    assert ip.repos == [stitched / "ip", layer]  # a repository that is gone is left out
    with pytest.raises(BuildError, match="Vivado HLS"):
        vivado.accelerator_ip({"board_performance": tmp_path / "fw.elf"})


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="iverilog not found (Debian package iverilog)")
def test_tlast_marks_every_nth_accepted_word(tmp_path):
    bench = tmp_path / "bench.v"
    bench.write_text("""`timescale 1ns/1ps
module bench;
  reg clk = 0, rstn = 0, valid = 0, ready = 0; reg [7:0] data = 0; wire [7:0] q; wire qvalid, sready, last;
  axis_last_after #(.WIDTH(8), .WORDS(3)) dut(.aclk(clk), .aresetn(rstn), .s_axis_tdata(data), .s_axis_tvalid(valid),
    .s_axis_tready(sready), .m_axis_tdata(q), .m_axis_tvalid(qvalid), .m_axis_tready(ready), .m_axis_tlast(last));
  integer i;
  always #5 clk = ~clk;
  initial begin
    #12 rstn = 1;
    for (i = 0; i < 40; i = i + 1) begin
      @(negedge clk); valid = (i % 3) != 1; ready = (i % 4) != 2; data = i;
      #1 if (valid && ready && sready && qvalid) $display("beat %0d last %0d", q, last);
    end
    $finish;
  end
endmodule
""")
    sim = tmp_path / "sim"
    subprocess.run(["iverilog", "-o", str(sim), str(bench), str(REPO / "boards/arty_a7/vivado/axis_last_after.v")], check=True)
    beats = re.findall(r"beat (\d+) last (\d)", subprocess.run(["vvp", str(sim)], capture_output=True, text=True).stdout)
    assert len(beats) > 12
    assert [int(last) for _, last in beats] == [int(n % 3 == 2) for n in range(len(beats))]


# ---- bootloader and flash image ----------------------------------------------------------------


def cross_tools(b) -> tuple[str, str]:
    from boards import firmware

    compiler, cc = firmware.cross_compiler(b)
    if cc is None:
        pytest.skip(f"{compiler} not found (nor ../shared/{b.processor.toolchain_archive}): the bootloader is not built")
    return cc, cc.removesuffix("gcc")


def readelf(prefix: str, *args) -> str:
    return subprocess.run([prefix + "readelf", *args], capture_output=True, text=True, check=True).stdout


def test_bootloader_lives_in_the_local_memory(arty, tmp_path):
    _, prefix = cross_tools(arty)
    elf = vivado.build_bootloader(arty, tmp_path)
    lmb = arty.vivado.system.local_memory_kb * 1024
    assert int(re.search(r"Entry point address:\s+(0x[0-9a-f]+)", readelf(prefix, "-h", str(elf))).group(1), 16) < lmb
    loads = [(int(o, 16), int(m, 16)) for o, m in re.findall(r"LOAD\s+\S+ \S+ (0x[0-9a-f]+) \S+ (0x[0-9a-f]+)",
                                                              readelf(prefix, "-lW", str(elf)))]
    assert loads and all(start + size <= lmb for start, size in loads)
    low = [s for s in loads if s[0] < vivado.VECTORS_BYTES]  # under the firmware's vectors: only its own vectors
    assert [start for start, _ in low] == [0] and low[0][1] <= vivado.VECTORS_BYTES
    symbols = readelf(prefix, "-sW", str(elf))
    assert int(re.search(r"([0-9a-f]{8})\s+\d+\s+\w+\s+GLOBAL\s+\w+\s+\S+\s+_stack_top", symbols).group(1), 16) == lmb


@pytest.fixture(scope="module")
def arty_firmware(tmp_path_factory, arty):
    """{variant: ELF} of the ad01 firmware for the Arty itself (stub accelerator)."""
    from boards import firmware
    from tasks import load_recipe

    cross_tools(arty)
    out = tmp_path_factory.mktemp("arty_firmware")
    recipe = load_recipe("ad")
    accel = firmware.stub_accelerator(out / "accel", recipe.stub_accelerator())
    return firmware.build_cross(arty, recipe.firmware_sources, recipe.firmware_defines(None), recipe.input_bytes, accel, out)


def test_flash_image_holds_the_elf_loadable_bytes(arty, arty_firmware, tmp_path):
    _, prefix = cross_tools(arty)
    elf = arty_firmware["performance"]
    image = vivado.write_flash_image(elf, tmp_path / "firmware.img", arty)
    data = image.path.read_bytes()
    magic, version, entry, count, payload_bytes, crc = vivado.IMAGE_HEADER.unpack_from(data)
    assert (magic, version) == (0x5746424D, 1) and data[:4] == b"MBFW"
    assert entry == int(re.search(r"Entry point address:\s+(0x[0-9a-f]+)", readelf(prefix, "-h", str(elf))).group(1), 16)
    table = [vivado.IMAGE_SEGMENT.unpack_from(data, 24 + 8 * i) for i in range(count)]
    payload = data[24 + 8 * count:]
    assert len(payload) == payload_bytes and zlib.crc32(payload) == crc and image.size == len(data)
    segments, at = [], 0
    for address, length in table:
        segments.append((address, payload[at:at + length]))
        at += length + (-length % 4)
    assert at == len(payload)
    assert table[-1][0] == 0, "the vector block comes last"

    vectors = [".vectors.reset", ".vectors.sw_exception", ".vectors.interrupt", ".vectors.hw_exception"]
    for flag, out in (("-R", "ddr.bin"), ("-j", "vec.bin")):  # all but the vectors; the vectors only
        subprocess.run([prefix + "objcopy", "-O", "binary", *(flag + v for v in vectors), str(elf), str(tmp_path / out)],
                       check=True)
    for expected, in_range in ((tmp_path / "ddr.bin", lambda a: a >= 0x80000000), (tmp_path / "vec.bin", lambda a: a < 0x50)):
        mine = [(a, b) for a, b in segments if in_range(a)]
        base = min(a for a, _ in mine)
        flat = bytearray(max(a + len(b) for a, b in mine) - base)
        for a, b in mine:
            flat[a - base:a - base + len(b)] = b
        assert bytes(flat) == expected.read_bytes()


def elf32(entry: int, segments: list[tuple[int, bytes]]) -> bytes:
    """A minimal little-endian ELF32 with one PT_LOAD per segment (MicroBlaze machine number)."""
    header = struct.pack("<4s5B7x2H5I6H", b"\x7fELF", 1, 1, 1, 0, 0, 2, 189, 1, entry, 52, 0, 0, 52, 32, len(segments), 0, 0, 0)
    offset, phdrs, body = 52 + 32 * len(segments), b"", b""
    for address, data in segments:
        phdrs += struct.pack("<8I", 1, offset + len(body), address, address, len(data), len(data), 5, 4)
        body += data
    return header + phdrs + body


def test_flash_image_refuses_what_would_overwrite_the_bootloader(arty, tmp_path):
    elf = tmp_path / "a.elf"
    elf.write_bytes(elf32(0x80000000, [(0x80000000, b"\x01\x02\x03\x04\x05"), (0x0, b"\xaa" * 8)]))
    image = vivado.write_flash_image(elf, tmp_path / "a.img", arty)
    assert image.segments == [(0x80000000, 5), (0, 8)] and image.entry == 0x80000000
    assert image.path.read_bytes()[-16:] == b"\x01\x02\x03\x04\x05\0\0\0" + b"\xaa" * 8
    elf.write_bytes(elf32(0x80000000, [(0x80000000, b"code"), (0x100, b"over the bootloader")]))
    with pytest.raises(BuildError, match="0x00000100"):
        vivado.write_flash_image(elf, tmp_path / "b.img", arty)
    elf.write_bytes(b"not an ELF")
    with pytest.raises(BuildError, match="not a little-endian 32-bit ELF"):
        vivado.write_flash_image(elf, tmp_path / "c.img", arty)


def boot_in_qemu(b, bootloader: Path, flash: Path, until: bytes, seconds: float = 8.0) -> bytes:
    """What the UART says when QEMU starts the bootloader with `flash` as its parallel flash."""
    import serial

    from runner.qemu import qemu_dut

    said = b""
    with qemu_dut(bootloader, [*b.firmware.qemu.command, "-drive", f"if=pflash,format=raw,file={flash}"]) as url:
        link = serial.serial_for_url(url, timeout=0.2)
        deadline = time.monotonic() + seconds
        while until not in said and time.monotonic() < deadline:
            said += link.read(256)
        if until == b"m-ready":
            link.write(b"name%")
            while said.count(b"m-ready") < 2 and time.monotonic() < deadline:
                said += link.read(256)
        link.close()
    return said


def test_bootloader_starts_the_firmware_from_flash_in_qemu(arty, tmp_path):
    """The QEMU machine maps a parallel flash where the board has the XIP window: the bootloader
    built for it copies the firmware image out of it, and the firmware answers."""
    app = qemu_firmware("arty_a7", tmp_path / "app")["performance"]
    image = vivado.write_flash_image(app, tmp_path / "firmware.img", arty, target="qemu")
    bootloader = vivado.build_bootloader(arty, tmp_path / "boot", target="qemu")
    flash = bytearray(b"\xff" * (arty.vivado.system.flash.size_mb << 20))
    offset = arty.vivado.system.flash.image_offset
    flash[offset:offset + image.size] = image.path.read_bytes()
    (tmp_path / "flash.bin").write_bytes(flash)
    said = boot_in_qemu(arty, bootloader, tmp_path / "flash.bin", b"m-ready")
    assert b"m-timestamp-mode-performance" in said and b"m-init-done" in said
    assert re.search(rf"m-name-\S+-\[{arty.vendor_name}_qemu\]".encode(), said), said

    damaged = bytearray(flash)
    damaged[offset + image.size - 100] ^= 0x01
    (tmp_path / "flash.bin").write_bytes(damaged)
    said = boot_in_qemu(arty, bootloader, tmp_path / "flash.bin", b"\r\n", seconds=5)
    assert b"boot: the firmware image is damaged" in said and b"m-ready" not in said

    (tmp_path / "flash.bin").write_bytes(b"\xff" * len(flash))
    said = boot_in_qemu(arty, bootloader, tmp_path / "flash.bin", b"\r\n", seconds=5)
    assert b"boot: no firmware image in the flash" in said


# ---- Pynq-Z2: BIF, project, ps7_init -----------------------------------------------------------


def test_bif_lists_fsbl_bitstream_and_firmware(tmp_path):
    bif = vivado.write_bif(tmp_path / "boot.bif", tmp_path / "fsbl.elf", tmp_path / "design_1_wrapper.bit", tmp_path / "dut.elf")
    assert bif.read_text() == (f"the_ROM_image:\n{{\n\t[bootloader] {tmp_path}/fsbl.elf\n\t{tmp_path}/design_1_wrapper.bit\n"
                               f"\t{tmp_path}/dut.elf\n}}\n")
    step = vivado.bootgen_step(bif, tmp_path / "BOOT.BIN")
    assert step.command == ["bootgen", "-arch", "zynq", "-image", str(bif), "-o", str(tmp_path / "BOOT.BIN"), "-w"]
    with pytest.raises(ConfigError, match="spaces"):
        vivado.write_bif(tmp_path / "x.bif", tmp_path / "my fsbl.elf", tmp_path / "a.bit", tmp_path / "b.elf")


def test_pynq_project_bitstream_and_ps7_init(tmp_path):
    project = tmp_path / "board_prj/myproject_vivado_accelerator"
    bit = project / "project_1.runs/impl_1/design_1_wrapper.bit"
    bit.parent.mkdir(parents=True)
    bit.write_bytes(b"bit")
    with pytest.raises(BuildError, match="no Vivado project"):
        vivado.vivado_project(bit)
    (project / "project_1.xpr").write_text("<Project/>")
    assert vivado.vivado_project(bit) == project / "project_1.xpr"
    finn_bitfile = tmp_path / "finn_build/bitfile"
    finn_bitfile.mkdir(parents=True)
    (finn_bitfile / "finn-accel.bit").write_bytes(b"bit")
    (finn_bitfile / "finn-accel.hwh").write_text("<hwh/>")
    assert vivado.bitstream(finn_bitfile) == finn_bitfile / "finn-accel.bit"
    xsa = tmp_path / "system.xsa"
    with zipfile.ZipFile(xsa, "w") as z:
        z.writestr("design_1_wrapper.bit", b"bit")
        z.writestr("ps7_init.tcl", "proc ps7_init {} {}\n")
    assert vivado.ps7_init(xsa, tmp_path / "boot").read_text() == "proc ps7_init {} {}\n"


# ---- without the vendor tools ------------------------------------------------------------------


@pytest.fixture
def no_vendor_tools(monkeypatch, tmp_path):
    """PATH with nothing on it but Python's folder: no vivado, xsct, bootgen or updatemem."""
    bare = tmp_path / "bin"
    bare.mkdir()
    monkeypatch.setenv("PATH", f"{bare}{os.pathsep}{Path(sys.executable).parent}")
    return bare


def test_a_step_without_its_tool_raises_tool_missing(arty, tmp_path, no_vendor_tools):
    step = vivado.block_design_step(arty, HLS4ML_IP, tmp_path / "system")
    with pytest.raises(ToolMissing, match=r"vivado not found on PATH, needed for the arty_a7 block design") as e:
        vivado.run(step, tmp_path)
    assert e.value.tools == ["vivado"]
    flash = vivado.flash_step(arty, vivado.system_files(tmp_path), tmp_path / "b.elf", tmp_path / "f.img", tmp_path / "f.mcs")
    with pytest.raises(ToolMissing) as e:
        vivado.run(flash, tmp_path)
    assert e.value.tools == ["updatemem", "vivado"]
    with pytest.raises(ToolMissing, match="bootgen"):
        vivado.run(vivado.bootgen_step(tmp_path / "boot.bif", tmp_path / "BOOT.BIN"), tmp_path)
    assert not list(tmp_path.glob("*.log"))  # nothing ran


def test_program_checks_the_tools_before_it_looks_for_the_build(tmp_path, no_vendor_tools):
    def not_to_be_called():
        raise AssertionError("the build's artifacts were looked for before the tools")

    for name, flash, tools in (("arty_a7", False, ["vivado", "xsct"]), ("arty_a7", True, ["updatemem", "vivado"]),
                               ("pynq_z2", False, ["vivado", "xsct"]),
                               ("pynq_z2", True, ["bootgen", "program_flash", "vivado", "xsct"])):
        with pytest.raises(ToolMissing) as e:
            vivado.program(board.load(name), not_to_be_called, tmp_path, flash=flash)
        assert e.value.tools == tools


def test_a_failing_tool_run_reports_its_log(arty, tmp_path, no_vendor_tools):
    (no_vendor_tools / "vivado").write_text("#!/bin/sh\necho \"ERROR: [Board 49-71] board part not found: $*\"\nexit 3\n")
    (no_vendor_tools / "vivado").chmod(0o755)
    step = vivado.export_xsa_step(tmp_path / "p.xpr", tmp_path / "p.xsa")
    with pytest.raises(BuildError, match=r"(?s)vivado exit 3.*board part not found: -mode batch"):
        vivado.run(step, tmp_path)


def test_pipeline_program_without_tools_exits_with_the_message(tmp_path, no_vendor_tools):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "pipeline", "program", "--task", "ad", "--board", "arty_a7", "--flash",
                           "--build-root", str(tmp_path / "build")],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
    assert proc.returncode != 0
    assert "pipeline: updatemem and vivado not found on PATH" in proc.stderr
    assert "writing the arty_a7 flash" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "build").exists() or not list((tmp_path / "build").rglob("vivado"))
