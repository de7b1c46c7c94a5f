"""Our Zynq-7000 design for a Zynq board no toolchain has a shell for
(boards/common/zynq7000/vivado/block_design.tcl, boards/vendor/zynq_design.py): run under tclsh
against recording stand-ins for Vivado's commands, it sets the PS up with the clocks the firmware
counts in, puts the DMA's registers where the firmware drives them, routes the energy design's
UART through EMIO to Pmod pins, and refuses a clock or a timestamp pin the firmware would get
wrong; the address check and the Python side's own refusals."""

from __future__ import annotations

import pytest

from boards.vendor import zynq_design
from common.errors import BuildError, ConfigError
from tests.vendor.tcl_harness import FINN_IP, HLS4ML_IP, calls_of, needs_tclsh, run_script, tclargs_of, zynq_board


def ps_properties(run_dir, in_bytes: int = 4, out_bytes: int = 4, cpu_mhz: float = 650.0, mio: str = "GPIO") -> dict:
    """What the stand-ins answer: the frequencies the PS makes, the timestamp pin's MIO function
    (the board preset's), the accelerator's stream widths, a finished run."""
    (run_dir / "impl_1").mkdir(parents=True, exist_ok=True)
    for name in ("zynq_system", "zynq_system_energy"):
        (run_dir / "impl_1" / f"{name}_wrapper.bit").write_bytes(b"bitstream of the recorded run")
    return {"CONFIG.PCW_ACT_APU_PERIPHERAL_FREQMHZ ps7": cpu_mhz, "CONFIG.PCW_ACT_UART_PERIPHERAL_FREQMHZ ps7": 100.0,
            "CONFIG.PCW_ACT_FPGA0_PERIPHERAL_FREQMHZ ps7": 100.0, "CONFIG.PCW_MIO_12_PERIPHERAL ps7": mio,
            "CONFIG.TDATA_NUM_BYTES accel/in_r": in_bytes, "CONFIG.TDATA_NUM_BYTES accel/out_r": out_bytes,
            "CONFIG.TDATA_NUM_BYTES accel/s_axis_0": in_bytes, "CONFIG.TDATA_NUM_BYTES accel/m_axis_0": out_bytes,
            "PROGRESS": "100%", "STATS.WNS": 0.4, "DIRECTORY": run_dir / "impl_1"}


def run_design(tmp_path, b, ip, energy=False, **answers):
    step = zynq_design.block_design_step(b, ip, tmp_path / "design", energy)
    return run_script(zynq_design.SCRIPT, tclargs_of(step), tmp_path, ps_properties(tmp_path / "runs", **answers))


@needs_tclsh
def test_the_ps_makes_the_clocks_the_firmware_counts_in(tmp_path):
    code, said, calls = run_design(tmp_path, zynq_board(tmp_path), HLS4ML_IP)
    assert code == 0, said
    (ps,) = [c for c in calls_of(calls, "set_property") if "PCW_APU_PERIPHERAL_FREQMHZ" in c]
    for setting in ("CONFIG.PCW_APU_PERIPHERAL_FREQMHZ 650.000", "CONFIG.PCW_UART_PERIPHERAL_FREQMHZ 100.000",
                    "CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ 100.000", "CONFIG.PCW_UART0_PERIPHERAL_ENABLE 1",
                    "CONFIG.PCW_USE_S_AXI_HP0 1", "CONFIG.PCW_GPIO_MIO_GPIO_ENABLE 1"):
        assert setting in ps, setting
    assert "EMIO" not in ps and not calls_of(calls, "create_bd_intf_port")  # the UART stays on its MIO pins
    assert any("apply_board_preset" in c for c in calls_of(calls, "apply_bd_automation"))
    (placed,) = calls_of(calls, "assign_bd_address")
    assert "-target_address_space ps7/Data -offset 0x40400000 -range 64K axi_dma_0/S_AXI_LITE/Reg" in placed
    assert "connect_bd_net ps7/FCLK_CLK0 accel/ap_clk" in calls
    assert (tmp_path / "design/zynq_system.bit").read_bytes() == b"bitstream of the recorded run"
    assert any(c.endswith(f"-file {tmp_path / 'design/zynq_system.xsa'}") for c in calls_of(calls, "write_hw_platform"))


