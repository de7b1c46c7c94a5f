"""A simulated STM32H573I-DK interface board: a pty for the runner, bridged to a DUT's serial link,
speaking the passthrough protocol of docs/mlperf-tiny.md 2.9 (`dut <cmd>%` -> `m-dut-passthrough(<cmd>)`, `m-ready`,
then every DUT line prefixed `[dut]: `), plus `setbaud`, which it records."""

from __future__ import annotations

import os
import threading
import tty

import serial


class FakeInterface:
    def __init__(self, dut_url: str):
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave
        self.dut = serial.serial_for_url(dut_url, timeout=0.05)
        self.bauds: list[int] = []
        self.commands: list[str] = []
        self._stop = threading.Event()
        threading.Thread(target=self._host, daemon=True).start()
        threading.Thread(target=self._from_dut, daemon=True).start()

    def _send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def _host(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            try:
                buffer += os.read(self.master, 1024)
            except OSError:
                return
            while b"%" in buffer:
                raw, buffer = buffer.split(b"%", 1)
                command = raw.decode().strip()
                self.commands.append(command)
                if command.startswith("dut "):
                    self._send(f"m-dut-passthrough({command[4:]})\r\nm-ready\r\n")
                    self.dut.write(command[4:].encode() + b"%")
                elif command.startswith("setbaud "):
                    self.bauds.append(int(command.split()[1]))
                    self._send("m-ready\r\n")
                else:
                    self._send("m-ready\r\n")

    def _from_dut(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            try:
                buffer += self.dut.read(max(1, self.dut.in_waiting))
            except (serial.SerialException, OSError):
                return
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                self._send(f"[dut]: {line.decode().rstrip()}\r\n")

    def close(self) -> None:
        self._stop.set()
        self.dut.close()
        os.close(self.master)
        os.close(self._slave)
