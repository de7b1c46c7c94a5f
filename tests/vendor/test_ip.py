"""The accelerator IP as the block design takes it, from what the flow's toolchain declares of it
(toolchains/base.py AcceleratorIp): its IP-XACT description read (VLNV, AXI-stream ports, TLAST,
clock and reset), the IP repositories it needs, the output words where it has no TLAST."""

from __future__ import annotations

from pathlib import Path

import pytest

import toolchains
from boards import board
from boards.vendor import ip as block_ip
from common.errors import BuildError

ARTY = board.load("arty_a7")
HLS4ML, FINN = toolchains.load("hls4ml"), toolchains.load("finn")

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
    hls = tmp_path / "hls4ml_prj/accel_axis_prj/solution1/impl/ip"  # hls4ml's board IP: no TLAST on its output
    component(hls, "xilinx.com", "hls", "accel_axis", {"in_r": ("slave", False), "out_r": ("master", False)})
    with pytest.raises(BuildError, match="no TLAST and its toolchain declares no words per inference"):
        block_ip.block_design_ip(HLS4ML.vendor_ip(ARTY, {"ip": hls}, tmp_path / "convert"))
    (tmp_path / "convert/hls4ml_prj").mkdir(parents=True)
    (tmp_path / "convert/hls4ml_prj/accel_axis.h").write_text("#define ACCEL_N_IN 640\n#define ACCEL_N_OUT 640\n")
    ip = block_ip.block_design_ip(HLS4ML.vendor_ip(ARTY, {"ip": hls}, tmp_path / "convert"))
    assert (ip.vlnv, ip.stream_in, ip.stream_out, ip.clock, ip.reset, ip.last_after) == \
        ("xilinx.com:hls:accel_axis:1.0", "in_r", "out_r", "ap_clk", "ap_rst_n", 640)

    stitched = tmp_path / "finn_build/stitched_ip"
    component(stitched / "ip", "xilinx_finn", "finn", "finn_design",
              {"s_axis_0": ("slave", False), "m_axis_0": ("master", False)})
    layer = tmp_path / "layers/MVAU_hls_0/ip"
    layer.mkdir(parents=True)
    (stitched / "make_project.tcl").write_text(
        f"create_project finn_vivado_stitch_proj {stitched} -part x\n"
        f"set_property ip_repo_paths [list {layer} /gone/StreamingFIFO_0] [current_project]\n")
    with pytest.raises(BuildError, match="no TLAST"):
        block_ip.block_design_ip(FINN.vendor_ip(ARTY, {"stitched_ip": stitched}, tmp_path / "convert"))
    (tmp_path / "convert/finn_io.h").write_text("#define FINN_OUT_WORDS 12\n#define FINN_OUT_WORD_BYTES 1\n")
    ip = block_ip.block_design_ip(FINN.vendor_ip(ARTY, {"stitched_ip": stitched}, tmp_path / "convert"))
    assert (ip.vlnv, ip.stream_in, ip.stream_out, ip.last_after) == \
        ("xilinx_finn:finn:finn_design:1.0", "s_axis_0", "m_axis_0", 12)
    assert ip.repos == [stitched / "ip", layer]  # a repository that is gone is left out
    with pytest.raises(BuildError, match="Vitis HLS"):
        HLS4ML.vendor_ip(ARTY, {"board_performance": tmp_path / "fw.elf"}, None)
    with pytest.raises(BuildError, match="Vitis HLS"):
        FINN.vendor_ip(ARTY, {"board_performance": tmp_path / "fw.elf"}, None)
