"""Shared fixtures.

`stub_dut` builds the emulated board's firmware around the identity stand-in accelerator (about a
second, no model): the protocol and runner tests use it. `small_flow` runs the real pipeline once
per session on a small synthetic ToyCar set (every stage: data, QKeras training, hls4ml conversion
+ g++ emulation, firmware build, runner over a pty, report); the `slow` tests read what it produced.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

SMALL = {
    "data.synthetic.machine_ids": [1, 2],
    "data.synthetic.train_per_id": 6,
    "data.synthetic.test_normal_per_id": 3,
    "data.synthetic.test_anomaly_per_id": 3,
    "train.epochs": 6,
}


def shared(path: str) -> Path:
    """A file under ../shared, or a clean skip when the folder is not beside this checkout."""
    p = SHARED / path
    if not p.exists():
        pytest.skip(f"{p} not present (../shared is only beside the project on the team's machines)")
    return p


def build_stub_dut(out: Path, vendor_name: str | None = None, task: str = "ad") -> dict[str, Path]:
    from boards import board, firmware
    from tasks import load_recipe

    recipe = load_recipe(task)
    accel = firmware.stub_accelerator(out / "accel", recipe.stub_accelerator())
    return firmware.build_emulated(board.load("pynq_z2"), recipe.firmware_sources, recipe.firmware_defines(None),
                                   recipe.input_bytes, accel, out, vendor_name=vendor_name)


@pytest.fixture(scope="session")
def stub_dut(tmp_path_factory) -> dict[str, Path]:
    """{variant: binary} of the stub-accelerator ad01 firmware on the emulated board."""
    return build_stub_dut(tmp_path_factory.mktemp("stub_dut"))


def qemu_firmware(board_name: str, out: Path, task: str = "ad", accel=None) -> dict[str, Path]:
    """{variant: ELF} of a task's firmware for the board's QEMU machine (the identity stub
    accelerator unless one is given), or a clean skip naming what this machine lacks."""
    import shutil

    from boards import board, firmware
    from tasks import load_recipe

    b = board.load(board_name)
    compiler, found = firmware.cross_compiler(b)
    if found is None:
        where = f" (nor ../shared/{b.processor.toolchain_archive})" if b.processor.toolchain_archive else ""
        pytest.skip(f"{compiler} not found{where}: make setup installs the cross compilers")
    if shutil.which(b.firmware.qemu.command[0]) is None:
        pytest.skip(f"{b.firmware.qemu.command[0]} not found: make setup installs QEMU")
    recipe = load_recipe(task)
    accel = accel or firmware.stub_accelerator(out / "accel", recipe.stub_accelerator())
    return firmware.build_cross(b, recipe.firmware_sources, recipe.firmware_defines(None), recipe.input_bytes, accel, out,
                                target="qemu")


def linux_program(board_name: str, out: Path, task: str = "ad") -> tuple[str, dict[str, Path]]:
    """(the QEMU user-mode emulator, {variant: program}) of a task's Linux build for the board, stub
    accelerator; or a clean skip naming what this machine lacks."""
    import shutil

    from boards import board, firmware
    from tasks import load_recipe

    b = board.load(board_name)
    missing = [t for t in (b.linux.compiler, b.linux.qemu_user) if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not found: make setup installs them")
    recipe = load_recipe(task)
    accel = firmware.stub_accelerator(out / "accel", recipe.stub_accelerator())
    programs = firmware.build_linux(b, recipe.firmware_sources, recipe.firmware_defines(None), recipe.input_bytes, accel, out)
    return shutil.which(b.linux.qemu_user), programs


@pytest.fixture(scope="session")
def small_flow(tmp_path_factory):
    from pipeline.execute import run_stages
    from pipeline.flow import Flow

    flow = Flow(task="ad", board="pynq_z2", data="synthetic", build_root=tmp_path_factory.mktemp("build"),
                overrides=SMALL, iterations=200, window_seconds=0.5)
    run_stages(flow)
    return flow
