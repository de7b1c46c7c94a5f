"""Firmware builds: the protocol core + a board HAL + a task model + an accelerator binding.

The emulated board (host HAL; the toolchain's bit-accurate model, or a stub, as the accelerator),
built with the host's gcc/g++; and a board's bare-metal firmware (its HAL in boards/<name>/firmware/
or the shared folder board.yaml firmware.folder names, its addresses and flags in board.yaml),
cross-compiled for the board or for its QEMU machine. Each in two variants, performance and energy
(EE_CFG_ENERGY_MODE, spec 2.6). An accelerator in C++ is cross-compiled with the cross g++ beside the
board's gcc, using the C++ standard library's headers only (BARE_METAL_CXX) and linked by gcc
against newlib, with no compiled libstdc++.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Mapping, Sequence

from boards.board import BOARDS_DIR, Board
from common.cheader import write_header
from common.errors import BuildError
from common.paths import SHARED
from toolchains.base import Accelerator, write_accel_model

CORE = BOARDS_DIR / "common" / "firmware"
HOST_HAL = BOARDS_DIR / "emulated" / "hal" / "host_hal.c"
FUZZ_TARGET = BOARDS_DIR / "emulated" / "fuzz" / "fuzz_protocol.c"
FUZZ_COMPILERS = ("clang", "clang-14", "clang-15", "clang-16")
STUB_ACCEL = BOARDS_DIR / "emulated" / "accel_stub.c"
VARIANTS = {"performance": 0, "energy": 1}  # binary variant -> EE_CFG_ENERGY_MODE
# What a DUT reports it is (m-platform-[...], ee_core.h): the words of common.provenance's Link
PLATFORMS = ("host-emulation", "qemu", "board")
# C++ on bare metal without the compiled libstdc++ (and libsupc++): no exceptions, no RTTI, no guards
# around function-local statics (__cxa_guard_*: one thread), their destructors registered with
# newlib's atexit (not __aeabi_atexit / __cxa_atexit with crtbegin's __dso_handle).
BARE_METAL_CXX = ("-std=c++14", "-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics", "-fno-use-cxa-atexit")
CXX_WARNINGS = ("-Wall", "-Wno-unused", "-Wno-unknown-pragmas")  # generated model code: HLS pragmas


def run_compiler(cmd: list[str], cwd: Path, what: str = "firmware build") -> None:
    """Run a compiler (or archiver) command; a BuildError with its last stderr when it fails."""
    if shutil.which(cmd[0]) is None:
        raise BuildError(f"{cmd[0]} not found on PATH; install it (make setup installs build-essential)")
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"{what} failed: {' '.join(cmd)}\n{proc.stderr[-4000:]}")


def task_header(out: Path, task_defines: dict) -> Path:
    """out/include/task_model.h from the recipe's defines; returns the folder to put on the include path."""
    generated = out / "include"
    generated.mkdir(parents=True, exist_ok=True)
    write_header(generated / "task_model.h", "TASK_MODEL_H", task_defines)
    return generated


def accel_sources(accel: Accelerator) -> list[Path]:
    """The accelerator's own sources and the firmware drivers it names (boards/common/firmware/<name>.c)."""
    return [*accel.sources, *(CORE / f"{name}.c" for name in accel.firmware_drivers)]


def stub_accelerator(folder: Path, io: dict[str, Any]) -> Accelerator:
    """The identity stand-in (accel_stub.c) for a task's input and output sizes."""
    folder.mkdir(parents=True, exist_ok=True)
    write_accel_model(folder / "accel_model.h", **io)
    return Accelerator("stub (identity)", [STUB_ACCEL], [folder])


