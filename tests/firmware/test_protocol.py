"""The DUT answers every command of docs/mlperf-tiny.md 2.3 byte-exactly and refuses what a careless or stale
host could send: the emulated board over a real pty with pyserial, the Pynq-Z2 (ARM) and Arty A7
(MicroBlaze) bare-metal firmware on their instruction sets in QEMU over socket://, and the Pynq-Z2
PYNQ-Linux program under qemu-arm user mode over a pty. The firmware is the real protocol core,
board HAL and ad01 task code with the identity stub accelerator."""

from __future__ import annotations

import re
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest
import serial

from runner.emulated import emulated_dut
from runner.qemu import qemu_dut
from tests.conftest import linux_program, qemu_firmware

READY = b"m-ready\r\n"
DUTS = ["emulated", "qemu_pynq_z2", "qemu_arty_a7", "pynq_z2_linux"]


class Raw:
    """Bytes in, bytes out: no parsing between the test and the DUT."""

    def __init__(self, url: str, vendor: str, platform: str | None = None):
        self.name = f"m-name-dut-[{vendor}]\r\n".encode()
        self.platform = platform  # what its build says it is (m-platform-[...])
        self.port = serial.serial_for_url(url, baudrate=115200, timeout=0.05)
        # the boot banner: over QEMU's socket it comes after we connect, as the guest boots (it started
        # waiting for us; seconds on a busy machine, so wait for it); over a pty it was printed before and
        # pyserial's open dropped it
        booting = url.startswith("socket://")
        banner, start = b"", time.monotonic()
        while READY not in banner and time.monotonic() < start + (60.0 if booting else 5.0):
            chunk = self.port.read(256)
            if not chunk and banner == b"" and not booting and time.monotonic() > start + 1.0:
                break  # nothing within 1 s: no banner is coming
            banner += chunk
        self.port.reset_input_buffer()

    def send(self, raw: bytes, timeout: float = 10.0) -> bytes:
        self.port.write(raw)
        got, deadline = b"", time.monotonic() + timeout
        while not got.endswith(READY):
            assert time.monotonic() < deadline, f"no m-ready after {raw[:40]!r}; got {got!r}"
            got += self.port.read(max(1, self.port.in_waiting))
        return got

    def cmd(self, text: str) -> bytes:
        return self.send(text.encode() + b"%")


@pytest.fixture(scope="module", params=DUTS)
def dut(request, stub_dut, tmp_path_factory):
    from boards import board

    if request.param == "emulated":
        context, vendor, platform = emulated_dut(stub_dut["performance"]), "mlperf-tiny-fpga_pynq_z2_emulated", "host-emulation"
    elif request.param == "pynq_z2_linux":
        qemu_user, programs = linux_program("pynq_z2", tmp_path_factory.mktemp(request.param))
        context = emulated_dut(Path(qemu_user), (str(programs["performance"]), "--pty"))
        vendor, platform = "mlperf-tiny-fpga_pynq_z2_linux", "board"  # the program for the board's Linux, here under qemu-arm
    else:
        b = board.load(request.param.removeprefix("qemu_"))
        elf = qemu_firmware(b.name, tmp_path_factory.mktemp(request.param))["performance"]
        context, vendor, platform = qemu_dut(elf, b.firmware.qemu.command), f"{b.vendor_name}_qemu", "qemu"
    with context as url:
        raw = Raw(url, vendor, platform)
        yield raw
        raw.port.close()


def window(values) -> bytes:
    return struct.pack("<640f", *values)


def load(dut: Raw, data: bytes) -> bytes:
    assert dut.cmd(f"db load {len(data)}") == f"m-[Expecting {len(data)} bytes]\r\n".encode() + READY
    reply = b""
    for i in range(0, len(data), 31):
        reply = dut.cmd("db " + data[i : i + 31].hex())
    return reply


def score(reply: bytes) -> float:
    return float(re.search(rb"m-results-\[([^]]+)\]", reply).group(1))


def test_name_profile_help(dut):
    assert dut.cmd("name") == dut.name + READY
    # the reference's two lines, then what the build says it is (built outside the pipeline: no m-build line)
    assert dut.cmd("profile") == (b"m-profile-[ULPMark for tinyML Firmware V0.0.1]\r\nm-model-[ad01]\r\n" +
                                  f"m-platform-[{dut.platform}]\r\nm-timing-[clock]\r\n".encode() + READY)
    help_text = dut.cmd("help")
    assert help_text.startswith(b"ULPMark for tinyML Firmware V0.0.1\r\n\r\n")
    for word in (b"name", b"profile", b"timestamp", b"db", b"infer", b"results", b"10000000"):
        assert word in help_text


