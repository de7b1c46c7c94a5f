"""Interface boards between the runner and the DUT in energy mode (docs/mlperf-tiny.md 2.9): the DUT's UART goes
to the interface board (level-shifted, 9600 baud), the runner talks to the interface board.

    stm32h573i-dk   the MLCommons interface: `dut <cmd>%` -> `m-dut-passthrough(<cmd>)`, `m-ready`,
                    then the DUT's lines as `[dut]: <line>` up to `[dut]: m-ready`; `setbaud <baud>`
    arduino         the EEMBC IO manager, as the MLC runner's IOManager drives it: the same `dut`
                    passthrough and `[dut]: ` lines, no setbaud (its DUT rate is fixed). The
                    EnergyRunner's `io dut ...` / `io: [dut]: ...` are its script and log names
                    for the same traffic.

PassthroughTransport looks like the direct transport to the Dut class: send_command() returns the
DUT's own reply lines. `db` data goes in 26-byte chunks through an interface (31 direct): the
interface's command line is shorter than the DUT's."""

from __future__ import annotations

import time

from common.errors import DutError
from runner.transport import SerialTransport

KINDS = {"stm32h573i-dk": ("dut ", "[dut]: "), "arduino": ("dut ", "[dut]: ")}
DB_CHUNK_BYTES = 26


class PassthroughTransport(SerialTransport):
    db_chunk = DB_CHUNK_BYTES
    def __init__(self, url: str, kind: str, dut_baud: int | None = None, baud: int = 115200, timeout_s: float = 5.0):
        if kind not in KINDS:
            raise DutError(f"unknown interface board '{kind}': choose one of {', '.join(KINDS)}")
        super().__init__(url, baud, timeout_s)
        self.kind = kind
        self.command_prefix, self.line_prefix = KINDS[kind]
        if dut_baud and kind == "stm32h573i-dk":  # the interface-to-DUT UART (the MLC runner's sync_baud)
            self._interface(f"setbaud {dut_baud}")

    def _interface(self, command: str) -> list[str]:
        """A command for the interface board itself; its reply lines up to its m-ready."""
        return super().send_command(command)

    def resync(self, timeout_s: float = 2.0) -> list[str]:
        return []  # a half-sent DUT command cannot be left behind: the interface sends whole lines

    def send_command(self, command: str, timeout_s: float | None = None) -> list[str]:
        """The DUT's reply to `command`, through the interface, its prefixes removed."""
        timeout_s = timeout_s or self.timeout_s
        own = super().send_command(self.command_prefix + command, timeout_s)
        if not own:  # the interface acknowledges before it relays (the MLC runner checks for that line too)
            raise DutError(f"the interface board on {self.url} did not pass '{command[:40]}' on: {own!r}")
        lines: list[str] = []
        self.reply_times = []
        deadline = time.monotonic() + timeout_s
        while True:
            line = self._read_line(deadline)
            if line is None:
                raise DutError(f"no complete DUT reply to '{command[:40]}' through the interface board on {self.url} "
                               f"within {timeout_s:g} s (last: {'; '.join(lines[-3:]) or 'nothing'}): is the DUT wired to it, "
                               f"at its baud rate?")
            if not line.startswith(self.line_prefix):
                continue  # the interface's own chatter
            line = line[len(self.line_prefix):]
            if self.echo:
                self.echo(f"dut: {line}")
            if "m-ready" in line:
                return lines
            if line:
                lines.append(line)
                self.reply_times.append((line, self._line_at))