def compiler_flags(includes: Sequence[Path], defines: Mapping[str, object] | None = None, *, target: Sequence[str] = (),
                   optimization: Sequence[str] = ("-O2",), warnings: Sequence[str] = ("-Wall",), input_bytes: int | None = None,
                   energy: int | None = None, baud: int | None = None, vendor_name: str | None = None,
                   platform: str | None = None, build_key: str | None = None) -> list[str]:
    """The compiler flags of every firmware build, in one order: the target's own (board.yaml
    cflags), optimization, -ffp-contract=off (no fused multiply-adds: a C model computes what its
    toolchain's emulation computed, bit for bit), warnings, the include folders, the build's
    defines, then the harness's: EE_DB_BUFFER_SIZE (the model's input bytes), EE_CFG_ENERGY_MODE
    (the variant, spec 2.6), EE_BAUD (the UART's rate on a board), TH_VENDOR_NAME_STRING (what
    `name` answers), EE_PLATFORM (what the DUT is: one of PLATFORMS) and EE_BUILD_KEY (the build
    stage's key), the last two reported by `profile` (ee_core.h); each only where given."""
    if platform is not None and platform not in PLATFORMS:
        raise BuildError(f"unknown DUT platform '{platform}' (one of {', '.join(PLATFORMS)})")
    if build_key is not None and not re.fullmatch(r"[0-9a-f]{64}", build_key):
        raise BuildError(f"a build key is the build stage's 64-hex-digit key, got '{build_key}'")
    harness = {"EE_DB_BUFFER_SIZE": input_bytes, "EE_CFG_ENERGY_MODE": energy,
               "EE_BAUD": None if baud is None else f"{baud}u",
               "TH_VENDOR_NAME_STRING": None if vendor_name is None else f'"{vendor_name}"',
               "EE_PLATFORM": None if platform is None else f'"{platform}"',
               "EE_BUILD_KEY": None if build_key is None else f'"{build_key}"'}
    return [*target, *optimization, "-ffp-contract=off", *warnings, *(f"-I{p}" for p in includes),
            *define_flags({**(defines or {}), **{k: v for k, v in harness.items() if v is not None}})]


def define_flags(defines: Mapping[str, object]) -> list[str]:
    return [f"-D{k}={v}" for k, v in defines.items()]


def build_emulated(board: Board, task_sources: list[Path], task_defines: dict, input_bytes: int, accel: Accelerator,
                   out: Path, vendor_name: str | None = None, build_key: str | None = None) -> dict[str, Path]:
    """Compile the emulated DUT in both variants; returns {variant: binary}. What the binaries read
    at run time (the accelerator's data folders) is copied beside them, so the folder can be moved.
    It reports itself as host-emulation, and build_key (the build stage's key) when given."""
    includes = [CORE, task_header(out, task_defines), *accel.includes]
    common_flags = compiler_flags(includes, accel.defines)
    obj = out / "obj"
    accel_objects = []
    for src in accel_sources(accel):
        o = obj / "accel" / (src.stem + ".o")
        o.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix == ".c":
            run_compiler(["gcc", "-std=gnu11", *common_flags, "-c", str(src), "-o", str(o)], out)
        else:
            prelude = ["-include", str(accel.cxx_prelude)] if accel.cxx_prelude else []
            run_compiler(["g++", "-std=c++14", "-Wno-unused", "-Wno-unknown-pragmas", *common_flags, *prelude, "-c", str(src),
                         "-o", str(o)], out)
        accel_objects.append(o)
    for name, folder in accel.data.items():
        shutil.copytree(folder, out / name)
    binaries = {}
    name = vendor_name or f"{board.vendor_name}_emulated"
    for variant, energy in VARIANTS.items():
        flags = compiler_flags(includes, accel.defines, input_bytes=input_bytes, energy=energy, vendor_name=name,
                               platform="host-emulation", build_key=build_key)
        objects = []
        for src in [CORE / "ee_core.c", CORE / "uart_printf.c", HOST_HAL, *task_sources]:
            o = obj / variant / (src.stem + ".o")
            o.parent.mkdir(parents=True, exist_ok=True)
            run_compiler(["gcc", "-std=gnu11", *flags, "-c", str(src), "-o", str(o)], out)
            objects.append(o)
        binary = out / ("dut_host" if variant == "performance" else f"dut_host_{variant}")
        run_compiler(["g++", *map(str, objects + accel_objects), "-lm", "-o", str(binary)], out)
        binaries[variant] = binary
    shutil.rmtree(obj)
    return binaries


def fuzz_compiler() -> str | None:
    """A clang with libFuzzer (Debian's clang-14 package has it), or None."""
    return next((c for c in map(shutil.which, FUZZ_COMPILERS) if c), None)


def build_fuzzer(task_sources: list[Path], task_defines: dict, input_bytes: int, accel: Accelerator, out: Path,
                 max_iterations: int = 1000) -> Path:
    """The protocol core and the task code under libFuzzer with ASan and UBSan (every finding
    aborts). `infer` counts are capped at max_iterations so that one input runs in microseconds."""
    clang = fuzz_compiler()
    if clang is None:
        raise BuildError(f"no clang with libFuzzer on PATH (tried {', '.join(FUZZ_COMPILERS)}): apt-get install clang-14")
    binary = out / "fuzz_protocol"
    flags = compiler_flags([CORE, task_header(out, task_defines), *accel.includes], {"EE_MAX_ITERATIONS": f"{max_iterations}L"},
                           optimization=["-g", "-O1", "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all"],
                           warnings=[], input_bytes=input_bytes, energy=0)
    run_compiler([clang, *flags, str(FUZZ_TARGET), str(CORE / "ee_core.c"), *map(str, task_sources),
                  *map(str, accel_sources(accel)), "-lm", "-o", str(binary)], out)
    return binary


