"""Line transport to a DUT over pyserial (a board's USB-UART, a pty, or socket://host:port).

Replies are lines ending in \\n (\\r and \\0 dropped); a command's reply ends at the first line
containing `m-ready` (docs/mlperf-tiny.md 2.1, 3.5). Every command has one overall deadline, so a DUT that keeps
talking without ever saying m-ready cannot hang the runner. Reads are chunked: pyserial's
read_until() reads one byte per system call (docs/toolchains.md B.5). A link that fails (pty closed,
USB unplugged, socket reset) raises DutLost naming the port and the command in flight. Each reply
line's arrival on the host's clock is kept (`reply_times`), so the DUT's timestamps can be checked
against the host's (clock_check.py).
"""

from __future__ import annotations

import time

import serial

from common.errors import DutError, DutLost
from runner.latency_timer import ensure_low_latency

DRAIN_QUIET_S = 0.2  # the boot banner is over when the DUT has been quiet this long ...
DRAIN_MAX_S = 2.0  # ... or after this long in any case (a DUT that chatters from boot)


class SerialTransport:
    db_chunk = 31  # bytes per `db` command: the MLC runner's chunk when talking to the DUT directly (docs/mlperf-tiny.md 2.10)

    def __init__(self, url: str, baud: int = 115200, timeout_s: float = 5.0):
        try:
            self.port = serial.serial_for_url(url, baudrate=baud, timeout=0.05)
        except (serial.SerialException, OSError, ValueError) as e:
            raise DutError(f"cannot open serial port {url}: {e}") from None
        ensure_low_latency(url)  # an FTDI bridge's 16 ms default holds every short reply (latency_timer.py)
        self.url = url
        self.timeout_s = timeout_s
        self.last_command = "(connecting)"
        self._pending = b""
        self.bytes_out = self.bytes_in = 0  # on the wire, both ways: the link bound of a run
        self.echo = None  # callable(str) that sees the commands sent and the lines received (not `db` data)
        self._read_at = 0.0  # the host's time.monotonic() when the last bytes came in
        self._line_at = 0.0  # ... when the line _read_line returned last was complete
        self.reply_times: list[tuple[str, float]] = []  # the last reply's lines and when each was complete
        self.drain()

    # ---- raw I/O with the link's failures turned into DutLost ------------------------------------
    def _lost(self, e: Exception) -> DutLost:
        return DutLost(f"lost the DUT on {self.url} during '{self.last_command[:40]}': {e}")

    def _read(self) -> bytes:
        try:
            data = self.port.read(max(1, self.port.in_waiting))
            if data:
                self._read_at = time.monotonic()
            self.bytes_in += len(data)
            return data
        except (serial.SerialException, OSError) as e:
            raise self._lost(e) from None

    def _write(self, data: bytes) -> None:
        try:
            self.port.write(data)
            self.bytes_out += len(data)
        except (serial.SerialException, OSError) as e:
            raise self._lost(e) from None

    def drain(self) -> bytes:
        """Discard what the DUT sent before we talk to it (a boot banner ending in m-ready would
        otherwise be taken as the reply to the first command)."""
        stale = b""
        start = quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < DRAIN_QUIET_S and time.monotonic() - start < DRAIN_MAX_S:
            chunk = self._read()
            if chunk:
                stale += chunk
                quiet_since = time.monotonic()
        self._pending = b""
        return stale

    def resync(self, timeout_s: float = 2.0) -> list[str]:
        """Flush a partial command an earlier host may have left in the DUT's buffer: send a lone
        terminator and discard the reply (as the MLC runner's reset_port does)."""
        self.last_command = "%"
        self._pending = b""
        self._write(b"%")
        lines, deadline, booting = [], time.monotonic() + timeout_s, False
        while (line := self._read_line(deadline)) is not None:
            if "m-ready" in line:
                if not booting:
                    break
                # The m-ready that ends a boot banner (a DUT that started after drain() fell quiet,
                # such as a slow QEMU guest): the reply to our lone % is still to come.
                booting = False
                continue
            booting = booting or "m-init-done" in line
            lines.append(line)
        self._pending = b""
        return lines

    def close(self) -> None:
        try:
            self.port.close()
        except (serial.SerialException, OSError):
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read_line(self, deadline: float) -> str | None:
        while b"\n" not in self._pending:
            if time.monotonic() > deadline:
                return None
            self._pending += self._read()
        self._line_at = self._read_at  # the read that completed it is the last one (none is made while a line is whole)
        line, self._pending = self._pending.split(b"\n", 1)
        return line.replace(b"\r", b"").replace(b"\0", b"").decode("ascii", errors="replace")

    def send_command(self, command: str, timeout_s: float | None = None) -> list[str]:
        """Send `command%`; return the reply lines up to (not including) the m-ready line.
        The whole reply must arrive within timeout_s."""
        timeout_s = timeout_s or self.timeout_s
        self.last_command = command
        quiet = command.startswith("db ") and not command.startswith("db load")
        if self.echo and not quiet:
            self.echo(f"host: {command}")
        self._write(command.encode("ascii") + b"%")
        lines: list[str] = []
        self.reply_times = []
        deadline = time.monotonic() + timeout_s
        while True:
            line = self._read_line(deadline)
            if line is None:
                tail = "; ".join(lines[-3:]) or "nothing"
                raise DutError(f"no complete reply to '{command[:40]}' within {timeout_s:g} s on {self.url} "
                               f"({len(lines)} lines, last: {tail})")
            if self.echo and line and not (quiet and line == "m-ready"):
                self.echo(f"dut: {line}")
            if "m-ready" in line:
                return lines
            if line:
                lines.append(line)
                self.reply_times.append((line, self._line_at))
