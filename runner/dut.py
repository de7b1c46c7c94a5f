"""The DUT's commands (docs/mlperf-tiny.md 2.3) on top of a transport, with every reply checked."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import get_args

from common import provenance as prov
from common.errors import DutError, DutRejected
from runner.transport import SerialTransport

NAME = re.compile(r"^m-name-dut-\[(.*)\]$")
PROFILE = re.compile(r"^m-profile-\[(.*)\]$")
MODEL = re.compile(r"^m-model-\[(.*)\]$")
# what our firmware adds to `profile` (boards/common/firmware/ee_core.h); a reference DUT has none of them
BUILD = re.compile(r"^m-build-\[(.*)\]$")
PLATFORM = re.compile(r"^m-platform-\[(.*)\]$")
TIMING = re.compile(r"^m-timing-\[(.*)\]$")
BUILD_KEY = re.compile(r"^[0-9a-f]{64}$")
DUT_TIMINGS = ("modeled", "clock")
# the link's own clock when the DUT's time is not modeled (common/provenance.py's makers)
MAKERS: dict[str, Callable[..., prov.Provenance]] = {"host-emulation": prov.emulated, "qemu": prov.qemu, "board": prov.board}
LAP = re.compile(r"^m-lap-us-([0-9]+)$")
MAX_LAP_US = 2**64 - 1
RESULTS = re.compile(r"^m-results-\[([^]]+)\]$")
DB_CHUNK_BYTES = SerialTransport.db_chunk  # the MLC runner's chunk when talking to the DUT directly
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


def short(key: str | None) -> str:
    """A build key as people compare them: its first 12 hex digits."""
    return "none" if key is None else key[:12]


@dataclass(frozen=True)
class Identity:
    """What the DUT says it is: `name` and `profile` (docs/mlperf-tiny.md 2.3), and what our firmware
    adds to `profile` (ee_core.h): the build stage's key it was built with, what it is (a Link of
    common/provenance.py) and whether its clock is modeled. None: the DUT does not say (a
    reference firmware, or one built outside the pipeline)."""

    name: str
    firmware: str
    model: str
    build: str | None = None
    platform: prov.Link | None = None
    timing: str | None = None  # "modeled" or "clock" (the HAL's own timer)

    def check_build(self, expected: str, where: str) -> None:
        """Refuse a DUT that does not hold the build `expected` (the build stage's key)."""
        if self.build == expected:
            return
        both_short_equal = self.build is not None and short(self.build) == short(expected)
        said = self.build if both_short_equal else short(self.build)
        wanted = expected if both_short_equal else short(expected)
        if self.build is None:
            raise DutError(f"the DUT on {where} reports no build key, but this run is for build {wanted}: it holds firmware "
                           "not made by this build stage (an older build, or one made elsewhere); program or start this "
                           "flow's build")
        raise DutError(f"the DUT on {where} reports build {said}, but this run is for build {wanted}: it holds another "
                       "flow's or an older build; program or start this flow's build (make program / make dut)")

    def provenance(self, declared: prov.Provenance) -> prov.Provenance:
        """What the numbers made on this DUT are: what the DUT says it is (an emulation or QEMU says
        so in its `profile`), else what its launcher declared. A DUT saying it is a board while its
        launcher started an emulation contradicts the launcher, who knows: an error."""
        if self.platform is None:
            return declared
        if self.platform == "board" and declared.link != "board":
            raise DutError(f"the DUT on {declared.port} says it is a board (m-platform-[board]), but it was started as "
                           f"{declared.where}: it is not the firmware its launcher built")
        made = MAKERS[self.platform](data=declared.data, model_origin=declared.model_origin, port=declared.port)
        return made.model_copy(update={"timing": "modeled"}) if self.timing == "modeled" else made

    def summary(self) -> dict:
        """The run summary's record of what the DUT said."""
        return {"name": self.name, "firmware": self.firmware, "model": self.model, "build": self.build,
                "platform": self.platform, "dut_timing": self.timing}


def _optional(pattern: re.Pattern, lines: list[str], valid: Callable[[str], object], what: str) -> str | None:
    """The value of an optional `profile` line, checked against what it may say."""
    m = next(filter(None, map(pattern.match, lines)), None)
    if m is None:
        return None
    if valid(m.group(1)):
        return m.group(1)
    raise DutError(f"the DUT's profile reports {what} '{m.group(1)[:80]}', which is not one this harness's firmware reports")


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
    if any(lap > MAX_LAP_US for lap in laps):  # the firmware's counter is 64 bits: more digits are a garbled line
        raise DutError(f"malformed reply to 'infer {iterations} {warmups}': an m-lap-us beyond a 64-bit microsecond count "
                       f"({max(laps)})")
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
    def __init__(self, transport: SerialTransport):  # or its subclass, the interface board's PassthroughTransport
        self.transport = transport

    def command(self, command: str, timeout_s: float | None = None) -> list[str]:
        lines = self.transport.send_command(command, timeout_s)
        _errors(command, lines)
        return lines

    def identify(self) -> Identity:
        """What the DUT says it is (name, firmware, model id, and our firmware's build key, platform
        and timing), after flushing whatever an earlier host left half-sent."""
        self.transport.resync()
        lines = self.command("name")
        m = next(filter(None, map(NAME.match, lines)), None)
        if m is None:
            raise DutError(f"the device on {self.transport.url} answered 'name' with {lines!r}, not m-name-dut-[...]: "
                           "is it an EEMBC DUT, and is the baud rate right?")
        lines = self.command("profile")
        return Identity(m.group(1), _match(PROFILE, lines, "profile").group(1), _match(MODEL, lines, "profile").group(1),
                        build=_optional(BUILD, lines, BUILD_KEY.match, "build key"),
                        platform=_optional(PLATFORM, lines, get_args(prov.Link).__contains__, "platform"),  # type: ignore[arg-type]
                        timing=_optional(TIMING, lines, DUT_TIMINGS.__contains__, "timing"))

    def load(self, data: bytes, chunk: int | None = None) -> None:
        chunk = chunk or self.transport.db_chunk
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
