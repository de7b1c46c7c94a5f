"""A simulated LPM01A for energy mode without hardware: on its own pseudo-terminal, speaking the
LPM01A protocol (lpm01a.py), fed the emulated board's timestamp-pin edges, and producing 1 ms
energy samples from a board's power model (board.yaml power.model_w: constant power while the
board runs). Every figure it leads to is modeled, and labelled so.

Time is the DUT's: an edge at t µs (the emulated board's clock, which timing=modeled makes the
modeled board's) closes every whole millisecond up to t, so the energy between two edges is the
power times their distance, to the millisecond the LPM01A samples at."""

from __future__ import annotations

import math
import os
import select
import threading
import tty


def token(joules: float) -> str:
    """An LPM01A ascii_dec sample: four mantissa digits and a signed two-digit exponent."""
    if joules <= 0:
        return "0000+00"
    exponent = math.floor(math.log10(joules)) - 3
    mantissa = round(joules / 10.0 ** exponent)
    if mantissa == 10000:
        mantissa, exponent = 1000, exponent + 1
    return f"{mantissa:04d}{exponent:+03d}"


class SimulatedLpm01a:
    def __init__(self, power_w: float):
        self.power_w = power_w
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave  # held open, so the monitor's link stays up while the runner reconnects
        self._lock = threading.Lock()
        self._streaming = False
        self._emitted_ms = None  # milliseconds of samples sent since `start`
        self._events = 0
        self.sample = token(power_w * 1e-3)  # the energy of one 1 ms sample
        self._closing = threading.Event()
        self._server = threading.Thread(target=self._serve, daemon=True)
        self._server.start()

    def _write(self, text: str) -> None:
        os.write(self.master, text.encode("ascii"))

    def _serve(self) -> None:
        buffer = b""
        while not self._closing.is_set():
            try:
                # never blocked in read: a closed pty is released only when no thread still reads it
                if not select.select([self.master], [], [], 0.05)[0]:
                    continue
                chunk = os.read(self.master, 256)
            except OSError:
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                self._command(line.strip(b"\r").decode("ascii", errors="replace"))

    def _command(self, cmd: str) -> None:
        if not cmd:
            return
        word = cmd.split()[0]
        with self._lock:
            if word == "start":
                self._streaming, self._emitted_ms = True, None
            elif word == "stop":
                self._streaming = False
                self._write("PowerShield > ack stop\r\nAcquisition completed\r\n")
                return
        self._write(f"PowerShield > ack {word}\r\n")

    def pin_falling(self, t_us: int) -> None:
        """The DUT's timestamp pin fell at t_us: samples up to t, then the event line."""
        with self._lock:
            if not self._streaming:
                return
            now_ms = t_us // 1000
            if self._emitted_ms is None or now_ms < self._emitted_ms:  # the first edge (or a DUT restart)
                self._emitted_ms = now_ms
            n = now_ms - self._emitted_ms
            self._emitted_ms = now_ms
            for start in range(0, n, 32):
                self._write(" ".join([self.sample] * min(32, n - start)) + "\r\n")
            self._write(f"event {self._events:02d} ris\r\n")
            self._events += 1

    def close(self) -> None:
        """Gone, as an unplugged monitor is: the client's next read of the pty fails. Once only: the
        file descriptor numbers may belong to another pty afterwards."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._server.join(timeout=1)
        os.close(self.master)
        os.close(self._slave)
