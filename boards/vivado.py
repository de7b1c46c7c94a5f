"""A board's vendor steps beyond the toolchains' own builds: the Vivado and xsct scripts in
boards/<board>/vivado/ with their arguments taken from board.yaml (so that the hardware puts every
peripheral where the firmware is built to find it), the Arty A7's flash bootloader and firmware
image, the Pynq-Z2's FSBL and BOOT.BIN, and programming a board over JTAG or into its flash.

A step of a vendor tool (vivado, xsct, bootgen, updatemem, program_flash) runs where the tool is on
PATH; elsewhere it raises ToolMissing naming the tool and the step, and nothing stands in for its
output. What runs anywhere: the argument lists and the BIF, the bootloader (the board's own cross
compiler) and the flash image.

    Arty A7   block_design.tcl (vivado)   the MicroBlaze system around the accelerator IP: .bit .mmi .xsa
              bootloader/ (gcc)           LMB-resident loader of the firmware image from the flash
              write_flash_image           the firmware ELF's loadable segments, with a header the loader checks
              flash.tcl (vivado, updatemem)  bitstream + bootloader + image as an .mcs
              program_flash.tcl (vivado)  the .mcs into the flash; program_jtag.tcl (xsct) bitstream + ELF
    Pynq-Z2   export_xsa.tcl (vivado)     the XSA of hls4ml's / FINN's implemented project
              boot.tcl (xsct)             the Zynq FSBL; write_bif + bootgen: BOOT.BIN (FSBL, bitstream, ELF)
              program_jtag.tcl (xsct)     bitstream, ps7_init, ELF; program_flash: BOOT.BIN into the QSPI flash
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from boards.board import BOARDS_DIR, Board, System
from common.errors import BuildError, ConfigError, ToolMissing

log = logging.getLogger(__name__)

DESIGN = "mb_system"  # the Arty block design's name: its wrapper instance holds the MicroBlaze for updatemem
MICROBLAZE = "microblaze_0"
DEFAULT_DMA_BASE = 0x41E00000  # Vivado's first AXI DMA address, where fabric_addresses does not say
HW_SERVER = "TCP:127.0.0.1:3121"

# The firmware image the Arty's bootloader reads (boards/arty_a7/bootloader/boot.c): header words
# magic "MBFW", version, entry, segment count, payload bytes, payload CRC-32; then (address,
# length) per segment; then the segments' bytes, each padded to 4.
IMAGE_MAGIC = 0x5746424D
IMAGE_VERSION = 1
IMAGE_HEADER = struct.Struct("<6I")
IMAGE_SEGMENT = struct.Struct("<2I")
MAX_SEGMENTS = 16
VECTORS_BYTES = 0x50  # the MicroBlaze vector block at 0x0: the only part of the LMB a firmware image writes
BOOT_STACK_BYTES = 1024

# firmware cflags -> the MicroBlaze parameters the code needs in hardware
MICROBLAZE_OPTIONS = {
    "-mxl-barrel-shift": ("C_USE_BARREL", 1),
    "-mno-xl-soft-mul": ("C_USE_HW_MUL", 1),
    "-mxl-multiply-high": ("C_USE_HW_MUL", 2),
    "-mxl-pattern-compare": ("C_USE_PCMP_INSTR", 1),
    "-mno-xl-soft-div": ("C_USE_DIV", 1),
    "-mxl-reorder": ("C_USE_REORDER_INSTR", 1),
}
SPI_MEMORY = {"s25fl": 3, "mt25q": 2, "n25q": 2}  # AXI Quad SPI C_SPI_MEMORY by flash family: Spansion, Micron


# ---- steps -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One run of a vendor tool: `tool` with `args`; `needs`: other tools it calls."""

    what: str
    tool: str
    args: list[str]
    needs: tuple[str, ...] = ()
    log: Path | None = None

    @property
    def command(self) -> list[str]:
        return [self.tool, *self.args]

    @property
    def tools(self) -> tuple[str, ...]:
        return (self.tool, *self.needs)