def cross_compiler(board: Board) -> tuple[str, str | None]:
    """(compiler name, path or None) for the board's processor: on PATH, or unpacked from its
    toolchain archive (board.yaml processor.toolchain_archive, under common.paths.SHARED) into the
    build root."""
    import tarfile
    import tempfile

    from common.paths import build_root

    name, archive = board.processor.cross_compiler, board.processor.toolchain_archive
    found = shutil.which(name)
    if found or archive is None or not (SHARED / archive).is_file():
        return name, found
    folder = build_root() / "toolchains" / Path(archive).name.removesuffix(".tgz")
    unpacked = sorted(folder.glob(f"*/bin/{name}"))
    if not unpacked:
        # Into a folder of this process's own, renamed whole: two builds unpacking at once (test
        # workers, two makes) each get a complete toolchain, and the first rename wins.
        folder.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f"{folder.name}.partial-", dir=folder.parent))
        try:
            with tarfile.open(SHARED / archive) as tar:
                tar.extractall(partial, filter="tar")
            if not any(folder.glob(f"*/bin/{name}")):
                shutil.rmtree(folder, ignore_errors=True)  # an incomplete folder of an older layout
                try:
                    partial.rename(folder)
                except OSError:  # another process renamed its copy first
                    pass
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        unpacked = sorted(folder.glob(f"*/bin/{name}"))
    return name, str(unpacked[0]) if unpacked else None


def cross_cxx(board: Board) -> tuple[str, str | None]:
    """(C++ compiler name, path or None): the g++ beside the board's cross gcc (same prefix, same
    folder), or None where its toolchain compiles C only."""
    name = board.processor.cross_compiler.removesuffix("gcc") + "g++"
    gcc = cross_compiler(board)[1]
    cxx = Path(gcc.removesuffix("gcc") + "g++") if gcc else None
    return name, str(cxx) if cxx and cxx.is_file() else None


def no_cross_cxx(board: Board) -> str | None:
    """Why the board's bare-metal firmware cannot take C++ here, or None: no cross g++, or one that
    finds no C++ standard headers for the board's flags (the compiled libstdc++ is not needed)."""
    name, cxx = cross_cxx(board)
    if cxx is None:
        return f"{board.processor.cross_compiler} compiles C only (no {name} beside it)"
    cflags = board.firmware.cflags if board.firmware else []
    probe = subprocess.run([cxx, *cflags, *BARE_METAL_CXX, "-x", "c++", "-E", "-o", os.devnull, "-"],
                           input="#include <new>\n#include <istream>\n", capture_output=True, text=True)
    if probe.returncode != 0:
        return f"{name} finds no C++ standard library headers (make setup installs them): {probe.stderr.strip()[:200]}"
    return None


def build_linux(board: Board, task_sources: list[Path], task_defines: dict, input_bytes: int, accel: Accelerator,
                out: Path, build_key: str | None = None) -> dict[str, Path]:
    """The protocol core as a Linux program for the board's OS image (board.yaml linux), both variants;
    it reports itself as a board, and build_key when given."""
    lx = board.linux
    if lx is None:
        raise BuildError(f"board {board.name} has no Linux build (board.yaml linux)")
    cc = shutil.which(lx.compiler)
    if cc is None:
        raise BuildError(f"{lx.compiler} not found on PATH: make setup installs it")
    includes = [CORE, task_header(out, task_defines), *accel.includes]
    defines = {**board.fabric_addresses, **accel.defines, "TIMESTAMP_HOLD_US": board.timestamp_gpio.hold_us}
    here = board.folder / "linux"
    sources = [*(here / s for s in lx.sources), CORE / "ee_core.c", CORE / "uart_printf.c", *task_sources, *accel_sources(accel)]
    programs = {}
    for variant, energy in VARIANTS.items():
        flags = compiler_flags(includes, defines, target=lx.cflags, input_bytes=input_bytes, energy=energy,
                               baud=getattr(board.uart.baud, variant), vendor_name=f"{board.vendor_name}_linux",
                               platform="board", build_key=build_key)
        program = out / f"dut_{board.name}_linux{'' if variant == 'performance' else '_' + variant}"
        run_compiler([cc, *flags, *map(str, sources), "-lm", "-o", str(program)], out)
        programs[variant] = program
    return programs


