"""Line transport to a DUT over pyserial (a board's USB-UART, a pty, or socket://host:port).

Replies are lines ending in \\n (\\r and \\0 dropped); a command's reply ends at the first line
containing `m-ready` (spec 2.1, 3.5). Reads are chunked: pyserial's read_until() reads one byte
per system call (toolchains.md B.5).
"""

from __future__ import annotations

import time

import serial


class DutError(RuntimeError):
    """The DUT did not answer, answered with an error, or answered something unexpected."""


class SerialTransport:
    def __init__(self, url: str, baud: int = 115200, timeout_s: float = 5.0):
        try:
            self.port = serial.serial_for_url(url, baudrate=baud, timeout=0.05)
        except (serial.SerialException, OSError, ValueError) as e:
            raise DutError(f"cannot open serial port {url}: {e}") from None
        self.url = url
        self.timeout_s = timeout_s
        self._pending = b""
        self.echo = None  # callable(str) that sees every line sent and received
        self.drain()

    def drain(self, quiet_s: float = 0.2) -> bytes:
        """Discard what the DUT sent before we talk to it (a boot banner ending in m-ready would
        otherwise be taken as the reply to the first command)."""
        stale = b""
        deadline = time.monotonic() + quiet_s
        while time.monotonic() < deadline:
            chunk = self.port.read(max(1, self.port.in_waiting))
            if chunk:
                stale += chunk
                deadline = time.monotonic() + quiet_s
        self._pending = b""
        return stale

    def close(self) -> None:
        self.port.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read_line(self, deadline: float) -> str | None:
        while b"\n" not in self._pending:
            if time.monotonic() > deadline:
                return None
            chunk = self.port.read(max(1, self.port.in_waiting))
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        return line.replace(b"\r", b"").replace(b"\0", b"").decode("ascii", errors="replace")

    def send_command(self, command: str, timeout_s: float | None = None) -> list[str]:
        """Send `command%`; return the reply lines up to (not including) the m-ready line."""
        timeout_s = timeout_s or self.timeout_s
        if self.echo:
            self.echo(f"host: {command}")
        self.port.write(command.encode("ascii") + b"%")
        lines: list[str] = []
        while True:
            line = self._read_line(time.monotonic() + timeout_s)
            if line is None:
                tail = "; ".join(lines[-3:]) or "nothing"
                raise DutError(f"no response to command '{command[:40]}' within {timeout_s:g} s on {self.url} (received: {tail})")
            if self.echo and line:
                self.echo(f"dut: {line}")
            if "m-ready" in line:
                return lines
            if line:
                lines.append(line)