def require(needs: list[tuple[str, str]]) -> None:
    """Raise ToolMissing for the (tool, what) pairs whose tool is not on PATH, all of them at once."""
    missing = [(tool, what) for tool, what in needs if shutil.which(tool) is None]
    if missing:
        tools = sorted({tool for tool, _ in missing})
        raise ToolMissing(tools, "; ".join(dict.fromkeys(f"{what} ({tool})" for tool, what in missing)))


def run(step: Step, cwd: Path) -> None:
    """Run a vendor step (ToolMissing where its tools are not on PATH); its output goes to step.log."""
    require([(tool, step.what) for tool in step.tools])
    cwd.mkdir(parents=True, exist_ok=True)
    out = step.log or cwd / f"{step.tool}.log"
    log.info("%s: %s", step.what, " ".join(step.command))
    with open(out, "w") as f:
        code = subprocess.run(step.command, cwd=cwd, stdout=f, stderr=subprocess.STDOUT).returncode
    if code != 0:
        tail = out.read_text(errors="replace")[-3000:]
        raise BuildError(f"{step.what} failed ({step.tool} exit {code}); log {out}:\n{tail}")


def vivado_batch(script: Path, script_args: list[str], what: str, log_file: Path, needs: tuple[str, ...] = ()) -> Step:
    """`vivado -mode batch -source script -tclargs ...`: Vivado's log in log_file, its output beside it (.out)."""
    return Step(what, "vivado", ["-mode", "batch", "-nojournal", "-log", str(log_file), "-source", str(script),
                                 "-tclargs", *script_args], needs=needs, log=log_file.with_suffix(".out"))


def tclargs(values: Mapping[str, object]) -> list[str]:
    """-name value pairs as the scripts parse them (boards/common/vivado/tclargs.tcl)."""
    return [word for name, value in values.items() for word in (f"-{name}", str(value))]


def tcl_list(items) -> str:
    """A Tcl list of the items, each braced where Tcl would split or substitute it."""
    def word(item) -> str:
        text = str(item)
        if text and not re.search(r"[\s{}\[\]$\"\\;]", text):
            return text
        if "{" in text or "}" in text or "\\" in text:
            raise ConfigError(f"cannot pass '{text}' to Tcl safely (braces or backslashes)")
        return "{" + text + "}"
    return " ".join(word(i) for i in items)


def hexa(value: int) -> str:
    return f"0x{value:08X}"


# ---- board data --------------------------------------------------------------------------------


def _system(board: Board) -> System:
    if board.vivado.system is None:
        raise ConfigError(f"board {board.name} has no block design of ours (board.yaml vivado.system): "
                          f"its bitstream comes from the toolchain's own design")
    return board.vivado.system


def defines(board: Board, target: str = "board") -> dict[str, int]:
    """The addresses and clocks the firmware is built with, as numbers (board.yaml
    fabric_addresses, firmware.defines and, for target qemu, firmware.qemu.defines)."""
    fw = board.firmware
    if fw is None:
        raise ConfigError(f"board {board.name} has no bare-metal firmware (board.yaml firmware)")
    merged = {**board.fabric_addresses, **fw.defines, **(fw.qemu.defines if target == "qemu" and fw.qemu else {})}
    out = {}
    for name, value in merged.items():
        try:
            out[name] = value if isinstance(value, int) else int(str(value), 0)
        except ValueError:
            continue  # not a number (a string define): no address
    return out


def _define(values: dict[str, int], name: str, board: Board) -> int:
    if name not in values:
        raise ConfigError(f"board {board.name}: board.yaml firmware.defines has no {name}")
    return values[name]


def device(board: Board) -> str:
    """The FPGA as the JTAG chain names it: xc7a100tcsg324-1 -> xc7a100t."""
    found = re.match(r"(xc\d[a-z]+\d+t)", board.part)
    if not found:
        raise ConfigError(f"board {board.name}: cannot tell the device of part {board.part}")
    return found.group(1)


def microblaze_config(board: Board) -> dict[str, int]:
    """The MicroBlaze parameters the firmware's compiler options need (board.yaml firmware.cflags)."""
    config: dict[str, int] = {}
    for flag in board.firmware.cflags if board.firmware else []:
        if flag in MICROBLAZE_OPTIONS:
            parameter, value = MICROBLAZE_OPTIONS[flag]
            config[parameter] = max(value, config.get(parameter, 0))
        elif flag.startswith(("-mxl-", "-mno-xl-")) and flag not in ("-mxl-soft-mul", "-mxl-soft-div"):
            raise ConfigError(f"board {board.name}: firmware cflag {flag} needs a MicroBlaze option the block design "
                              f"does not know (boards/vivado.py MICROBLAZE_OPTIONS)")
    return config