def build_cross(board: Board, task_sources: list[Path], task_defines: dict, input_bytes: int, accel: Accelerator,
                out: Path, target: str = "board", build_key: str | None = None) -> dict[str, Path]:
    """The board's bare-metal firmware, in both variants: {variant: ELF}. target "qemu" takes the
    QEMU machine's addresses and clocks (board.yaml firmware.qemu.defines), names the DUT
    <vendor>_qemu and has it report itself as qemu (else board), with build_key when given. The
    accelerator is C (a software model, or a driver of the real IP), or C++ where the board's
    toolchain has a g++ (no_cross_cxx): compiled once with BARE_METAL_CXX, linked by gcc with no
    compiled libstdc++ (its standard library use must be header-only; anything else is an undefined
    symbol at link time)."""
    fw = board.firmware
    if fw is None:
        raise BuildError(f"board {board.name} has no bare-metal firmware build (board.yaml firmware)")
    if target == "qemu" and fw.qemu is None:
        raise BuildError(f"board {board.name} has no QEMU machine (board.yaml firmware.qemu)")
    cc = cross_compiler(board)[1]
    if cc is None:
        archive = board.processor.toolchain_archive
        where = f" nor unpacked from the toolchain archive {SHARED / archive}" if archive else ": make setup installs it"
        raise BuildError(f"{board.processor.cross_compiler} not found on PATH{where}")
    cxx_sources = [s for s in accel_sources(accel) if s.suffix != ".c"]
    if cxx_sources:
        why = no_cross_cxx(board)
        if why:
            raise BuildError(f"the {board.name} firmware cannot take the accelerator '{accel.name}' "
                             f"({', '.join(s.name for s in cxx_sources)}): {why}")
    includes = [CORE, task_header(out, task_defines), *accel.includes]
    defines = {**board.fabric_addresses, **fw.defines, **(fw.qemu.defines if target == "qemu" and fw.qemu else {}),
               "TIMESTAMP_HOLD_US": board.timestamp_gpio.hold_us, **accel.defines}
    name = board.vendor_name if target == "board" else f"{board.vendor_name}_{target}"
    here = board.firmware_folder
    sources = [*(here / s for s in fw.sources), CORE / "ee_core.c", CORE / "uart_printf.c", CORE / "dma_arena.c",
               *task_sources, *(s for s in accel_sources(accel) if s.suffix == ".c")]
    section_flags = ["-O2", "-ffunction-sections", "-fdata-sections"]
    cxx_objects = []  # the same for both variants: the harness's defines are the C code's
    cxx = cross_cxx(board)[1] if cxx_sources else None
    for src in cxx_sources:
        o = out / "obj" / (src.stem + ".o")
        o.parent.mkdir(parents=True, exist_ok=True)
        prelude = ["-include", str(accel.cxx_prelude)] if accel.cxx_prelude else []
        assert cxx is not None  # no_cross_cxx said it is there
        run_compiler([cxx, *BARE_METAL_CXX,
                      *compiler_flags(includes, defines, target=fw.cflags, optimization=section_flags, warnings=CXX_WARNINGS),
                      *prelude, "-c", str(src), "-o", str(o)], out, what=f"{board.name} firmware build (C++ accelerator)")
        cxx_objects.append(o)
    script = out / fw.linker_script  # through the preprocessor: addresses such as DDR_BASE are defines
    run_compiler([cc, "-E", "-P", "-x", "c", *define_flags(defines), str(here / fw.linker_script), "-o", str(script)], out)
    libs = []
    for lib in fw.stub_libraries:
        (out / "lib").mkdir(exist_ok=True)
        run_compiler([cc.removesuffix("gcc") + "ar", "rcs", str(out / "lib" / f"lib{lib}.a")], out)
        libs = [f"-L{out / 'lib'}"]
    elves = {}
    for variant, energy in VARIANTS.items():
        flags = compiler_flags(includes, defines, target=fw.cflags, optimization=section_flags, input_bytes=input_bytes,
                               energy=energy, baud=getattr(board.uart.baud, variant), vendor_name=name,
                               platform="qemu" if target == "qemu" else "board", build_key=build_key)
        elf = out / f"dut_{board.name}_{target}{'' if variant == 'performance' else '_' + variant}.elf"
        run_compiler([cc, *flags, "-T", str(script), "-nostartfiles", "-Wl,--gc-sections", *fw.ldflags, *libs,
                     *map(str, sources + cxx_objects), "-lm", "-o", str(elf)], out)
        elves[variant] = elf
    shutil.rmtree(out / "obj", ignore_errors=True)
    return elves
