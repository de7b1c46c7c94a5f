"""The STMicro X-NUCLEO-LPM01A ("PowerShield") over its text protocol (docs/mlperf-tiny.md 3.8): set-up commands
each answered by `ack <cmd>` (or `error`), then a stream of 1 ms energy samples (`MMMM±EE`: mantissa
x 10^exponent joules) and `event <n> ris|fal` lines for the timestamp pin's edges.

A reader thread keeps every sample and event as it arrives (trials.py gives them per trial). A link
that fails, or a stream that is not lines, is kept as the monitor's failure and reported as such by
the next command or trial, not as missing timestamp events."""

from __future__ import annotations

import re
import threading
import time

import serial

from runner.monitors.trials import MonitorError, TrialBuffer

SAMPLE = re.compile(rb"\b(\d{4})([+-]\d{2})\b")
EVENT = re.compile(rb"event (\d+) (ris|fal)")
SETUP = ["htc", 'lcd 1 "MLPerf Tiny"', 'lcd 2 "     monitor    "', "pwr off", "acqtime inf", "trigdelay 0",
         "trigsrc sw", "eventsrc d7 fal", "output energy", "format ascii_dec", "freq 1k"]
BAUD = 3686400
# The longest line the LPM01A sends is a status line or one sample; far more bytes without a line end
# are not its stream (another device, a wrong baud rate), and are not kept.
MAX_LINE_BYTES = 4096


class Lpm01a(TrialBuffer):
    event_input = "the LPM01A's event input (D7)"

    def __init__(self, url: str, voltage_mv: int = 3300, timeout_s: float = 5.0):
        if not 1800 <= voltage_mv <= 3300:
            raise MonitorError(f"the LPM01A supplies 1800-3300 mV, not {voltage_mv} mV")
        try:
            self.port = serial.serial_for_url(url, baudrate=BAUD, timeout=0.05)
        except (serial.SerialException, OSError, ValueError) as e:
            raise MonitorError(f"cannot open the power monitor on {url}: {e}") from None
        super().__init__()
        self.url, self.voltage_mv, self.timeout_s = url, voltage_mv, timeout_s
        self._streaming = threading.Event()
        self._stop = threading.Event()
        self._lines: list[bytes] = []
        self._buffer = b""
        self._failure: str | None = None  # why the link can no longer deliver, set by the reader thread
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    # ---- the link ------------------------------------------------------------------------------
    def _read_loop(self) -> None:
        while not self._stop.is_set():
            try:
                chunk = self.port.read(max(1, self.port.in_waiting))
            except (serial.SerialException, OSError) as e:
                if not self._stop.is_set():
                    self._failure = f"lost the LPM01A on {self.url} (unplugged, or powered off?): {e}"
                return
            if not chunk:
                continue
            self._buffer += chunk
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                self._line(line.strip(b"\r"))
            if len(self._buffer) > MAX_LINE_BYTES:
                self._failure = (f"the power monitor on {self.url} sent {len(self._buffer)} bytes without a line end: "
                                 f"is it an LPM01A, at {BAUD} baud?")
                self._buffer = b""

    def _check(self) -> None:
        if self._failure:
            raise MonitorError(self._failure)

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
            self._check()
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
