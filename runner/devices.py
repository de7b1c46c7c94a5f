"""Devices in the MLC runner's YAML shape (devices.yaml, docs/mlperf-tiny.md 3.2), read unchanged, and found by
USB VID:PID through pyserial's port list, optionally confirmed by asking the DUT its name.

    - name: l4r5zi
      type: dut                      # interface | power | dut
      baud: {energy: 9600, performance: 115200, accuracy: 115200}   # or one number
      usb: {0x0483: 0x374B}          # VID: PID or [PIDs]
      check_name: my_dut             # optional: the name in m-name-dut-[...] must match
      usb_interface: 1               # optional (this harness): the USB interface of the UART channel
      preference: 2                  # the highest wins when several of a type are found

The last `dut` entry is the DUT (as in the MLC runner). An explicit port or socket:// URL is always
allowed instead of discovery. A dual-channel FTDI bridge (the Pynq-Z2's and the Arty's FT2232H) shows
two ports with one VID:PID, the JTAG channel (interface 0) first: `usb_interface` (board.yaml
uart.usb_interface) picks the UART's by the interface number pyserial reads from the USB location
("1-1.2:1.1" on Linux, "1-1.2:x.1" on Windows: the number after the last '.'), and `check_name` then
confirms it. Where the location does not say (macOS, a single-interface bridge on Linux), the port
stays a candidate and the name decides.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import serial
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from serial.tools import list_ports

from common.config import read_yaml
from common.errors import ConfigError, DutError
from runner.modes import MODE_NAMES

NAME = re.compile(r"m-name-dut-\[(.*)\]")


class Device(BaseModel):
    """One entry; unknown keys are kept (the MLC runner's files carry comments and extras)."""

    model_config = ConfigDict(extra="allow")
    name: str
    type: str = Field(pattern=r"^(interface|power|dut)$")
    preference: int = 0
    baud: int | dict[str, int] | None = None
    usb: dict[int, int | list[int]] = Field(default_factory=dict)
    usb_description: str | None = None
    check_name: str | None = None
    usb_interface: int | None = Field(None, ge=0)

    def baud_for(self, mode: str) -> int:
        """The baud rate for a runner mode (p, a, e or their names)."""
        if isinstance(self.baud, int):
            return self.baud
        key = MODE_NAMES.get(mode, mode)
        if not self.baud or key not in self.baud:
            raise ConfigError(f"device '{self.name}' has no baud rate for {key} mode (baud: {self.baud})")
        return self.baud[key]

    def matches(self, vid: int | None, pid: int | None, description: str = "") -> bool:
        pids = self.usb.get(vid, [])
        pids = pids if isinstance(pids, list) else [pids]
        return pid in pids or bool(self.usb_description and self.usb_description in (description or ""))


def load(path: Path) -> list[Device]:
    raw = read_yaml(path)
    if not isinstance(raw, list):
        raise ConfigError(f"{path}: expected a list of devices (the MLC runner's devices.yaml shape)")
    devices = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: device #{i + 1}: expected a mapping of name, type, baud, usb, ..., "
                              f"got {type(entry).__name__} ({entry!r:.40})")
        try:
            devices.append(Device.model_validate(entry))
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
            raise ConfigError(f"{path}: device #{i + 1} ({entry.get('name', '?')}): {problems}") from None
    return devices


def dut_entry(devices: list[Device]) -> Device:
    duts = [d for d in devices if d.type == "dut"]
    if not duts:
        raise ConfigError("the devices file lists no device of type dut")
    return duts[-1]


def ask_name(port: str, baud: int, timeout_s: float = 1.0) -> str | None:
    """Send name% and return the name in m-name-dut-[...], or None if the device does not say."""
    try:
        with serial.serial_for_url(port, baudrate=baud, timeout=0.05) as link:
            link.write(b"name%")
            got, deadline = b"", time.monotonic() + timeout_s
            while b"m-ready" not in got and time.monotonic() < deadline:
                got += link.read(max(1, link.in_waiting))
    except (serial.SerialException, OSError):
        return None
    m = NAME.search(got.decode("ascii", errors="replace"))
    return m.group(1) if m else None