def spi_memory(cfgmem_part: str) -> int:
    for prefix, code in SPI_MEMORY.items():
        if cfgmem_part.startswith(prefix):
            return code
    raise ConfigError(f"flash part {cfgmem_part}: unknown family for the AXI Quad SPI (boards/vivado.py SPI_MEMORY)")


# ---- the accelerator IP ------------------------------------------------------------------------


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
    text = lambda node, tag: (node.findtext(f"spirit:{tag}", namespaces=_SPIRIT) or "").strip()
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


# ---- Arty A7: block design, bootloader, flash image -------------------------------------------


@dataclass(frozen=True)
class SystemFiles:
    """What block_design.tcl writes: the bitstream, the BRAM map (updatemem), the hardware platform."""

    folder: Path
    name: str

    bit = property(lambda self: self.folder / f"{self.name}.bit")
    mmi = property(lambda self: self.folder / f"{self.name}.mmi")
    xsa = property(lambda self: self.folder / f"{self.name}.xsa")
    addresses = property(lambda self: self.folder / "addresses.txt")
    processor = property(lambda self: f"{self.name}_i/{MICROBLAZE}")


def block_design_args(board: Board, ip: AcceleratorIp, out_dir: Path, energy: bool = False) -> list[str]:
    """The -tclargs of block_design.tcl: board.yaml's part, clocks and addresses, the IP's ports."""
    return tclargs(_block_design_values(board, ip, out_dir, energy))


def _block_design_values(board: Board, ip: AcceleratorIp, out_dir: Path, energy: bool) -> dict[str, object]:
    system, values = _system(board), defines(board)
    baud = board.uart.baud
    if not energy and baud.performance != baud.accuracy:
        raise ConfigError(f"board {board.name}: one bitstream serves performance and accuracy mode, but board.yaml "
                          f"uart.baud gives them {baud.performance} and {baud.accuracy}")
    flash = system.flash
    out = {
        "out_dir": out_dir, "name": DESIGN + ("_energy" if energy else ""), "part": board.part,
        "board_part": board.vivado.board_part, "ip_repos": tcl_list(ip.repos), "ip_vlnv": ip.vlnv,
        "ip_stream_in": ip.stream_in, "ip_stream_out": ip.stream_out, "ip_clock": ip.clock, "ip_reset": ip.reset,
        "last_after": ip.last_after, "clock_hz": _define(values, "TIMER_HZ", board),
        "local_memory_kb": system.local_memory_kb,
        "microblaze_config": tcl_list(w for kv in microblaze_config(board).items() for w in kv),
        "ddr_base": hexa(_define(values, "DDR_BASE", board)), "ddr_bytes": hexa(system.ddr_bytes),
        "uart_base": hexa(_define(values, "MB_UART_BASE", board)), "uart_baud": baud.energy if energy else baud.performance,
        "uart_pins": "pmod" if energy else "usb",
        "timer_base": hexa(_define(values, "MB_TIMER_BASE", board)), "gpio_base": hexa(_define(values, "MB_GPIO_BASE", board)),
        "dma_base": hexa(values.get("ACCEL_DMA_BASE", DEFAULT_DMA_BASE)),
        "flash_regs_base": hexa(flash.regs_base), "flash_xip_base": hexa(flash.xip_base), "flash_mb": flash.size_mb,
        "flash_memory": spi_memory(flash.cfgmem_part), "timestamp_pin": system.pins.timestamp,
    }
    if energy:
        out.update(energy_uart_tx=system.pins.energy_uart_tx, energy_uart_rx=system.pins.energy_uart_rx)
    return out


