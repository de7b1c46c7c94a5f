"""The accelerator IP as a board's block design instantiates it: its IP repositories, VLNV,
AXI-stream ports, clock and reset, read from its IP-XACT description (component.xml)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from common.errors import BuildError


@dataclass(frozen=True)
class AcceleratorIp:
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

    found = {"vlnv": ":".join(text(root, t) for t in ("vendor", "library", "name", "version")),
             "slave": {}, "master": {}, "clock": None, "reset": None}
    for bus in root.iterfind("spirit:busInterfaces/spirit:busInterface", _SPIRIT):
        name, kind = text(bus, "name"), bus.find("spirit:busType", _SPIRIT)
        kind = kind.get(f"{{{_SPIRIT['spirit']}}}name") if kind is not None else ""
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


def accelerator_ip(artifacts: Mapping[str, Path], convert_dir: Path | None = None) -> AcceleratorIp:
    """The build stage's accelerator IP: hls4ml's exported HLS IP (artifact `ip`) or FINN's stitched
    IP (`stitched_ip`, with the IP repositories of its layers from its make_project.tcl)."""
    if "ip" in artifacts:
        repos, component = [artifacts["ip"]], artifacts["ip"] / "component.xml"
    elif "stitched_ip" in artifacts:
        stitched = artifacts["stitched_ip"]
        repos, component = _finn_repos(stitched), stitched / "ip" / "component.xml"
    else:
        raise BuildError(f"the build stage made no accelerator IP (no 'ip' or 'stitched_ip' among {', '.join(artifacts)}): "
                         f"it is built where Vivado HLS / Vitis HLS are installed")
    ip = read_component(component)
    if len(ip["slave"]) != 1 or len(ip["master"]) != 1:
        raise BuildError(f"{component}: expected one AXI-stream input and one output, found inputs {sorted(ip['slave'])} "
                         f"and outputs {sorted(ip['master'])}")
    (stream_in, _), (stream_out, has_last) = next(iter(ip["slave"].items())), next(iter(ip["master"].items()))
    last_after = 0 if has_last else _output_words(convert_dir, component)
    return AcceleratorIp(repos, ip["vlnv"], stream_in, stream_out, ip["clock"] or "ap_clk", ip["reset"] or "ap_rst_n",
                         last_after)


def _finn_repos(stitched: Path) -> list[Path]:
    """The stitched IP's own repository and its layers' (FINN's make_project.tcl lists them)."""
    repos = [stitched / "ip"]
    script = stitched / "make_project.tcl"
    listed = re.search(r"set_property ip_repo_paths \[list ([^\]]*)\]", script.read_text()) if script.is_file() else None
    for entry in (listed.group(1).split() if listed else []):
        if "$::env(FINN_RTLLIB)" in entry:
            entry = entry.replace("$::env(FINN_RTLLIB)", str(_finn_rtllib()))
        if Path(entry).is_dir() and Path(entry) not in repos:
            repos.append(Path(entry))
    return repos


def _finn_rtllib() -> Path:
    import os
    from importlib.util import find_spec

    if os.environ.get("FINN_RTLLIB"):
        return Path(os.environ["FINN_RTLLIB"])
    spec = find_spec("finn")
    return Path(spec.origin).parent / "finn-rtllib" if spec and spec.origin else Path("finn-rtllib")


def _output_words(convert_dir: Path | None, component: Path) -> int:
    """Words per inference of an output stream without TLAST: FINN's (finn_io.h FINN_OUT_WORDS)."""
    header = convert_dir / "finn_io.h" if convert_dir else None
    found = re.search(r"#define FINN_OUT_WORDS (\d+)", header.read_text()) if header and header.is_file() else None
    if not found:
        raise BuildError(f"the output stream of {component} has no TLAST and there is no finn_io.h (FINN_OUT_WORDS) "
                         f"in the convert stage to say where an inference's output ends")
    return int(found.group(1))
