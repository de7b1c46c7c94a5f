"""Record and replay a DUT conversation, byte for byte.

`Recorder` sits between a host tool and a DUT (a pty on each side) and keeps every command with
the DUT's reply and how long the reply took. `ReplayDut` is a pty that answers each command with
the recorded reply after the recorded time, and notes every command that differs from the
recording: a host that replays a session must send exactly what the recorded host sent.
"""

from __future__ import annotations

import json
import os
import select
import threading
import time
import tty
from dataclasses import dataclass, field
from pathlib import Path

import serial

READY = b"m-ready\r\n"
SLOW_REPLY_S = 0.05  # replies slower than this are replayed with their recorded delay


@dataclass
class Exchange:
    command: str
    reply: str
    seconds: float


def save(path: Path, exchanges: list[Exchange]) -> None:
    path.write_text(json.dumps([e.__dict__ for e in exchanges], indent=0) + "\n")


def load(path: Path) -> list[Exchange]:
    return [Exchange(**e) for e in json.loads(Path(path).read_text())]


class Recorder:
    """A pty for the host tool, forwarding to the DUT's serial port and recording each exchange."""

    def __init__(self, dut_url: str):
        self.dut = serial.serial_for_url(dut_url, baudrate=115200, timeout=0.01)
        time.sleep(0.5)
        self.dut.reset_input_buffer()  # the boot banner: the host connects to a DUT that has booted
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.host_port = os.ttyname(slave)
        self._slave = slave
        self.exchanges: list[Exchange] = []
        self._running = True
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        command, reply, pending, sent_at = b"", b"", [], 0.0
        while self._running:
            ready, _, _ = select.select([self.master], [], [], 0.01)
            if ready:
                data = os.read(self.master, 4096)
                self.dut.write(data)
                for byte in data:
                    if byte == ord("%"):
                        pending.append((command.decode(), time.monotonic()))
                        command = b""
                    else:
                        command += bytes([byte])
            got = self.dut.read(max(1, self.dut.in_waiting))
            if got:
                os.write(self.master, got)
                reply += got
                while READY in reply and pending:
                    head, reply = reply.split(READY, 1)
                    cmd, sent_at = pending.pop(0)
                    self.exchanges.append(Exchange(cmd, (head + READY).decode(), round(time.monotonic() - sent_at, 3)))

    def close(self) -> None:
        self._running = False
        self._thread.join()
        self.dut.close()
        os.close(self.master)
        os.close(self._slave)


@dataclass
class ReplayDut:
    exchanges: list[Exchange]
    mismatches: list[str] = field(default_factory=list)
    position: int = 0

    def start(self) -> str:
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self._slave = slave
        threading.Thread(target=self._serve, daemon=True).start()
        return os.ttyname(slave)

    def _answer(self, command: str) -> bytes:
        expected = self.exchanges[self.position] if self.position < len(self.exchanges) else None
        if command == "" and (expected is None or expected.command != ""):
            return READY  # a host's resync (a lone %): the firmware answers an empty command with m-ready
        if expected is None or command != expected.command:
            self.mismatches.append(f"#{self.position}: sent {command[:60]!r}, "
                                   f"recorded {expected.command[:60] if expected else None!r}")
            return b"e-[replay: unexpected command]\r\n" + READY
        self.position += 1
        if expected.seconds > SLOW_REPLY_S:
            time.sleep(expected.seconds)
        return expected.reply.encode()

    def _serve(self) -> None:
        buffer = b""
        while True:
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            buffer += data
            while b"%" in buffer:
                command, buffer = buffer.split(b"%", 1)
                os.write(self.master, self._answer(command.decode()))

    def close(self) -> None:
        os.close(self.master)
        os.close(self._slave)