def expected_addresses(board: Board, energy: bool = False) -> dict[str, set[tuple[int, int]]]:
    """Per block-design cell, the (base, size) of its address segments in the MicroBlaze's data
    space where the firmware expects them."""
    v = _block_design_values(board, AcceleratorIp([], "x:y:z:1.0", "in", "out"), Path("."), energy)
    kb, at = 1024, lambda key: int(str(v[key]), 16)
    return {"dlmb_bram_if_cntlr": {(0, v["local_memory_kb"] * kb)}, "mig_7series_0": {(at("ddr_base"), at("ddr_bytes"))},
            "axi_uartlite_0": {(at("uart_base"), 64 * kb)}, "axi_timer_0": {(at("timer_base"), 64 * kb)},
            "axi_gpio_0": {(at("gpio_base"), 64 * kb)}, "axi_dma_0": {(at("dma_base"), 64 * kb)},
            "axi_quad_spi_0": {(at("flash_regs_base"), 64 * kb), (at("flash_xip_base"), v["flash_mb"] * kb * kb)}}


def check_addresses(report: Path, board: Board, energy: bool = False) -> None:
    """Compare the address map Vivado assigned (block_design.tcl's addresses.txt: space, offset,
    range, segment per line) in the MicroBlaze's data space with the firmware's; a BuildError
    lists every difference."""
    assigned: list[tuple[str, tuple[int, int]]] = []
    for line in report.read_text().splitlines():
        space, offset, size, segment = line.split(maxsplit=3)
        if space.endswith("/Data"):
            assigned.append((segment, (int(offset, 0), _size(size))))
    wrong = []
    for cell, where in expected_addresses(board, energy).items():
        found = {place for segment, place in assigned if f"SEG_{cell}_" in segment}
        if found != where:
            show = lambda places: ", ".join(f"{hexa(b)} +{n:#x}" for b, n in sorted(places)) or "none"
            wrong.append(f"{cell}: firmware {show(where)}, design {show(found)}")
    if wrong:
        raise BuildError(f"the block design's address map differs from the firmware's ({report}):\n  " + "\n  ".join(wrong))


def _size(text: str) -> int:
    """An address range as Vivado writes it: 65536, 0x10000, 64K, 256M or 1G."""
    scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:].upper(), 1)
    return int(text[:-1] if scale > 1 else text, 0) * scale


def block_design_step(board: Board, ip: AcceleratorIp, out_dir: Path, energy: bool = False) -> Step:
    return vivado_batch(board.folder / "vivado" / "block_design.tcl", block_design_args(board, ip, out_dir, energy),
                        f"the {board.name} block design and bitstream{' (energy)' if energy else ''}",
                        out_dir / "vivado.log")


def system_files(out_dir: Path, energy: bool = False) -> SystemFiles:
    return SystemFiles(out_dir, DESIGN + ("_energy" if energy else ""))


def bootloader_defines(board: Board, target: str = "board") -> dict[str, int]:
    """The bootloader's build defines: where the flash, the image, DDR and the UART are."""
    system, values = _system(board), defines(board, target)
    flash = system.flash
    xip = flash.qemu_xip_base if target == "qemu" else flash.xip_base
    if xip is None:
        raise ConfigError(f"board {board.name}: no flash in its QEMU machine (board.yaml vivado.system.flash.qemu_xip_base)")
    return {"FLASH_XIP_BASE": xip, "IMAGE_OFFSET": flash.image_offset, "DDR_BASE": _define(values, "DDR_BASE", board),
            "DDR_BYTES": system.ddr_bytes, "MB_UART_BASE": _define(values, "MB_UART_BASE", board),
            "LMB_BYTES": system.local_memory_kb * 1024, "VECTORS_BYTES": VECTORS_BYTES, "STACK_BYTES": BOOT_STACK_BYTES}


