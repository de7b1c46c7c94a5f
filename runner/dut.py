"""The DUT's commands (docs/mlperf-tiny.md 2.3) on top of a transport, with every reply checked."""

from __future__ import annotations

import re
from dataclasses import dataclass

from common.errors import DutError, DutRejected

NAME = re.compile(r"^m-name-dut-\[(.*)\]$")
PROFILE = re.compile(r"^m-profile-\[(.*)\]$")
MODEL = re.compile(r"^m-model-\[(.*)\]$")
LAP = re.compile(r"^m-lap-us-([0-9]+)$")
RESULTS = re.compile(r"^m-results-\[([^]]+)\]$")
DB_CHUNK_BYTES = 31  # the MLC runner's chunk when talking to the DUT directly (docs/mlperf-tiny.md 2.10)
# The MLC runner's wait for the reply to `infer` (docs/mlperf-tiny.md 3.5): the DUT is silent between its two
# m-lap-us lines, so a window longer than this the MLC runner could not run.
INFER_TIMEOUT_S = 30.0


@dataclass
class InferResult:
    """An `infer` reply as the MLC runner gathers it (script.py): the first m-lap-us is the start,
    the last the end; the last m-results line holds the scores."""

    iterations: int
    warmups: int
    start_us: int | None
    end_us: int | None
    results: list[float]
    result_lines: int  # how many m-results lines came back (the MLC runner's total_inferences)

    @property
    def elapsed_us(self) -> int | None:
        if self.start_us is None or self.end_us is None:
            return None
        return self.end_us - self.start_us


def _errors(command: str, lines: list[str]) -> None:
    errors = [line for line in lines if line.startswith("e-")]
    if errors:
        raise DutRejected(f"DUT rejected '{command[:40]}': {' '.join(errors)}")


def _match(pattern: re.Pattern, lines: list[str], command: str) -> re.Match:
    for line in lines:
        m = pattern.match(line)
        if m:
            return m
    raise DutError(f"malformed reply to '{command}': expected a line like {pattern.pattern}, got {lines!r}")


def parse_infer(lines: list[str], iterations: int, warmups: int) -> InferResult:
    laps = [int(m.group(1)) for m in map(LAP.match, lines) if m]
    found = [m.group(1) for m in map(RESULTS.match, lines) if m]
    command = f"infer {iterations} {warmups}"
    if "m-infer-done" not in lines or not found:
        raise DutError(f"malformed reply to '{command}': no m-infer-done and m-results-[...] in {lines!r}")
    try:
        results = [float(v) for v in found[-1].split(",") if v.strip()]
    except ValueError:
        raise DutError(f"malformed m-results line in reply to '{command}': [{found[-1]}]") from None
    return InferResult(iterations, warmups, laps[0] if laps else None, laps[-1] if len(laps) > 1 else None,
                       results, len(found))


class Dut:
    def __init__(self, transport):
        self.transport = transport

    def command(self, command: str, timeout_s: float | None = None) -> list[str]:
        lines = self.transport.send_command(command, timeout_s)
        _errors(command, lines)
        return lines

    def identify(self) -> tuple[str, str, str]:
        """(name, firmware, model id), after flushing whatever an earlier host left half-sent."""
        self.transport.resync()
        lines = self.command("name")
        m = next(filter(None, map(NAME.match, lines)), None)
        if m is None:
            raise DutError(f"the device on {self.transport.url} answered 'name' with {lines!r}, not m-name-dut-[...]: "
                           "is it an EEMBC DUT, and is the baud rate right?")
        lines = self.command("profile")
        return m.group(1), _match(PROFILE, lines, "profile").group(1), _match(MODEL, lines, "profile").group(1)

    def load(self, data: bytes, chunk: int | None = None) -> None:
        chunk = chunk or getattr(self.transport, "db_chunk", DB_CHUNK_BYTES)
        lines = self.command(f"db load {len(data)}")
        if f"m-[Expecting {len(data)} bytes]" not in lines:
            raise DutError(f"malformed reply to 'db load {len(data)}': {lines!r}")
        for offset in range(0, len(data), chunk):
            lines = self.command("db " + data[offset : offset + chunk].hex())
        if "m-load-done" not in lines:
            raise DutError(f"DUT did not confirm the {len(data)}-byte load with m-load-done: {lines!r}")

    def infer(self, iterations: int, warmups: int, timeout_s: float = INFER_TIMEOUT_S) -> InferResult:
        # always both numbers: the firmware's default warm-up count is 10, not 0 (docs/mlperf-tiny.md 2.3)
        command = f"infer {iterations} {warmups}"
        return parse_infer(self.command(command, timeout_s), iterations, warmups)
