"""The FTDI latency timer of a USB-UART on Linux (/sys/bus/usb-serial/devices/<ttyUSBn>/latency_timer).

An FTDI bridge holds what the DUT sends until its USB packet fills or its latency timer runs out,
16 ms by default: every short reply (m-ready after each `db` chunk) waits for it, which makes a full
AD accuracy run over a board's UART take about a day (bench/runner_link.py models it). The runner
sets it to 1 ms where it may (root, or a udev rule that made the file writable) and otherwise says
once what to run. A port that has no such file (not FTDI, a pty, a socket, not Linux) is left alone
in silence."""

from __future__ import annotations

import logging
import os
from pathlib import Path

WANTED_MS = 1
SYSFS = Path("/sys")

log = logging.getLogger("runner")


def latency_timer_file(port: str, sysfs: Path = SYSFS) -> Path:
    """Where the kernel's ftdi_sio driver shows the timer of a port (a /dev/serial/by-id link is followed)."""
    return sysfs / "bus" / "usb-serial" / "devices" / os.path.basename(os.path.realpath(port)) / "latency_timer"


def ensure_low_latency(port: str, sysfs: Path = SYSFS, say=log.warning) -> int | None:
    """Set the port's FTDI latency timer to 1 ms if it is longer; its value afterwards in ms, or None
    where the port has no latency timer. Where it cannot be set, `say` gets one line with the command."""
    path = latency_timer_file(port, sysfs)
    try:
        ms = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    if ms <= WANTED_MS:
        return ms
    try:
        path.write_text(f"{WANTED_MS}\n")
        return int(path.read_text().strip())
    except (OSError, ValueError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        say(f"{port}: the FTDI latency timer is {ms} ms (each short reply waits up to that long; 1 ms makes "
            f"accuracy runs several times faster, see make bench) and cannot be set here ({reason}): "
            f"run  echo {WANTED_MS} | sudo tee {path}  (or a udev rule setting ATTR{{latency_timer}}=\"{WANTED_MS}\")")
        return ms