def test_timestamp_is_monotonic_microseconds(dut):
    first = int(re.fullmatch(rb"m-lap-us-(\d+)\r\nm-ready\r\n", dut.cmd("timestamp")).group(1))
    time.sleep(0.05)
    second = int(re.fullmatch(rb"m-lap-us-(\d+)\r\nm-ready\r\n", dut.cmd("timestamp")).group(1))
    assert 40_000 <= second - first <= 2_000_000


def test_db_load_hex_print(dut):
    assert dut.cmd("db load 10") == b"m-[Expecting 10 bytes]\r\n" + READY
    assert dut.cmd("db 0001020304") == READY
    assert dut.cmd("db print") == b"m-buffer-00-01-02-03-04\r\n" + READY
    # upper case digits, and digits past the announced size are ignored after m-load-done
    assert dut.cmd("db 0A0B0C0D0Eff") == b"m-load-done\r\n" + READY
    assert dut.cmd("db print") == b"m-buffer-00-01-02-03-04-0a-0b-0c\r\nm-buffer-0d-0e\r\n" + READY


@pytest.mark.parametrize(
    "command, reply",
    [
        ("db", b"e-[Command 'db' requires a subcommand]\r\n"),
        ("db load", b"e-[Command 'db load' requires the # of bytes]\r\n"),
        ("db load 0", b"e-[Command 'db load' must be >0 bytes]\r\n"),
        ("db load -3", b"e-[Command 'db load' must be >0 bytes]\r\n"),
        ("db load abc", b"e-[Command 'db load' needs a decimal # of bytes, got 'abc']\r\n"),
        ("db load 0x10", b"e-[Command 'db load' needs a decimal # of bytes, got '0x10']\r\n"),
        ("db load 2561", b"e-[Supplied buffer size 2561 exceeds maximum of 2560]\r\n"),
        ("db load 16 16", b"e-[Unexpected argument '16']\r\n"),
        ("infer 0", b"e-[Inference iterations must be >0]\r\n"),
        ("infer -4 0", b"e-[Inference iterations must be >0]\r\n"),
        ("infer 1 -1", b"e-[Inference warmup must be >=0]\r\n"),
        ("infer 10000001 0", b"e-[Inference iterations must be a decimal number from 1 to 10000000, got '10000001']\r\n"),
        ("infer 2000000000000 0",
         b"e-[Inference iterations must be a decimal number from 1 to 10000000, got '2000000000000']\r\n"),
        ("infer 1e20 0", b"e-[Inference iterations must be a decimal number from 1 to 10000000, got '1e20']\r\n"),
        ("infer +5 0", b"e-[Inference iterations must be a decimal number from 1 to 10000000, got '+5']\r\n"),
        ("infer 1 x", b"e-[Inference warmup must be a decimal number from 0 to 10000000, got 'x']\r\n"),
        ("infer 1 0 7", b"e-[Unexpected argument '7']\r\n"),
        ("bogus 1 2", b"e-[Unknown command: bogus]\r\n"),
        ("", b""),
    ],
)
def test_error_replies(dut, command, reply):
    assert dut.cmd(command) == reply + READY


def test_hex_errors_store_nothing(dut):
    assert dut.cmd("db load 4") == b"m-[Expecting 4 bytes]\r\n" + READY
    assert dut.cmd("db 012") == b"e-[Insufficent number of hex digits]\r\n" + READY
    assert dut.cmd("db 01zz") == b"e-[Invalid hex digit 'zz']\r\n" + READY
    assert dut.cmd("db 00 11") == b"e-[Unexpected argument '11']\r\n" + READY  # not silently half-loaded
    assert dut.cmd("db print") == READY  # nothing stored by the rejected chunks
    assert dut.cmd("db 01020304") == b"m-load-done\r\n" + READY
    assert dut.cmd("db 05") == b"e-[No db load in progress]\r\n" + READY


def test_over_long_command_is_rejected_whole(dut):
    assert dut.cmd("x" * 80) == b"e-[Unknown command: " + b"x" * 80 + b"]\r\n" + READY  # exactly 80 fits
    assert dut.cmd("x" * 81) == b"e-[Command exceeds 80 characters]\r\n" + READY
    assert dut.cmd("db " + "ab" * 100) == b"e-[Command exceeds 80 characters]\r\n" + READY
    assert dut.cmd("name") == dut.name + READY  # parser recovered


def test_cr_lf_nul_are_ignored(dut):
    assert dut.send(b"\r\nna\0me\r\n%") == dut.name + READY


def test_infer_without_complete_input(dut):
    assert dut.cmd("db load 2560") == b"m-[Expecting 2560 bytes]\r\n" + READY
    assert dut.cmd("db 00") == READY
    assert dut.cmd("infer 1 0") == b"e-[ad01 needs 2560 input bytes, 1 loaded]\r\n" + READY


