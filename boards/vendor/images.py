"""Boot images: a firmware ELF's loadable segments; the firmware image our MicroBlaze bootloader
copies out of the flash (a checked header, then the segments); bootgen's image description (BIF)
of a Zynq BOOT.BIN."""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from boards.board import Board
from boards.vendor.board_values import system
from boards.vendor.bootloader import VECTORS_BYTES, bootloader_defines
from boards.vendor.steps import hexa
from common.errors import BuildError, ConfigError

# The firmware image the bootloader reads (boards/arty_a7/bootloader/boot.c): header words
# magic "MBFW", version, entry, segment count, payload bytes, payload CRC-32; then (address,
# length) per segment; then the segments' bytes, each padded to 4.
IMAGE_MAGIC = 0x5746424D
IMAGE_VERSION = 1
IMAGE_HEADER = struct.Struct("<6I")
IMAGE_SEGMENT = struct.Struct("<2I")
MAX_SEGMENTS = 16


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
    ours, boot = system(board), bootloader_defines(board, target)
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
    room = ours.flash.size_mb * 2**20 - ours.flash.image_offset
    if len(image) > room:
        raise BuildError(f"the firmware image of {elf} ({len(image)} bytes) does not fit the flash after "
                         f"{hexa(ours.flash.image_offset)} ({room} bytes)")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(image)
    return FlashImage(out, entry, [(a, len(p)) for a, p in ordered], len(image))


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