def build_bootloader(board: Board, out: Path, target: str = "board") -> Path:
    """Cross-compile the flash bootloader (boards/<board>/bootloader/) into out/bootloader_<target>.elf,
    linked into the local BRAM; target qemu takes the QEMU machine's addresses."""
    from boards import firmware

    compiler, cc = firmware.cross_compiler(board)
    if cc is None:
        raise ToolMissing([compiler], f"the {board.name} flash bootloader", hint="make setup provides the cross compilers")
    here = board.folder / "bootloader"
    dash = [f"-D{k}={hexa(v)}" for k, v in bootloader_defines(board, target).items()]
    out.mkdir(parents=True, exist_ok=True)
    script, elf = out / "boot.ld", out / f"bootloader_{target}.elf"
    firmware.run_compiler([cc, "-E", "-P", "-x", "c", *dash, str(here / "boot.ld"), "-o", str(script)], out, "bootloader build")
    flags = [*board.firmware.cflags, "-Os", "-Wall", "-Werror", "-ffreestanding", "-nostdlib", "-nostartfiles", *dash]
    firmware.run_compiler([cc, *flags, "-T", str(script), str(board.folder / "firmware" / "crt.S"), str(here / "boot.c"),
                           "-lgcc", "-o", str(elf)], out, "bootloader build")
    return elf


def elf_segments(elf: Path) -> tuple[int, list[tuple[int, bytes]]]:
    """(entry, [(load address, bytes)]) of a little-endian ELF32's loadable segments with file bytes."""
    data = Path(elf).read_bytes()
    if data[:4] != b"\x7fELF" or data[4:6] != b"\x01\x01":
        raise BuildError(f"{elf} is not a little-endian 32-bit ELF file")
    entry, phoff = struct.unpack_from("<II", data, 0x18)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x2A)
    found = []
    for i in range(phnum):
        kind, offset, _vaddr, paddr, filesz = struct.unpack_from("<5I", data, phoff + i * phentsize)
        if kind == 1 and filesz:  # PT_LOAD
            found.append((paddr, data[offset:offset + filesz]))
    if not found:
        raise BuildError(f"{elf} has no loadable segment")
    return entry, found


@dataclass(frozen=True)
class FlashImage:
    path: Path
    entry: int
    segments: list[tuple[int, int]]  # (address, length) in copy order
    size: int


def write_flash_image(elf: Path, out: Path, board: Board, target: str = "board") -> FlashImage:
    """The image of a firmware ELF that the bootloader copies into place: every loadable segment
    must lie in DDR or the vector block (anything else would overwrite the bootloader); the
    vectors come last, so a damaged image leaves the bootloader's own reset vector in place longest."""
    entry, segments = elf_segments(elf)
    system, boot = _system(board), bootloader_defines(board, target)
    ddr, ddr_bytes = boot["DDR_BASE"], boot["DDR_BYTES"]

    def inside(address: int, length: int, base: int, size: int) -> bool:
        return base <= address and address + length <= base + size

    for address, payload in segments:
        if not (inside(address, len(payload), 0, VECTORS_BYTES) or inside(address, len(payload), ddr, ddr_bytes)):
            raise BuildError(f"{elf}: segment at {hexa(address)} (+{len(payload):#x}) lies outside DDR ({hexa(ddr)} "
                             f"+{ddr_bytes:#x}) and the vector block (0x0 +{VECTORS_BYTES:#x}): the bootloader would not load it")
    if len(segments) > MAX_SEGMENTS:
        raise BuildError(f"{elf} has {len(segments)} loadable segments; the bootloader takes at most {MAX_SEGMENTS}")
    ordered = sorted(segments, key=lambda s: (s[0] < VECTORS_BYTES, s[0]))
    payload = b"".join(p + b"\0" * (-len(p) % 4) for _, p in ordered)
    table = b"".join(IMAGE_SEGMENT.pack(a, len(p)) for a, p in ordered)
    header = IMAGE_HEADER.pack(IMAGE_MAGIC, IMAGE_VERSION, entry, len(ordered), len(payload), zlib.crc32(payload))
    image = header + table + payload
    room = system.flash.size_mb * 2**20 - system.flash.image_offset
    if len(image) > room:
        raise BuildError(f"the firmware image of {elf} ({len(image)} bytes) does not fit the flash after "
                         f"{hexa(system.flash.image_offset)} ({room} bytes)")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(image)
    return FlashImage(out, entry, [(a, len(p)) for a, p in ordered], len(image))