@pytest.mark.parametrize("bad_load", ["db load 999999", "db load 0", "db load abc", "db load"])
def test_a_refused_load_discards_the_previous_input(dut, bad_load):
    """A stale window must never be scored after the host's new load was refused."""
    assert load(dut, window([-25.0] * 640)) == b"m-load-done\r\n" + READY
    assert dut.cmd("infer 1 0").startswith(b"m-warmup-start-0")
    assert dut.cmd(bad_load).startswith(b"e-[")
    assert dut.cmd("infer 1 0") == b"e-[ad01 needs 2560 input bytes, 0 loaded]\r\n" + READY


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_input_is_refused(dut, bad):
    values = [-25.0] * 640
    values[17] = bad
    assert load(dut, window(values)) == b"m-load-done\r\n" + READY
    assert dut.cmd("infer 1 0") == b"e-[ad01 input value 17 is not a finite number]\r\n" + READY


def test_infer_sequence_and_results(dut):
    assert load(dut, window([-25.1] * 640)) == b"m-load-done\r\n" + READY
    reply = dut.cmd("infer 20 3").decode()
    m = re.fullmatch(
        r"m-warmup-start-3\r\nm-warmup-done\r\nm-infer-start-20\r\nm-lap-us-(\d+)\r\nm-lap-us-(\d+)\r\n"
        r"m-infer-done\r\nm-results-\[(\d+\.\d{4})\]\r\nm-ready\r\n",
        reply,
    )
    assert m, reply
    assert int(m.group(2)) >= int(m.group(1))
    # the stub returns the input on its 2-fractional-bit grid: -25.1 -> -25.0, squared error 0.01
    assert float(m.group(3)) == pytest.approx(0.01, abs=1e-4)
    assert dut.cmd("results").decode() == f"m-results-[{m.group(3)}]\r\nm-ready\r\n"
    # defaults: N=1, W=10
    assert dut.cmd("infer").startswith(b"m-warmup-start-10\r\nm-warmup-done\r\nm-infer-start-1\r\n")


def test_scores_follow_the_input(dut):
    """Different windows give the scores the input map predicts (so results are not stale)."""
    for value, expected in ((-25.1, 0.01), (-25.25, 0.0), (-30.2, 0.0025)):
        load(dut, window([value] * 640))
        assert score(dut.cmd("infer 1 0")) == pytest.approx(expected, abs=1e-4)


NO_RESULTS = b"e-[No results: no inference has completed on the loaded input]\r\n" + READY


def test_results_only_after_a_completed_inference(dut):
    """`results` scores what the last completed inference produced; after an `infer` whose input was
    refused (the task's buffers half-overwritten) it is an error, not a number."""
    assert load(dut, window([-25.1] * 640)) == b"m-load-done\r\n" + READY
    assert dut.cmd("infer 1 0").startswith(b"m-warmup-start-0")
    assert re.fullmatch(rb"m-results-\[\d+\.\d{4}\]\r\nm-ready\r\n", dut.cmd("results"))
    values = [-25.1] * 640
    values[300] = float("nan")
    load(dut, window(values))
    assert dut.cmd("infer 1 0") == b"e-[ad01 input value 300 is not a finite number]\r\n" + READY
    assert dut.cmd("results") == NO_RESULTS
    assert dut.cmd("results now") == b"e-[Unexpected argument 'now']\r\n" + READY


def _talk(url: str, send: bytes, replies: int) -> bytes:
    """A plain socket client: send, then read until `replies` m-ready lines came back."""
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=10) as conn:
        conn.sendall(send)
        got = b""
        while got.count(READY) < replies:
            chunk = conn.recv(4096)
            assert chunk, f"link closed after {got!r}"
            got += chunk
    return got


def _banner(url: str) -> None:
    """The first client of a fresh DUT: wait for its boot banner, send nothing, leave."""
    assert _talk(url, b"", 1).endswith(b"m-init-done\r\n" + READY)


def _leave_half_sent(url: str, partial: bytes) -> None:
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=10) as conn:
        conn.sendall(partial)
        time.sleep(0.3)  # the DUT has taken the bytes before the client goes


def test_results_before_any_inference_is_an_error(stub_dut):
    with emulated_dut(stub_dut["performance"], ("--tcp", "0")) as url:
        got = _talk(url, b"results%", 2)
    assert got.endswith(READY + NO_RESULTS), got


def test_a_tcp_client_s_half_sent_command_is_not_the_next_client_s(stub_dut):
    """A client of the emulated board's TCP link that left in the middle of a command: the next
    client's first command runs as sent (the partial one is discarded on accept)."""
    with emulated_dut(stub_dut["performance"], ("--tcp", "0")) as url:
        _banner(url)
        _leave_half_sent(url, b"infer 99")
        assert _talk(url, b"name%", 1) == b"m-name-dut-[mlperf-tiny-fpga_pynq_z2_emulated]\r\n" + READY


