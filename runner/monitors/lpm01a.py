"""The STMicro X-NUCLEO-LPM01A ("PowerShield") over its text protocol (spec 3.8): set-up commands
each answered by `ack <cmd>` (or `error`), then a stream of 1 ms energy samples (`MMMM±EE`: mantissa
x 10^exponent joules) and `event <n> ris|fal` lines for the timestamp pin's edges.

A reader thread keeps every sample and event as it arrives; `trial()` marks where a trial starts
and `collect()` gives what came since, as the MLC runner's per-trial gathering does."""

from __future__ import annotations

import re
import threading
import time

import serial

from common.errors import HarnessError

SAMPLE = re.compile(rb"\b(\d{4})([+-]\d{2})\b")
EVENT = re.compile(rb"event (\d+) (ris|fal)")
SETUP = ["htc", 'lcd 1 "MLPerf Tiny"', 'lcd 2 "     monitor    "', "pwr off", "acqtime inf", "trigdelay 0",
         "trigsrc sw", "eventsrc d7 fal", "output energy", "format ascii_dec", "freq 1k"]
BAUD = 3686400


class MonitorError(HarnessError):
    pass


class Lpm01a:
    def __init__(self, url: str, voltage_mv: int = 3300, timeout_s: float = 5.0):
        if not 1800 <= voltage_mv <= 3300:
            raise MonitorError(f"the LPM01A supplies 1800-3300 mV, not {voltage_mv} mV")
        try:
            self.port = serial.serial_for_url(url, baudrate=BAUD, timeout=0.05)
        except (serial.SerialException, OSError, ValueError) as e:
            raise MonitorError(f"cannot open the power monitor on {url}: {e}") from None
        self.url, self.voltage_mv, self.timeout_s = url, voltage_mv, timeout_s
        self.samples: list[float] = []
        self.events: list[tuple[str, int]] = []  # (event number, samples before it), as the MLC runner keeps them
        self._lock = threading.Lock()
        self._streaming = threading.Event()
        self._stop = threading.Event()
        self._lines: list[bytes] = []
        self._buffer = b""
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        self._mark = (0, 0)

    # ---- the link ------------------------------------------------------------------------------
    def _read_loop(self) -> None:
        while not self._stop.is_set():
            try:
                chunk = self.port.read(max(1, self.port.in_waiting))
            except (serial.SerialException, OSError):
                return
            if not chunk:
                continue
            self._buffer += chunk
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                self._line(line.strip(b"\r"))

    def _line(self, line: bytes) -> None:
        with self._lock:
            if self._streaming.is_set():
                event = EVENT.search(line)
                if event:
                    self.events.append((event.group(1).decode(), len(self.samples)))
                    return
                for mantissa, exponent in SAMPLE.findall(line):
                    self.samples.append(int(mantissa) * 10.0 ** int(exponent))
            self._lines.append(line)

    def command(self, cmd: str, expect: str | None = None) -> None:
        """Send one command and wait for its `ack` (or `expect`); an `error` is a MonitorError."""
        with self._lock:
            self._lines.clear()
        self.port.write(cmd.encode("ascii") + b"\r\n")
        want = (expect or f"ack {cmd.split()[0]}").encode()
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                lines = list(self._lines)
            if any(want in line for line in lines):
                return
            bad = next((line for line in lines if b"error" in line.lower()), None)
            if bad is not None:
                raise MonitorError(f"the LPM01A on {self.url} refused '{cmd}': {bad.decode(errors='replace')}")
            time.sleep(0.005)
        raise MonitorError(f"the LPM01A on {self.url} did not ack '{cmd}' within {self.timeout_s:g} s "
                           f"(got {[line.decode(errors='replace') for line in lines][-3:]}): is it the monitor, at {BAUD} baud?")

    # ---- a measurement -------------------------------------------------------------------------
    def start(self) -> None:
        for cmd in SETUP:
            self.command(cmd)
        self.command(f"volt {self.voltage_mv}m")
        self.command("pwr on nostatus", expect="ack pwr")
        self._streaming.set()
        self.command("start")

    def trial(self) -> None:
        """A trial starts: what came before is not its data."""
        with self._lock:
            self._mark = (len(self.samples), len(self.events))

    def collect(self, events: int = 2, timeout_s: float = 5.0) -> tuple[list[float], list[tuple[str, int]]]:
        """(samples, events with indices into those samples) since trial(), once `events` events came."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                s0, e0 = self._mark
                got = [(n, i - s0) for n, i in self.events[e0:]]
                if len(got) >= events:
                    return list(self.samples[s0:]), got
            if time.monotonic() > deadline:
                raise MonitorError(f"the power monitor saw {len(got)} timestamp event(s) in this trial, {events} needed: "
                                   f"is the DUT's timestamp pin wired to the monitor's event input (LPM01A D7)?")
            time.sleep(0.01)

    def close(self) -> None:
        try:
            if self._streaming.is_set():
                self._streaming.clear()
                self.command("stop", expect="Acquisition completed")
                self.command("pwr off")
                self.command("hrc")
        except (MonitorError, serial.SerialException, OSError):
            pass
        finally:
            self._stop.set()
            self._reader.join(timeout=1)
            self.port.close()
