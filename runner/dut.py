"""The DUT's commands (spec 2.3) on top of a transport, with every reply checked."""

from __future__ import annotations

import re
from dataclasses import dataclass

from runner.transport import DutError

NAME = re.compile(r"^m-name-dut-\[(.*)\]$")
PROFILE = re.compile(r"^m-profile-\[(.*)\]$")
MODEL = re.compile(r"^m-model-\[(.*)\]$")
LAP = re.compile(r"^m-lap-us-(\d+)$")
RESULTS = re.compile(r"^m-results-\[([^]]+)\]$")
DB_CHUNK_BYTES = 31  # the MLC runner's chunk when talking to the DUT directly (spec 2.10)


@dataclass
class InferResult:
    iterations: int
    warmups: int
    start_us: int | None
    end_us: int | None
    results: list[float]

    @property
    def elapsed_us(self) -> int | None:
        if self.start_us is None or self.end_us is None:
            return None
        return self.end_us - self.start_us


def _errors(command: str, lines: list[str]) -> None:
    errors = [line for line in lines if line.startswith("e-")]
    if errors:
        raise DutError(f"DUT rejected '{command[:40]}': {' '.join(errors)}")


def _match(pattern: re.Pattern, lines: list[str], command: str) -> re.Match:
    for line in lines:
        m = pattern.match(line)
        if m:
            return m
    raise DutError(f"malformed reply to '{command}': expected a line like {pattern.pattern}, got {lines!r}")


class Dut:
    def __init__(self, transport):
        self.transport = transport

    def command(self, command: str, timeout_s: float | None = None) -> list[str]:
        lines = self.transport.send_command(command, timeout_s)
        _errors(command, lines)
        return lines

    def name(self) -> str:
        return _match(NAME, self.command("name"), "name").group(1)

    def profile(self) -> tuple[str, str]:
        lines = self.command("profile")
        return _match(PROFILE, lines, "profile").group(1), _match(MODEL, lines, "profile").group(1)

    def load(self, data: bytes, chunk: int = DB_CHUNK_BYTES) -> None:
        lines = self.command(f"db load {len(data)}")
        if f"m-[Expecting {len(data)} bytes]" not in lines:
            raise DutError(f"malformed reply to 'db load {len(data)}': {lines!r}")
        for offset in range(0, len(data), chunk):
            lines = self.command("db " + data[offset : offset + chunk].hex())
        if "m-load-done" not in lines:
            raise DutError(f"DUT did not confirm the {len(data)}-byte load with m-load-done: {lines!r}")

    def infer(self, iterations: int, warmups: int, timeout_s: float = 30.0) -> InferResult:
        command = f"infer {iterations} {warmups}"
        lines = self.command(command, timeout_s)
        laps = [int(m.group(1)) for m in map(LAP.match, lines) if m]
        values = _match(RESULTS, lines, command).group(1)
        try:
            results = [float(v) for v in values.split(",") if v.strip()]
        except ValueError:
            raise DutError(f"malformed m-results line in reply to '{command}': [{values}]") from None
        if "m-infer-done" not in lines:
            raise DutError(f"malformed reply to '{command}': no m-infer-done in {lines!r}")
        return InferResult(iterations, warmups, laps[0] if laps else None, laps[-1] if len(laps) > 1 else None, results)