def interface_number(port) -> int | None:
    """The USB interface a port belongs to, from pyserial's `location` ("1-1.2:1.1": configuration 1,
    interface 1), or None where it does not say."""
    location = getattr(port, "location", None) or ""
    _, colon, tail = location.partition(":")
    number = tail.rpartition(".")[2]
    return int(number) if colon and number.isdigit() else None


@dataclass
class Found:
    device: Device
    port: str


def discover(devices: list[Device], mode: str, log=print, ports: Iterable | None = None) -> dict[str, Found]:
    """{type: (entry, port)} for the connected devices, by VID:PID or USB description and, where the
    entry gives usb_interface, the port's USB interface; a DUT entry with check_name is only taken
    where the device answers `name` with that name. ports: pyserial ListPortInfo records (default: the
    connected ports, list_ports.comports())."""
    found: dict[str, Found] = {}
    for port in list_ports.comports() if ports is None else ports:
        for device in devices:
            if not device.matches(port.vid, port.pid, port.description):
                continue
            number = interface_number(port)
            if device.usb_interface is not None and number is not None and number != device.usb_interface:
                log(f"{port.device} has the USB id of '{device.name}' but is its interface {number}, "
                    f"not {device.usb_interface} (usb_interface): not taken (the other channel, e.g. JTAG)")
                continue
            if device.type == "dut" and device.check_name is not None:
                name = ask_name(port.device, device.baud_for(mode))
                if name != device.check_name:
                    log(f"{port.device} has the USB id of '{device.name}' but answered name with {name!r}, "
                        f"not {device.check_name!r}: not taken (check the baud rate, {device.baud_for(mode)})")
                    continue
            current = found.get(device.type)
            if current is None or device.preference > current.device.preference:
                found[device.type] = Found(device, port.device)
            break
    return found


def board_dut(name: str, usb: str, usb_interface: int | None, vendor_name: str, baud: dict[str, int]) -> Device:
    """The DUT entry of a board as board.yaml describes its UART (uart.usb VID:PID, uart.usb_interface,
    uart.baud), confirmed by the name its firmware reports (vendor_name)."""
    vid, pid = (int(part, 16) for part in usb.split(":"))
    return Device(name=name, type="dut", baud=baud, usb={vid: pid}, usb_interface=usb_interface, check_name=vendor_name)


def find_port(dut: Device, mode: str, where: str, log=print, ports: Iterable | None = None) -> tuple[str, int]:
    """(port, baud) of one DUT entry among the connected ports (or `ports`); `where` names what described it."""
    found = discover([dut], mode, log, ports).get("dut")
    if found is None:
        ids = ", ".join(f"{vid:04x}:" + "/".join(f"{p:04x}" for p in (pids if isinstance(pids, list) else [pids]))
                        for vid, pids in dut.usb.items()) or "none"
        channel = "" if dut.usb_interface is None else f" interface {dut.usb_interface}"
        raise DutError(f"no connected port matches the DUT '{dut.name}' of {where} (USB {ids}{channel}): connect it, "
                       "or give the port (pyserial's list: python -m serial.tools.list_ports -v)")
    return found.port, found.device.baud_for(mode)


def find_dut(devices_file: Path, mode: str, log=print) -> tuple[str, int]:
    """(port, baud) of the DUT described in an MLC devices file."""
    devices = load(devices_file)
    dut_entry(devices)  # there is one
    duts = [d for d in devices if d.type == "dut"]
    found = discover(duts, mode, log).get("dut")
    if found is None:
        find_port(duts[-1], mode, str(devices_file), log)  # raises, naming the last (the MLC runner's) entry
        raise AssertionError("unreachable")
    return found.port, found.device.baud_for(mode)
