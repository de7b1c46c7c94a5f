"""Every board is data (LiteX-boards' idea): each folder under boards/ with a board.yaml is found by
listing the folder, none is named here. Each loads, has a programming plan of a known kind (its
vendor tools named), builds its emulated DUT through the build stage's one request to boards/ and
answers on it; where its cross compiler and QEMU are here, its own firmware answers in its QEMU
machine over the UART it is built for."""

from __future__ import annotations

import shutil
import socket

import pytest

from boards import board, firmware
from boards.build import BuildRequest, build_all
from boards.vendor.plans import plan
from runner.emulated import emulated_dut
from runner.qemu import qemu_dut
from tasks import load_recipe
from tests.firmware.test_protocol import READY, Raw

BOARDS = board.available()


def test_the_boards_are_found_by_folder():
    assert {"pynq_z2", "arty_a7"} <= set(BOARDS)


def request(b: board.Board, out, qemu: bool = False) -> BuildRequest:
    """The build of the ad01 task's firmware for board b around the identity stub accelerator."""
    recipe = load_recipe("ad")
    accel = firmware.stub_accelerator(out / "accel", recipe.stub_accelerator())
    return BuildRequest(board=b, task_sources=recipe.firmware_sources, task_defines=recipe.firmware_defines(None),
                        input_bytes=recipe.input_bytes, accelerator=accel, out=out,
                        no_board_accelerator="the stub accelerator has no IP", qemu=qemu)


@pytest.mark.parametrize("name", BOARDS)
def test_every_board_loads_and_says_how_it_is_programmed(name, tmp_path):
    b = board.load(name)
    assert b.name == name and b.folder.name == name
    for flow in ("hls4ml", "finn"):
        if b.vivado.plan_for(flow) is not None:
            steps = plan(b, tmp_path, flow=flow)
            assert steps.tools and all(tool and what for tool, what in steps.tools)


@pytest.mark.parametrize("name", BOARDS)
def test_every_board_builds_its_emulated_dut(name, tmp_path):
    b = board.load(name)
    built = build_all(request(b, tmp_path))
    assert {"dut_performance", "dut_energy"} <= set(built.artifacts)
    assert built.skipped[f"{b.processor.name} firmware for the board"] == "skipped: the stub accelerator has no IP"
    with emulated_dut(built.artifacts["dut_performance"]) as url:
        dut = Raw(url, f"{b.vendor_name}_emulated")
        assert dut.cmd("name") == dut.name + READY
        dut.port.close()


@pytest.mark.parametrize("name", [n for n in BOARDS if (board.load(n).firmware and board.load(n).firmware.qemu)])
def test_every_board_firmware_answers_in_its_qemu_machine(name, tmp_path):
    b = board.load(name)
    compiler, found = firmware.cross_compiler(b)
    if found is None or shutil.which(b.firmware.qemu.command[0]) is None:
        pytest.skip(f"{compiler} or {b.firmware.qemu.command[0]} not found: make setup installs them")
    built = build_all(request(b, tmp_path, qemu=True))
    with qemu_dut(built.artifacts["qemu_performance"], b.firmware.qemu.command) as url:
        # a plain socket: the first client of QEMU's server=on,wait=on link sees the boot banner
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=10) as conn:
            got = b""
            while got.count(READY) < 1:
                got += conn.recv(256)
            conn.sendall(b"name%")
            while got.count(READY) < 2:
                got += conn.recv(256)
    assert got.endswith(f"m-name-dut-[{b.vendor_name}_qemu]\r\n".encode() + READY)