def flash_step(board: Board, system: SystemFiles, bootloader: Path, image: Path, mcs: Path) -> Step:
    flash = _system(board).flash
    return vivado_batch(board.folder / "vivado" / "flash.tcl", tclargs({
        "bit": system.bit, "mmi": system.mmi, "processor": system.processor, "bootloader": bootloader, "image": image,
        "image_offset": hexa(flash.image_offset), "size_mb": flash.size_mb, "mcs": mcs}),
        f"the {board.name} flash contents (bitstream + bootloader + firmware image)", mcs.with_suffix(".log"),
        needs=("updatemem",))


def program_flash_step(board: Board, mcs: Path, hw_server: str = "localhost:3121") -> Step:
    return vivado_batch(board.folder / "vivado" / "program_flash.tcl", tclargs({
        "mcs": mcs, "device": device(board), "cfgmem_part": _system(board).flash.cfgmem_part, "hw_server": hw_server}),
        f"writing the {board.name} flash over JTAG", mcs.with_name("program_flash.log"))


def arty_jtag_step(board: Board, bit: Path, elf: Path, hw_server: str = HW_SERVER) -> Step:
    return Step(f"programming the {board.name} over JTAG", "xsct", [str(board.folder / "vivado" / "program_jtag.tcl"),
                *tclargs({"bit": bit, "elf": elf, "device": device(board), "hw_server": hw_server})])


# ---- Pynq-Z2: hardware platform, FSBL, BOOT.BIN ------------------------------------------------


def vivado_project(bitfile: Path) -> Path:
    """The Vivado project that implemented a bitstream: <dir>/<project>.runs/impl_1/x.bit belongs to
    <dir>/<project>.xpr (hls4ml's design); FINN's bitfile/ folder records its Zynq project in the
    build's intermediate models (metadata vivado_pynq_proj)."""
    bitfile = Path(bitfile)
    for parent in bitfile.parents:
        if parent.suffix == ".runs":
            xpr = parent.with_suffix(".xpr")
            if xpr.is_file():
                return xpr
            break
    models = sorted((bitfile.parent if bitfile.is_file() else bitfile).parent.glob("intermediate_models/*.onnx"),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    for model in models:
        folder = _metadata(model, "vivado_pynq_proj")
        if folder and sorted(Path(folder).glob("*.xpr")):
            return sorted(Path(folder).glob("*.xpr"))[0]
    raise BuildError(f"no Vivado project found for the bitstream {bitfile} (looked for a .runs/ parent and FINN's "
                     f"vivado_pynq_proj metadata; FINN keeps that project under FINN_BUILD_DIR, which may be gone)")


def _metadata(model: Path, key: str) -> str | None:
    try:
        import onnx

        props = onnx.load(str(model), load_external_data=False).metadata_props
    except Exception:  # an unreadable model names no project
        return None
    return next((p.value for p in props if p.key == key), None)


def bitstream(bitfile: Path) -> Path:
    """The .bit file of a bitfile artifact (hls4ml: the file; FINN: its bitfile/ folder)."""
    bitfile = Path(bitfile)
    if bitfile.is_dir():
        found = sorted(bitfile.glob("*.bit"))
        if len(found) != 1:
            raise BuildError(f"expected one .bit in {bitfile}, found {[p.name for p in found]}")
        return found[0]
    return bitfile


def export_xsa_step(xpr: Path, xsa: Path) -> Step:
    return vivado_batch(BOARDS_DIR / "pynq_z2" / "vivado" / "export_xsa.tcl", tclargs({"xpr": xpr, "xsa": xsa}),
                        f"the hardware platform (XSA) of {xpr.name}", xsa.with_suffix(".log"))


def fsbl_step(xsa: Path, out_dir: Path, processor: str = "ps7_cortexa9_0") -> Step:
    return Step("the Zynq FSBL (xsct hsi)", "xsct", [str(BOARDS_DIR / "pynq_z2" / "vivado" / "boot.tcl"),
                *tclargs({"xsa": xsa, "out_dir": out_dir, "processor": processor})], log=out_dir / "fsbl.log")


def write_bif(path: Path, fsbl: Path, bit: Path, elf: Path) -> Path:
    """The bootgen image description of BOOT.BIN: the FSBL (the boot ROM loads it), the bitstream
    (the FSBL configures the fabric with it), then the firmware ELF (the FSBL loads and starts it)."""
    paths = [Path(p).resolve() for p in (fsbl, bit, elf)]
    bad = [str(p) for p in paths if re.search(r"[\s{}\[\],]", str(p))]
    if bad:
        raise ConfigError(f"bootgen cannot take these paths in a BIF (spaces or brackets): {', '.join(bad)}")
    fsbl, bit, elf = paths
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"the_ROM_image:\n{{\n\t[bootloader] {fsbl}\n\t{bit}\n\t{elf}\n}}\n")
    return path


