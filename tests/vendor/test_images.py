"""Boot images: the Arty's bootloader cross-compiles into its local BRAM and, in QEMU, boots the
firmware from a flash image (and refuses a damaged one); the flash image holds exactly the ELF's
loadable bytes (objcopy's); the Zynq BIF, the implemented project and ps7_init."""

from __future__ import annotations

import re
import struct
import subprocess
import time
import zipfile
import zlib
from pathlib import Path

import pytest

import toolchains
from boards import board
from boards.vendor import bootloader as loader
from boards.vendor import images, zynq
from common.errors import BuildError, ConfigError
from tests.conftest import qemu_firmware

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
    elf = loader.build_bootloader(arty, tmp_path)
    lmb = arty.vivado.system.local_memory_kb * 1024
    assert int(re.search(r"Entry point address:\s+(0x[0-9a-f]+)", readelf(prefix, "-h", str(elf))).group(1), 16) < lmb
    loads = [(int(o, 16), int(m, 16)) for o, m in re.findall(r"LOAD\s+\S+ \S+ (0x[0-9a-f]+) \S+ (0x[0-9a-f]+)",
                                                              readelf(prefix, "-lW", str(elf)))]
    assert loads and all(start + size <= lmb for start, size in loads)
    low = [s for s in loads if s[0] < loader.VECTORS_BYTES]  # under the firmware's vectors: only its own vectors
    assert [start for start, _ in low] == [0] and low[0][1] <= loader.VECTORS_BYTES
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
    image = images.write_flash_image(elf, tmp_path / "firmware.img", arty)
    data = image.path.read_bytes()
    magic, version, entry, count, payload_bytes, crc = images.IMAGE_HEADER.unpack_from(data)
    assert (magic, version) == (0x5746424D, 1) and data[:4] == b"MBFW"
    assert entry == int(re.search(r"Entry point address:\s+(0x[0-9a-f]+)", readelf(prefix, "-h", str(elf))).group(1), 16)
    table = [images.IMAGE_SEGMENT.unpack_from(data, 24 + 8 * i) for i in range(count)]
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
    image = images.write_flash_image(elf, tmp_path / "a.img", arty)
    assert image.segments == [(0x80000000, 5), (0, 8)] and image.entry == 0x80000000
    assert image.path.read_bytes()[-16:] == b"\x01\x02\x03\x04\x05\0\0\0" + b"\xaa" * 8
    elf.write_bytes(elf32(0x80000000, [(0x80000000, b"code"), (0x100, b"over the bootloader")]))
    with pytest.raises(BuildError, match="0x00000100"):
        images.write_flash_image(elf, tmp_path / "b.img", arty)
    elf.write_bytes(b"not an ELF")
    with pytest.raises(BuildError, match="not a little-endian 32-bit ELF"):
        images.write_flash_image(elf, tmp_path / "c.img", arty)


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
    image = images.write_flash_image(app, tmp_path / "firmware.img", arty, target="qemu")
    bootloader = loader.build_bootloader(arty, tmp_path / "boot", target="qemu")
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
    bif = images.write_bif(tmp_path / "boot.bif", tmp_path / "fsbl.elf", tmp_path / "design_1_wrapper.bit", tmp_path / "dut.elf")
    assert bif.read_text() == (f"the_ROM_image:\n{{\n\t[bootloader] {tmp_path}/fsbl.elf\n\t{tmp_path}/design_1_wrapper.bit\n"
                               f"\t{tmp_path}/dut.elf\n}}\n")
    step = zynq.bootgen_step(bif, tmp_path / "BOOT.BIN")
    assert step.command == ["bootgen", "-arch", "zynq", "-image", str(bif), "-o", str(tmp_path / "BOOT.BIN"), "-w"]
    with pytest.raises(ConfigError, match="spaces"):
        images.write_bif(tmp_path / "x.bif", tmp_path / "my fsbl.elf", tmp_path / "a.bit", tmp_path / "b.elf")


def test_pynq_project_bitstream_and_ps7_init(tmp_path):
    pynq, hls4ml, finn = board.load("pynq_z2"), toolchains.load("hls4ml"), toolchains.load("finn")
    with pytest.raises(BuildError, match="hls4ml has no design of its own for the pynq_z2"):  # our Zynq design takes its IP
        hls4ml.vendor_shell(pynq, {"bitfile": tmp_path / "design_1_wrapper.bit"}, None)
    finn_bitfile = tmp_path / "finn_build/bitfile"
    finn_bitfile.mkdir(parents=True)
    (finn_bitfile / "finn-accel.bit").write_bytes(b"bit")
    (finn_bitfile / "finn-accel.hwh").write_text("<hwh/>")
    assert finn.vendor_shell(pynq, {"bitfile": finn_bitfile}, None).bitstream == finn_bitfile / "finn-accel.bit"
    with pytest.raises(BuildError, match="no Vivado project"):  # FINN keeps its project under FINN_BUILD_DIR
        zynq.vivado_project(finn.vendor_shell(pynq, {"bitfile": finn_bitfile}, None))
    with pytest.raises(BuildError, match="no Zynq shell for the arty_a7"):
        finn.vendor_shell(board.load("arty_a7"), {"bitfile": finn_bitfile}, None)
    xsa = tmp_path / "system.xsa"
    with zipfile.ZipFile(xsa, "w") as z:
        z.writestr("design_1_wrapper.bit", b"bit")
        z.writestr("ps7_init.tcl", "proc ps7_init {} {}\n")
    assert zynq.ps7_init(xsa, tmp_path / "boot").read_text() == "proc ps7_init {} {}\n"
