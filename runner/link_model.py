"""The modeled wall time of the runner's accuracy mode over a board's UART behind a USB bridge.

Per window the runner makes round trips of one command and its reply (runner/dut.py): `db load N`,
one `db <hex>` per DB_CHUNK_BYTES of input (the MLC runner's chunk), `infer 1 0`. Each byte is 10
bits on the wire (8N1), both ways; the replies are the firmware's (boards/common/firmware/ee_core.c).
A USB bridge adds its latency to every round trip: an FTDI chip holds a reply shorter than its USB
packet until its latency timer runs out (16 ms by default, 1 ms at best: runner/latency_timer.py),
so each round trip is modeled as costing the full timer. Modeled, not measured: the DUT's own time
(inference, parsing) and the host's are left out, so this is a lower bound of a real run's wall time
at that timer setting."""

from __future__ import annotations

from dataclasses import dataclass

from runner.dut import DB_CHUNK_BYTES

BITS_PER_BYTE = 10  # 8N1: a start bit, 8 data bits, a stop bit
LAP_DIGITS = 10  # m-lap-us-<microseconds since boot>: 10 digits from ~2.8 h of uptime on
VALUE_CHARS = 8  # one m-results value as the firmware prints it (%.6f of a probability: 0.123456)
READY = "m-ready\r\n"


def window_round_trips(window_bytes: int, result_values: int, chunk: int = DB_CHUNK_BYTES) -> list[tuple[str, int, int]]:
    """(command, bytes sent, bytes received) of each round trip the runner makes for one window."""
    trips = [(f"db load {window_bytes}", f"m-[Expecting {window_bytes} bytes]\r\n" + READY)]
    for offset in range(0, window_bytes, chunk):
        last = offset + chunk >= window_bytes
        trips.append(("db " + "00" * min(chunk, window_bytes - offset), ("m-load-done\r\n" if last else "") + READY))
    lap = "m-lap-us-" + "9" * LAP_DIGITS + "\r\n"
    results = "m-results-[" + ",".join(["0" * VALUE_CHARS] * result_values) + "]\r\n"
    trips.append(("infer 1 0", "m-warmup-start-0\r\nm-warmup-done\r\nm-infer-start-1\r\n" + 2 * lap + "m-infer-done\r\n"
                  + results + READY))
    return [(command, len(command) + 1, len(reply)) for command, reply in trips]  # + the % that ends a command


@dataclass(frozen=True)
class LinkTime:
    windows: int
    round_trips: int
    bytes_on_wire: int  # both directions
    wire_s: float  # the bytes at the baud rate
    latency_s: float  # the bridge's latency timer, once per round trip

    @property
    def total_s(self) -> float:
        return self.wire_s + self.latency_s


def accuracy_link_time(windows: int, window_bytes: int, result_values: int, baud: int, latency_ms: float,
                       chunk: int = DB_CHUNK_BYTES) -> LinkTime:
    """The modeled link time of an accuracy run of `windows` windows of `window_bytes` bytes each."""
    trips = window_round_trips(window_bytes, result_values, chunk)
    nbytes = windows * sum(sent + got for _, sent, got in trips)
    return LinkTime(windows, windows * len(trips), nbytes, nbytes * BITS_PER_BYTE / baud, windows * len(trips) * latency_ms / 1e3)