def bootgen_step(bif: Path, boot_bin: Path) -> Step:
    return Step("BOOT.BIN (bootgen)", "bootgen", ["-arch", "zynq", "-image", str(bif), "-o", str(boot_bin), "-w"],
                log=boot_bin.with_suffix(".log"))


def qspi_step(boot_bin: Path, fsbl: Path, hw_server: str = HW_SERVER) -> Step:
    return Step("writing BOOT.BIN to the Pynq-Z2's QSPI flash", "program_flash",
                ["-f", str(boot_bin), "-offset", "0", "-flash_type", "qspi-x4-single", "-fsbl", str(fsbl), "-url", hw_server],
                log=boot_bin.with_name("program_flash.log"))


def ps7_init(xsa: Path, out_dir: Path) -> Path:
    """ps7_init.tcl out of the XSA (a zip archive): the PS set-up xsct runs before downloading an ELF."""
    try:
        with zipfile.ZipFile(xsa) as z:
            name = next((n for n in z.namelist() if Path(n).name == "ps7_init.tcl"), None)
            if name is None:
                raise BuildError(f"{xsa} has no ps7_init.tcl: is it a Zynq-7000 platform?")
            target = out_dir / "ps7_init.tcl"
            out_dir.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(name))
            return target
    except zipfile.BadZipFile:
        raise BuildError(f"{xsa} is not an XSA (zip) file") from None


def pynq_jtag_step(bit: Path, xsa: Path, ps7: Path, elf: Path, hw_server: str = HW_SERVER) -> Step:
    return Step("programming the pynq_z2 over JTAG", "xsct", [str(BOARDS_DIR / "pynq_z2" / "vivado" / "program_jtag.tcl"),
                *tclargs({"bit": bit, "xsa": xsa, "ps7_init": ps7, "elf": elf, "hw_server": hw_server})])


# ---- programming -------------------------------------------------------------------------------


@dataclass
class Plan:
    """What programming a board takes: the vendor tools (checked before anything runs) and the
    actions in order, which read the build stage's artifacts when they run."""

    tools: list[tuple[str, str]] = field(default_factory=list)
    actions: list[tuple[str, Callable[[dict], None]]] = field(default_factory=list)


def plan(board: Board, out: Path, energy: bool = False, flash: bool = False) -> Plan:
    """The steps that program `board` from a build stage's artifacts into `out`: over JTAG, or (flash)
    into its boot flash so that it starts on its own at power-on."""
    if board.vivado.system is not None:
        return _arty_plan(board, out, energy, flash)
    if board.processor.isa == "arm":
        return _zynq_plan(board, out, energy, flash)
    raise ConfigError(f"board {board.name}: no programming steps for it (no vivado.system and no Zynq PS)")


def _firmware_elf(board: Board, artifacts: dict, energy: bool) -> Path:
    key = f"board_{'energy' if energy else 'performance'}"
    if key not in artifacts:
        raise BuildError(f"the build stage made no firmware for the {board.name} itself ('{key}'): "
                         f"see its manifest's skipped steps")
    return artifacts[key]