def test_a_qemu_client_s_half_sent_command_is_not_the_next_client_s(tmp_path):
    """The same over QEMU's socket: the relay in front of it cancels the partial command for each new client."""
    from boards import board

    b = board.load("pynq_z2")
    elf = qemu_firmware(b.name, tmp_path)["performance"]
    with qemu_dut(elf, b.firmware.qemu.command) as url:
        _banner(url)
        _leave_half_sent(url, b"db load 99")
        assert _talk(url, b"name%", 1) == f"m-name-dut-[{b.vendor_name}_qemu]\r\n".encode() + READY
        _leave_half_sent(url, b"x" * 100)  # also an over-long one
        assert _talk(url, b"profile%", 1).startswith(b"m-profile-[")


def test_energy_build_prints_no_timestamps(stub_dut):
    """EE_CFG_ENERGY_MODE=1: the banner says energy, and timestamps are pin pulses, not lines."""
    with emulated_dut(stub_dut["energy"], ("--tcp", "0")) as url:
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=5) as conn:
            conn.sendall(b"timestamp%")
            got = b""
            while got.count(READY) < 2:
                got += conn.recv(256)
    assert got == b"m-timestamp-mode-energy\r\nm-init-done\r\n" + READY + READY


def test_tcp_socket_link_with_boot_banner(stub_dut):
    """Over TCP the first client sees the boot sequence of docs/mlperf-tiny.md 2.2, then normal replies."""
    with emulated_dut(stub_dut["performance"], ("--tcp", "0")) as url:
        assert url.startswith("socket://127.0.0.1:")
        # a plain socket: pyserial's socket:// open() discards pending input, the banner with it
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=5) as conn:
            conn.sendall(b"profile%")
            got = b""
            while not (b"m-model" in got and got.endswith(READY)):
                got += conn.recv(256)
    assert re.fullmatch(
        rb"m-timestamp-mode-performance\r\nm-lap-us-\d+\r\nm-init-done\r\nm-ready\r\n"
        rb"m-profile-\[ULPMark for tinyML Firmware V0.0.1\]\r\nm-model-\[ad01\]\r\n"
        rb"m-platform-\[host-emulation\]\r\nm-timing-\[clock\]\r\nm-ready\r\n",
        got,
    ), got


@pytest.mark.parametrize("port", ["99999", "abc", "-1", "80x", ""])
def test_bad_tcp_port_is_a_clear_error(stub_dut, port):
    proc = subprocess.run([str(stub_dut["performance"]), "--tcp", port], capture_output=True, text=True, timeout=10)
    assert proc.returncode == 2
    assert f"--tcp needs a port number from 0 to 65535, got '{port}'" in proc.stderr


@pytest.mark.parametrize("board_name", ["pynq_z2", "arty_a7"])
def test_qemu_energy_build_boots_in_energy_mode(tmp_path, board_name):
    """The energy variant on the board's instruction set: the boot sequence of docs/mlperf-tiny.md 2.2 in energy
    mode, and `timestamp` is a pin pulse (QEMU drops the GPIO write), not a line."""
    from boards import board

    b = board.load(board_name)
    elf = qemu_firmware(board_name, tmp_path)["energy"]
    with qemu_dut(elf, b.firmware.qemu.command) as url:
        # a plain socket: the first client of QEMU's server=on,wait=on link sees the boot banner
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=10) as conn:
            got = b""
            while got.count(READY) < 1:  # the UART set-up at boot empties its receive FIFO: send after the banner
                got += conn.recv(256)
            conn.sendall(b"timestamp%name%")
            while got.count(READY) < 3:
                got += conn.recv(256)
    assert got == (b"m-timestamp-mode-energy\r\nm-init-done\r\n" + READY + READY +
                   f"m-name-dut-[{b.vendor_name}_qemu]\r\n".encode() + READY)


def test_the_pynq_launcher_says_what_is_missing(tmp_path):
    """run_dut.py runs on the board's Python; elsewhere it stops with a message, not a traceback."""
    import sys

    from boards import board

    launcher = board.load("pynq_z2").folder / "linux" / "run_dut.py"
    (tmp_path / "a.bit").write_bytes(b"")
    (tmp_path / "dut").write_bytes(b"")
    missing = subprocess.run([sys.executable, str(launcher), "--bitfile", str(tmp_path / "nope.bit"), "--program",
                              str(tmp_path / "dut")], capture_output=True, text=True)
    assert missing.returncode == 2 and "--bitfile" in missing.stderr and "no such file" in missing.stderr
    no_pynq = subprocess.run([sys.executable, str(launcher), "--bitfile", str(tmp_path / "a.bit"), "--program",
                              str(tmp_path / "dut")], capture_output=True, text=True)
    assert no_pynq.returncode == 2 and "the pynq package is missing" in no_pynq.stderr
