"""The accelerator IP as a board's block design instantiates it, from what its toolchain declares
(toolchains/base.py AcceleratorIp: the IP-XACT description, the IP repositories, the output words
per inference): its VLNV, AXI-stream ports, clock and reset, read from the IP-XACT description."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.errors import BuildError
from toolchains.base import AcceleratorIp


@dataclass(frozen=True)
class BlockDesignIp:
    """The accelerator as the block design instantiates it: its IP repositories, VLNV, AXI-stream
    ports, clock and reset; last_after > 0 when its output stream has no TLAST (mark every
    last_after-th word)."""

    repos: list[Path]
    vlnv: str
    stream_in: str
    stream_out: str
    clock: str = "ap_clk"
    reset: str = "ap_rst_n"
    last_after: int = 0


_SPIRIT = {"spirit": "http://www.spiritconsortium.org/XMLSchema/SPIRIT/1685-2009"}


def read_component(component: Path) -> dict:
    """What an IP-XACT component.xml (Vivado HLS's and FINN's packaged IP) says about the IP: its
    VLNV, its AXI-stream slave and master interfaces (and whether each has TLAST), clock and reset."""
    try:
        root = ET.parse(component).getroot()
    except (OSError, ET.ParseError) as e:
        raise BuildError(f"cannot read the IP description {component}: {e}") from None
    def text(node, tag: str) -> str:
        return (node.findtext(f"spirit:{tag}", namespaces=_SPIRIT) or "").strip()

    found: dict[str, Any] = {"vlnv": ":".join(text(root, t) for t in ("vendor", "library", "name", "version")),
             "slave": {}, "master": {}, "clock": None, "reset": None}
    for bus in root.iterfind("spirit:busInterfaces/spirit:busInterface", _SPIRIT):
        name, bus_type = text(bus, "name"), bus.find("spirit:busType", _SPIRIT)
        kind = bus_type.get(f"{{{_SPIRIT['spirit']}}}name") if bus_type is not None else ""
        logical = {p.findtext("spirit:logicalPort/spirit:name", namespaces=_SPIRIT): p.findtext("spirit:physicalPort/spirit:name",
                   namespaces=_SPIRIT) for p in bus.iterfind("spirit:portMaps/spirit:portMap", _SPIRIT)}
        if kind == "axis":
            role = "master" if bus.find("spirit:master", _SPIRIT) is not None else "slave"
            found[role][name] = "TLAST" in logical
        elif kind == "clock" and found["clock"] is None:
            found["clock"] = logical.get("CLK", name)
        elif kind == "reset" and found["reset"] is None:
            found["reset"] = logical.get("RST", name)
    if "::" in found["vlnv"] or found["vlnv"].startswith(":"):
        raise BuildError(f"{component} names no complete VLNV ({found['vlnv']})")
    return found


def block_design_ip(declared: AcceleratorIp) -> BlockDesignIp:
    """The IP a toolchain declares (toolchains/base.py AcceleratorIp) as the block design instantiates
    it: its IP-XACT description read for the VLNV, one AXI-stream input and one output, clock and
    reset; an output without TLAST is marked every `output_words` words, as the toolchain declares."""
    component = Path(declared.component)
    ip = read_component(component)
    if len(ip["slave"]) != 1 or len(ip["master"]) != 1:
        raise BuildError(f"{component}: expected one AXI-stream input and one output, found inputs {sorted(ip['slave'])} "
                         f"and outputs {sorted(ip['master'])}")
    (stream_in, _), (stream_out, has_last) = next(iter(ip["slave"].items())), next(iter(ip["master"].items()))
    if not has_last and not declared.output_words:
        raise BuildError(f"the output stream of {component} has no TLAST and its toolchain declares no words per "
                         f"inference (AcceleratorIp.output_words) to say where an inference's output ends")
    return BlockDesignIp(list(declared.repos), ip["vlnv"], stream_in, stream_out, ip["clock"] or "ap_clk",
                         ip["reset"] or "ap_rst_n", 0 if has_last else int(declared.output_words or 0))


def newest(ip: BlockDesignIp) -> float:
    """The newest modification time in the IP's repositories (a rebuilt IP changes it)."""
    return max((p.stat().st_mtime for f in ip.repos if f.is_dir() for p in f.rglob("*")), default=0.0)
