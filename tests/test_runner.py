"""Runner behaviour against misbehaving or absent DUTs (over real ptys), and on the real kws01 files."""

from __future__ import annotations

import os
import threading
import tty

import pytest

from runner import dataset as eembc
from runner.dut import Dut
from runner.transport import DutError, SerialTransport
from tests.conftest import shared


def fake_board(replies: dict[bytes, bytes]):
    """A pty whose far end answers each command with a fixed byte string: for error paths only."""
    master, slave = os.openpty()
    tty.setraw(slave)

    def serve():
        buf = b""
        while True:
            try:
                chunk = os.read(master, 256)
            except OSError:
                return
            buf += chunk
            while b"%" in buf:
                cmd, buf = buf.split(b"%", 1)
                if cmd in replies:
                    os.write(master, replies[cmd])

    threading.Thread(target=serve, daemon=True).start()
    return os.ttyname(slave)


def test_silent_dut_times_out_with_a_clear_error():
    port = fake_board({})
    with SerialTransport(port, timeout_s=0.3) as t:
        with pytest.raises(DutError, match="no response to command 'name' within 0.3 s"):
            Dut(t).name()


def test_malformed_reply_is_reported():
    port = fake_board({b"name": b"hello\r\nm-ready\r\n", b"infer 1 0": b"m-infer-done\r\nm-results-[1.0,x]\r\nm-ready\r\n"})
    with SerialTransport(port) as t:
        with pytest.raises(DutError, match="malformed reply to 'name'"):
            Dut(t).name()
        with pytest.raises(DutError, match="malformed m-results"):
            Dut(t).infer(1, 0)


def test_error_reply_is_raised():
    port = fake_board({b"db load 4": b"e-[Supplied buffer size 4 exceeds maximum of 2]\r\nm-ready\r\n"})
    with SerialTransport(port) as t, pytest.raises(DutError, match="exceeds maximum"):
        Dut(t).load(b"\0\0\0\0")


def test_missing_port_is_a_clear_error():
    with pytest.raises(DutError, match="cannot open serial port /dev/does-not-exist"):
        SerialTransport("/dev/does-not-exist")


def test_official_kws01_files_load():
    folder = shared("datasets/kws01").parent
    entries = eembc.load(folder, "kws01")
    assert len(entries) == 1000
    assert all(len(e.data) == 490 and e.windows() == [e.data] for e in entries)
    assert entries[0].file == "tst_000000_Stop_7.bin" and entries[0].label == "7"


def test_missing_labels_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="y_labels.csv"):
        eembc.load(tmp_path, "ad01")
