"""The boards' vendor scripts as Tcl: they parse, take exactly the arguments the Python side writes
from board.yaml, and run under tclsh against recording stand-ins for Vivado's commands (the
addresses, baud rates, pins and stream widths they reach Vivado with are checked); the TLAST
marker in iverilog."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from boards.vendor import board_values, zynq, zynq_design
from boards.vendor import microblaze_design as design
from boards.vendor.plans import microblaze_system
from tests.vendor.tcl_harness import (
    FINN_IP,
    HLS4ML_IP,
    REPO,
    SCRIPTS,
    TCLSH,
    calls_of,
    design_properties,
    names,
    needs_tclsh,
    run_script,
    script_arguments,
    tclargs_of,
    zynq_board,
)

# ---- the scripts as Tcl ------------------------------------------------------------------------


def test_every_script_is_complete_tcl():
    """Balanced braces, brackets and quotes (Tcl's own judgement where tclsh exists)."""
    assert len(SCRIPTS) == 11
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
    system = design.system_files(tmp_path)
    written = {
        "arty_a7/vivado/block_design.tcl": design.block_design_args(arty, FINN_IP, tmp_path, energy=True),
        "arty_a7/vivado/flash.tcl": microblaze_system.flash_step(arty, system, tmp_path / "b.elf", tmp_path / "f.img",
                                                      tmp_path / "f.mcs").args,
        "arty_a7/vivado/program_flash.tcl": microblaze_system.program_flash_step(arty, tmp_path / "f.mcs").args,
        "arty_a7/vivado/program_jtag.tcl": microblaze_system.arty_jtag_step(arty, system.bit, tmp_path / "a.elf").args[1:],
        "common/zynq7000/vivado/export_xsa.tcl": zynq.export_xsa_step(tmp_path / "p.xpr", tmp_path / "p.xsa").args,
        "common/zynq7000/vivado/boot.tcl": zynq.fsbl_step(tmp_path / "p.xsa", tmp_path).args[1:],
        "common/zynq7000/vivado/program_jtag.tcl": zynq.jtag_step("pynq_z2", tmp_path / "b.bit", tmp_path / "p.xsa",
                                                                  tmp_path / "ps7_init.tcl", tmp_path / "a.elf").args[1:],
        "common/zynq7000/vivado/block_design.tcl": zynq_design.block_design_step(zynq_board(tmp_path), HLS4ML_IP, tmp_path,
                                                                                 energy=True).args,
    }
    libraries = {"common/vivado/tclargs.tcl", "common/vivado/accelerator.tcl", "common/vivado/design.tcl"}
    assert {str(s.relative_to(REPO / "boards")) for s in SCRIPTS} - set(written) == libraries
    for path, args in written.items():
        if "-tclargs" in args:
            args = args[args.index("-tclargs") + 1:]
        required, optional = script_arguments(REPO / "boards" / path)
        assert required <= names(args), f"{path}: not passed {required - names(args)}"
        assert names(args) <= required | optional, f"{path}: unknown to the script {names(args) - required - optional}"


@needs_tclsh
@pytest.mark.parametrize("script,tool", [("arty_a7/vivado/block_design.tcl", "vivado"), ("arty_a7/vivado/flash.tcl", "vivado"),
                                         ("arty_a7/vivado/program_jtag.tcl", "xsct"),
                                         ("common/zynq7000/vivado/boot.tcl", "xsct"),
                                         ("common/zynq7000/vivado/export_xsa.tcl", "vivado"),
                                         ("common/zynq7000/vivado/block_design.tcl", "vivado")])
def test_a_script_outside_its_tool_names_the_tool(script, tool):
    proc = subprocess.run([TCLSH, str(REPO / "boards" / script), "-out_dir", "/nonexistent"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert f"run it with {tool}" in proc.stderr


@needs_tclsh
def test_block_design_puts_the_peripherals_where_the_firmware_looks(arty, tmp_path):
    out = tmp_path / "system"
    code, said, calls = run_script(REPO / "boards/arty_a7/vivado/block_design.tcl",
                                   design.block_design_args(arty, HLS4ML_IP, out), tmp_path, design_properties(tmp_path / "runs"))
    assert code == 0, said
    d = board_values.defines(arty)
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
    # the published design's processor: 16 KB caches over DDR (write-back data cache, 32-byte lines)
    assert any("CONFIG.C_USE_BARREL 1" in c and "CONFIG.C_USE_DCACHE 1" in c
               and "CONFIG.C_CACHE_BYTE_SIZE 16384" in c and "CONFIG.C_DCACHE_USE_WRITEBACK 1" in c
               and "CONFIG.C_DCACHE_LINE_LEN 8" in c and "CONFIG.C_DCACHE_HIGHADDR 0x8FFFFFFF" in c and "CONFIG.C_I_AXI 0" in c
               for c in calls_of(calls, "set_property"))
    cached = [c for c in calls_of(calls, "apply_bd_automation") if "Slave /mig_7series_0/S_AXI" in c and "(Periph)" not in c]
    assert [c.split()[-1] for c in cached] == ["microblaze_0/M_AXI_DC", "microblaze_0/M_AXI_IC", "axi_dma_0/M_AXI_MM2S",
                                               "axi_dma_0/M_AXI_S2MM"]
    assert any("local_mem 64KB" in c and "{/clk_wiz_0/clk_out3 (83 MHz)}" in c for c in calls_of(calls, "apply_bd_automation"))
    assert any("CLKOUT1_REQUESTED_OUT_FREQ 166.667" in c and "CLKOUT2_REQUESTED_OUT_FREQ 200.000" in c
               and "CLKOUT3_REQUESTED_OUT_FREQ 83.333" in c for c in calls_of(calls, "set_property"))
    cells = [c.split()[-1] for c in calls_of(calls, "create_bd_cell")]
    assert "accel" in cells and not {"mm2s_width", "s2mm_width"} & set(cells)  # hls4ml's 32-bit words: no converter
    assert "set_property -dict {CONFIG.WIDTH 32 CONFIG.WORDS 640} out_last" in calls  # no TLAST: marked every 640 words
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
                                   design.block_design_args(arty, FINN_IP, out, energy=True), tmp_path,
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
                                   design.block_design_args(arty, HLS4ML_IP, tmp_path / "system"), tmp_path,
                                   design_properties(tmp_path / "runs", system_hz=81250000))
    assert code != 0 and "81250000" in said and "TIMER_HZ" in said
    assert not calls_of(calls, "launch_runs")


@needs_tclsh
def test_flash_and_pynq_scripts_pass_their_arguments_on(arty, tmp_path):
    system = design.system_files(tmp_path / "system")
    step = microblaze_system.flash_step(arty, system, tmp_path / "boot.elf", tmp_path / "firmware.img", tmp_path / "flash.mcs")
    assert step.tools == ("vivado", "updatemem")
    code, said, calls = run_script(REPO / "boards/arty_a7/vivado/flash.tcl", tclargs_of(step), tmp_path)
    assert code == 0, said
    (updatemem,) = calls_of(calls, "exec")
    assert f"-meminfo {system.mmi}" in updatemem and "-proc mb_system_i/microblaze_0" in updatemem
    assert f"-data {tmp_path / 'boot.elf'}" in updatemem
    (cfgmem,) = calls_of(calls, "write_cfgmem")
    assert "-interface SPIx4 -size 16" in cfgmem and f"-loaddata {{up 0x00400000 {tmp_path / 'firmware.img'}}}" in cfgmem

    code, said, calls = run_script(REPO / "boards/arty_a7/vivado/program_flash.tcl",
                                   tclargs_of(microblaze_system.program_flash_step(arty, tmp_path / "flash.mcs")), tmp_path,
                                   {"PROGRAM.HW_CFGMEM_BITFILE": "cfgmem.bit"})
    assert code == 0, said
    assert "get_cfgmem_parts s25fl128sxxxxxx0-spi-x1_x2_x4" in calls and calls_of(calls, "program_hw_cfgmem")

    step = zynq.jtag_step("pynq_z2", tmp_path / "b.bit", tmp_path / "p.xsa", tmp_path / "ps7_init.tcl", tmp_path / "fw.elf")
    (tmp_path / "ps7_init.tcl").write_text("proc ps7_init {} { stub ps7_init_from_the_xsa }\nproc ps7_post_config {} {}\n")
    code, said, calls = run_script(REPO / "boards/common/zynq7000/vivado/program_jtag.tcl", step.args[1:], tmp_path)
    assert code == 0, said
    order = [c.split()[0] for c in calls if c.split()[0] in ("fpga", "ps7_init_from_the_xsa", "dow", "con")]
    assert order == ["fpga", "ps7_init_from_the_xsa", "dow", "con"]
    assert f"dow {tmp_path / 'fw.elf'}" in calls

    fsbl = tmp_path / "boot"
    (fsbl / "fsbl").mkdir(parents=True)
    (fsbl / "fsbl" / "executable.elf").write_bytes(b"as hsi builds it")
    code, said, calls = run_script(REPO / "boards/common/zynq7000/vivado/boot.tcl",
                                   zynq.fsbl_step(tmp_path / "p.xsa", fsbl).args[1:], tmp_path)
    assert code == 0, said
    assert any("-app zynq_fsbl" in c and "-proc ps7_cortexa9_0" in c for c in calls_of(calls, "hsi::generate_app"))
    assert (fsbl / "fsbl.elf").read_bytes() == b"as hsi builds it"


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
    subprocess.run(["iverilog", "-o", str(sim), str(bench), str(REPO / "boards/common/vivado/axis_last_after.v")], check=True)
    beats = re.findall(r"beat (\d+) last (\d)", subprocess.run(["vvp", str(sim)], capture_output=True, text=True).stdout)
    assert len(beats) > 12
    assert [int(last) for _, last in beats] == [int(n % 3 == 2) for n in range(len(beats))]