def _arty_plan(board: Board, out: Path, energy: bool, flash: bool) -> Plan:
    p = Plan()
    system = system_files(out / ("system_energy" if energy else "system"), energy)
    stamp = system.folder / "inputs.json"

    def design(ctx: dict) -> None:  # built again only when its inputs change
        ip = accelerator_ip(ctx["artifacts"], ctx.get("convert_dir"))
        step = block_design_step(board, ip, system.folder, energy)
        inputs = {"args": step.args[step.args.index("-tclargs") + 1:], "ip": _newest(ip.repos)}
        if not (system.bit.is_file() and stamp.is_file() and json.loads(stamp.read_text()) == inputs):
            run(step, system.folder)
            check_addresses(system.addresses, board, energy)
            stamp.write_text(json.dumps(inputs))

    p.tools.append(("vivado", f"the {board.name} block design and bitstream"))
    p.actions.append(("block design", design))
    if not flash:
        p.tools.append(("xsct", f"programming the {board.name} over JTAG"))
        p.actions.append(("JTAG", lambda ctx: run(
            arty_jtag_step(board, system.bit, _firmware_elf(board, ctx["artifacts"], energy)), out)))
        return p
    folder = out / ("flash_energy" if energy else "flash")
    p.tools += [("updatemem", f"the {board.name} flash contents"), ("vivado", f"writing the {board.name} flash")]

    def contents(ctx: dict) -> None:
        boot = build_bootloader(board, folder)
        image = write_flash_image(_firmware_elf(board, ctx["artifacts"], energy), folder / "firmware.img", board)
        run(flash_step(board, system, boot, image.path, folder / "flash.mcs"), folder)

    p.actions += [("flash contents", contents),
                  ("flash", lambda ctx: run(program_flash_step(board, folder / "flash.mcs"), folder))]
    return p


def _zynq_plan(board: Board, out: Path, energy: bool, flash: bool) -> Plan:
    p = Plan()
    folder = out / "boot"
    xsa = folder / "system.xsa"

    def platform(ctx: dict) -> None:
        bit = bitstream(_artifact(ctx["artifacts"], "bitfile", board))
        if not (xsa.is_file() and xsa.stat().st_mtime >= bit.stat().st_mtime):
            run(export_xsa_step(vivado_project(_artifact(ctx["artifacts"], "bitfile", board)), xsa), folder)

    p.tools.append(("vivado", "the hardware platform (XSA) of the toolchain's Vivado project"))
    p.actions.append(("hardware platform", platform))
    if not flash:
        p.tools.append(("xsct", f"programming the {board.name} over JTAG"))
        p.actions.append(("JTAG", lambda ctx: run(pynq_jtag_step(
            bitstream(_artifact(ctx["artifacts"], "bitfile", board)), xsa, ps7_init(xsa, folder),
            _firmware_elf(board, ctx["artifacts"], energy)), folder)))
        return p
    p.tools += [("xsct", "the Zynq FSBL"), ("bootgen", "BOOT.BIN"), ("program_flash", f"writing the {board.name} QSPI flash")]

    def boot_image(ctx: dict) -> None:
        run(fsbl_step(xsa, folder), folder)
        bif = write_bif(folder / "boot.bif", folder / "fsbl.elf", bitstream(_artifact(ctx["artifacts"], "bitfile", board)),
                        _firmware_elf(board, ctx["artifacts"], energy))
        run(bootgen_step(bif, folder / "BOOT.BIN"), folder)

    p.actions += [("BOOT.BIN", boot_image),
                  ("flash", lambda ctx: run(qspi_step(folder / "BOOT.BIN", folder / "fsbl.elf"), folder))]
    return p


def _artifact(artifacts: dict, name: str, board: Board) -> Path:
    if name not in artifacts:
        raise BuildError(f"the build stage made no '{name}' for the {board.name} (it needs Vivado): see its manifest")
    return artifacts[name]


def _newest(folders: list[Path]) -> float:
    return max((p.stat().st_mtime for f in folders if f.is_dir() for p in f.rglob("*")), default=0.0)


def program(board: Board, artifacts: Mapping[str, Path] | Callable[[], Mapping[str, Path]], out: Path, *,
            convert_dir: Path | Callable[[], Path | None] | None = None, energy: bool = False, flash: bool = False) -> Path:
    """Program `board` with what the build stage made: its artifacts and the convert stage's folder
    (or functions that find them, called once the tools are known to be there, so that a machine
    without them learns that first). Returns the folder the steps wrote to."""
    steps = plan(board, out, energy, flash)
    require(steps.tools)
    ctx = {"artifacts": dict(artifacts() if callable(artifacts) else artifacts),
           "convert_dir": convert_dir() if callable(convert_dir) else convert_dir}
    for what, action in steps.actions:
        log.info("program %s: %s", board.name, what)
        action(ctx)
    return out