@needs_tclsh
def test_the_energy_design_routes_the_uart_to_pmod_pins(tmp_path):
    code, said, calls = run_design(tmp_path, zynq_board(tmp_path), FINN_IP, energy=True, in_bytes=10, out_bytes=1)
    assert code == 0, said
    assert any("CONFIG.PCW_UART0_UART0_IO EMIO" in c for c in calls_of(calls, "set_property"))
    assert "connect_bd_intf_net ps7/UART_0 energy_uart" in calls
    assert "set_property -dict {CONFIG.WIDTH 8 CONFIG.WORDS 12} out_last" in calls  # FINN's output: no TLAST
    xdc = (tmp_path / "design/constraints.xdc").read_text()
    assert "PACKAGE_PIN Y18 IOSTANDARD LVCMOS33} [get_ports energy_uart_txd]" in xdc
    assert "PACKAGE_PIN Y19 IOSTANDARD LVCMOS33} [get_ports energy_uart_rxd]" in xdc


@needs_tclsh
def test_the_design_refuses_what_the_firmware_would_get_wrong(tmp_path):
    code, said, calls = run_design(tmp_path, zynq_board(tmp_path), HLS4ML_IP, cpu_mhz=666.666687)
    assert code != 0 and "CPU clock" in said and "666.666687" in said
    assert not calls_of(calls, "launch_runs")
    code, said, calls = run_design(tmp_path, zynq_board(tmp_path), HLS4ML_IP, mio="SD 0")
    assert code != 0 and "MIO 12 (the timestamp pin, TIMESTAMP_MIO_PIN) is 'SD 0'" in said
    assert not calls_of(calls, "launch_runs")


def test_the_arguments_come_from_board_yaml(tmp_path):
    args = zynq_design.block_design_values(zynq_board(tmp_path), FINN_IP, tmp_path, energy=True)
    assert (args["cpu_hz"], args["uart"], args["uart_ref_hz"], args["timestamp_mio"], args["dma_base"]) == \
        (650000000, 0, 100000000, 12, "0x40400000")
    assert (args["uart_pins"], args["energy_uart_tx"], args["last_after"]) == ("pmod", "Y18", 12)
    with pytest.raises(ConfigError, match=r"UART1 \(0xE0001000\) but the firmware drives ZYNQ_UART_BASE 0xE0000000"):
        zynq_design.block_design_values(zynq_board(tmp_path, **{"vivado.zynq_system.uart": 1}), FINN_IP, tmp_path)
    with pytest.raises(ConfigError, match="no Zynq design of ours"):
        zynq_design.block_design_values(zynq_board(tmp_path, **{"vivado.zynq_system": None}), FINN_IP, tmp_path)


def test_the_address_map_is_checked_against_the_firmware(tmp_path):
    report = tmp_path / "addresses.txt"
    report.write_text("ps7/Data 0x40400000 64K /ps7/Data/SEG_axi_dma_0_Reg\n"
                      "axi_dma_0/Data_MM2S 0x00000000 512M /axi_dma_0/Data_MM2S/SEG_ps7_HP0_DDR_LOWOCM\n")
    zynq_design.check_addresses(report, zynq_board(tmp_path))
    report.write_text("ps7/Data 0x40410000 0x10000 /ps7/Data/SEG_axi_dma_0_Reg\n")
    with pytest.raises(BuildError, match=r"axi_dma_0: firmware 0x40400000 \+0x10000, design 0x40410000 \+0x10000"):
        zynq_design.check_addresses(report, zynq_board(tmp_path))
