"""What the runner connects to, declared once, and the one place that connects it.

`group_modes` puts the asked modes into connections: one per firmware build and baud rate
(performance and accuracy share the performance build; energy mode needs the energy build, whose
timestamp pin replaces m-lap-us), in the order the modes were asked. `ConnectSpec` says what one
connection is: the DUT (an emulated board's binary, firmware in QEMU, or a port), its build variant
and baud rate, the power monitor of energy mode. `connect(spec)` starts what has to be started and
yields a `Connection`: the DUT's URL, the started monitor (the simulated LPM01A wired to the emulated
board's timestamp pin) and the run's provenance; leaving it stops everything, monitor first."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from common import provenance as prov
from common.errors import ConfigError
from runner.emulated import emulated_dut
from runner.modes import MODE_NAMES
from runner.monitors.joulescope import Joulescope
from runner.monitors.lpm01a import Lpm01a
from runner.monitors.simulated import SimulatedLpm01a
from runner.monitors.trials import TrialBuffer
from runner.qemu import qemu_dut

DutKind = Literal["emulated", "qemu", "port"]
DEFAULT_LINK: dict[str, prov.Link] = {"emulated": "host-emulation", "qemu": "qemu", "port": "board"}
PROVENANCE = {"host-emulation": prov.emulated, "qemu": prov.qemu, "board": prov.board}  # link -> its maker


# ---- which modes share a connection ---------------------------------------------------------------
def build_variant(mode: str) -> str:
    """The firmware build a mode (name or letter) runs on: "energy" or "performance"."""
    return "energy" if MODE_NAMES[mode] == "energy" else "performance"


@dataclass(frozen=True)
class ModeGroup:
    variant: str  # build_variant() of every mode in it
    port: str | None  # None: the DUT is started for the group (emulated, QEMU), its URL known then
    baud: int
    modes: list[str]


def group_modes(modes: list[str], link: Callable[[str], tuple[str | None, int]]) -> list[ModeGroup]:
    """The modes grouped into connections; link(mode) -> (port or None, baud rate) of that mode."""
    groups: dict[tuple[str, str | None, int], list[str]] = {}
    for mode in modes:
        port, baud = link(mode)
        groups.setdefault((build_variant(mode), port, baud), []).append(mode)
    return [ModeGroup(variant, port, baud, group) for (variant, port, baud), group in groups.items()]


# ---- what one connection is ----------------------------------------------------------------------
@dataclass(frozen=True)
class MonitorSpec:
    """The power monitor of energy mode: an LPM01A on a serial port, a Joulescope on USB, or a
    simulated LPM01A fed a board's power model (the emulated board only: its timestamp pin drives it)."""

    kind: Literal["lpm01a", "joulescope", "simulated"]
    port: str | None = None  # lpm01a: its serial port
    voltage_mv: int = 3300  # LPM01A (and the simulated one): the supply it gives the DUT
    serial_number: str | None = None  # joulescope: which one (None: the one connected)
    power_w: float | None = None  # simulated: the board's power while it runs (board.yaml power.model_w)

    @classmethod
    def parse(cls, text: str, voltage_mv: int = 3300) -> MonitorSpec:
        """The command line's --monitor: `joulescope[:SERIAL]`, or the serial port of an LPM01A."""
        if text == "joulescope" or text.startswith("joulescope:"):
            return cls("joulescope", serial_number=text.partition(":")[2] or None)
        return cls("lpm01a", port=text, voltage_mv=voltage_mv)


@dataclass(frozen=True)
class ConnectSpec:
    kind: DutKind
    binary: Path | None = None  # emulated: the host build (dut_host); qemu: the firmware ELF
    command: tuple[str, ...] = ()  # qemu: the QEMU command line (board.yaml firmware.qemu.command)
    url: str | None = None  # port: a serial port or pyserial URL
    variant: str = "performance"  # the build it runs (build_variant); only the energy build gets the monitor
    baud: int = 115200
    monitor: MonitorSpec | None = None
    link: prov.Link | None = None  # what the DUT is, as its launcher says (default: by kind; a port is a board)
    timing: prov.Timing | None = None  # where its time comes from, when not the link's own ("modeled")

    def __post_init__(self):
        needs = {"emulated": ("binary",), "qemu": ("binary", "command"), "port": ("url",)}[self.kind]
        missing = [name for name in needs if not getattr(self, name)]
        if missing:
            raise ConfigError(f"the {self.kind} DUT needs {' and '.join(missing)}")
        if self.monitor and self.monitor.kind == "simulated" and self.kind != "emulated":
            raise ConfigError("the simulated LPM01A follows the emulated board's timestamp pin: it needs the emulated DUT")


@dataclass(frozen=True)
class Connection:
    spec: ConnectSpec
    url: str  # the DUT's serial port or pyserial URL
    monitor: TrialBuffer | None  # started; None but for energy mode

    @property
    def baud(self) -> int:
        return self.spec.baud

    def provenance(self, data: prov.DataKind | None = None, model_origin: str | None = None) -> prov.Provenance:
        """What the numbers made on this connection are, as the spec declares it."""
        made = PROVENANCE[self.spec.link or DEFAULT_LINK[self.spec.kind]](data=data, model_origin=model_origin, port=self.url)
        return made.model_copy(update={"timing": self.spec.timing}) if self.spec.timing else made


# ---- connecting ----------------------------------------------------------------------------------
@contextlib.contextmanager
def connect(spec: ConnectSpec) -> Iterator[Connection]:
    """Start the DUT (emulated, QEMU) and, for the energy build, the power monitor; stop them afterwards."""
    wanted = spec.monitor if spec.variant == "energy" else None
    with contextlib.ExitStack() as stack:
        sim = None
        if wanted and wanted.kind == "simulated":
            sim = SimulatedLpm01a(wanted.power_w)
            stack.callback(sim.close)
        url = stack.enter_context(_dut(spec, on_timestamp=sim.pin_falling if sim else None))
        monitor = stack.enter_context(_monitor(wanted, sim)) if wanted else None
        yield Connection(spec, url, monitor)


def _dut(spec: ConnectSpec, on_timestamp=None):
    """A context yielding the DUT's URL."""
    if spec.kind == "emulated":
        return emulated_dut(spec.binary, on_timestamp=on_timestamp)
    if spec.kind == "qemu":
        return qemu_dut(spec.binary, list(spec.command))
    return contextlib.nullcontext(spec.url)


@contextlib.contextmanager
def _monitor(spec: MonitorSpec, sim: SimulatedLpm01a | None) -> Iterator[TrialBuffer]:
    """A started power monitor, closed afterwards (an LPM01A powers the DUT off)."""
    if spec.kind == "joulescope":
        monitor = Joulescope(spec.serial_number)
    else:
        monitor = Lpm01a(sim.path if sim else spec.port, spec.voltage_mv)
    try:
        monitor.start()
        yield monitor
    finally:
        monitor.close()
