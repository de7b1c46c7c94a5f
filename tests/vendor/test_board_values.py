"""board.yaml is the one source of the numbers the vendor steps pass on: a changed board.yaml
changes the block design's arguments, the bootloader's defines and the address check; the
MicroBlaze options follow the firmware's compiler flags."""

from __future__ import annotations

import pytest
import yaml

from boards import board
from boards.vendor import bootloader
from boards.vendor import microblaze_design as design
from common.errors import BuildError, ConfigError
from tests.vendor.tcl_harness import FINN_IP, REPO


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
    args = dict(zip(*[iter(design.block_design_args(changed, FINN_IP, tmp_path, energy=True))] * 2))
    assert (args["-uart_base"], args["-dma_base"], args["-flash_xip_base"]) == ("0x40610000", "0x41E20000", "0x70000000")
    assert (args["-timestamp_pin"], args["-uart_baud"], args["-last_after"]) == ("D12", "19200", "12")
    assert bootloader.bootloader_defines(changed)["FLASH_XIP_BASE"] == 0x70000000
    assert design.expected_addresses(changed)["axi_uartlite_0"] == {(0x40610000, 0x10000)}
    del raw["fabric_addresses"]["ACCEL_DMA_BASE"]  # not given: Vivado's first AXI DMA address
    copy.write_text(yaml.safe_dump(raw))
    args = dict(zip(*[iter(design.block_design_args(board.load("arty_a7", copy), FINN_IP, tmp_path))] * 2))
    assert args["-dma_base"] == "0x41E00000"


def test_address_report_is_checked_against_the_firmware(arty, tmp_path):
    rows = [("dlmb_bram_if_cntlr_Mem", 0, "64K"), ("mig_7series_0_memaddr", 0x80000000, "256M"),
            ("axi_uartlite_0_Reg", 0x40600000, "65536"), ("axi_timer_0_Reg", 0x41C00000, "64K"),
            ("axi_gpio_0_Reg", 0x40000000, "64K"), ("axi_dma_0_Reg", 0x41E00000, "64K"),
            ("axi_quad_spi_0_Reg", 0x44A00000, "64K"), ("axi_quad_spi_0_MEM0", 0x60000000, "16M")]
    report = tmp_path / "addresses.txt"
    lines = [f"microblaze_0/Data 0x{base:08X} {size} /microblaze_0/Data/SEG_{seg}" for seg, base, size in rows]
    report.write_text("\n".join([*lines, "axi_dma_0/Data_MM2S 0x80000000 256M /axi_dma_0/Data_MM2S/SEG_mig_7series_0_memaddr"]))
    design.check_addresses(report, arty)
    report.write_text("\n".join(lines).replace("0x40000000 64K", "0x40010000 64K"))
    with pytest.raises(BuildError, match=r"axi_gpio_0: firmware 0x40000000 \+0x10000, design 0x40010000 \+0x10000"):
        design.check_addresses(report, arty)


def test_microblaze_options_follow_the_cflags(tmp_path):
    raw = yaml.safe_load((REPO / "boards/arty_a7/board.yaml").read_text())
    raw["firmware"]["cflags"] = ["-mcpu=v11.0", "-mxl-multiply-high", "-mno-xl-soft-div"]
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(raw))
    assert design.microblaze_config(board.load("arty_a7", tmp_path / "a.yaml")) == {"C_USE_HW_MUL": 2, "C_USE_DIV": 1}
    raw["firmware"]["cflags"] = ["-mxl-frobnicate"]
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match="-mxl-frobnicate"):
        design.microblaze_config(board.load("arty_a7", tmp_path / "a.yaml"))


def test_the_caches_follow_the_firmware_defines(tmp_path):
    """The block design's caches are the ones the firmware is built to invalidate and maintain
    (firmware.defines MB_CACHE_BYTES, MB_DCACHE_LINE_BYTES); without them, none; a size or line Vivado
    does not offer, or one define without the other, is refused."""
    raw = yaml.safe_load((REPO / "boards/arty_a7/board.yaml").read_text())
    copy = tmp_path / "board.yaml"

    def args_with(**defines):
        raw["firmware"]["defines"].update(defines)
        raw["firmware"]["defines"] = {k: v for k, v in raw["firmware"]["defines"].items() if v is not None}
        copy.write_text(yaml.safe_dump(raw))
        return dict(zip(*[iter(design.block_design_args(board.load("arty_a7", copy), FINN_IP, tmp_path))] * 2))

    args = args_with()
    assert (args["-cache_bytes"], args["-cache_line_bytes"]) == ("16384", "32")
    assert "C_USE_FPU" not in args["-microblaze_config"]  # soft float (board.yaml says why)
    args = args_with(MB_CACHE_BYTES=None, MB_DCACHE_LINE_BYTES=None)
    assert (args["-cache_bytes"], args["-cache_line_bytes"]) == ("0", "0")
    with pytest.raises(ConfigError, match="gives MB_CACHE_BYTES without MB_DCACHE_LINE_BYTES"):
        args_with(MB_CACHE_BYTES=16384)
    with pytest.raises(ConfigError, match="caches of 12000 bytes with 32-byte lines are not among Vivado's"):
        args_with(MB_CACHE_BYTES=12000, MB_DCACHE_LINE_BYTES=32)
