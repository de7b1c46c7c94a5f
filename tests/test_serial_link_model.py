"""The link model of make bench counts the round trips and the bytes the runner really sends: one
window loaded and inferred by runner/dut.py over a real pty to the scripted DUT, against the model."""

from __future__ import annotations

import pytest

from runner.dut import Dut
from runner.link_model import accuracy_link_time, window_round_trips
from runner.transport import SerialTransport
from tests.fake_dut import FakeDut


@pytest.mark.parametrize("window_bytes", [2560, 490, 27648, 31, 1])
def test_the_model_sends_what_the_runner_sends(window_bytes):
    dut = FakeDut(score=lambda data: "0.5")
    try:
        with SerialTransport(dut.port, 115200) as transport:
            runner = Dut(transport)
            runner.identify()
            before, commands_before = transport.bytes_out, len(dut.commands)
            runner.load(bytes(range(256)) * (window_bytes // 256) + bytes(window_bytes % 256))
            runner.infer(1, 0)
            sent, commands = transport.bytes_out - before, dut.commands[commands_before:]
    finally:
        dut.close()
    trips = window_round_trips(window_bytes, 1)
    assert [(c.split()[0], len(c)) for c, _, _ in trips] == [(c.split()[0], len(c)) for c in commands]
    assert sum(n for _, n, _ in trips) == sent


def test_a_full_ad_run_over_ftdi_defaults_takes_about_a_day_and_at_1_ms_a_fraction():
    slow = accuracy_link_time(248 * 196, 2560, 1, 115200, 16)
    fast = accuracy_link_time(248 * 196, 2560, 1, 115200, 1)
    assert slow.round_trips == 248 * 196 * (1 + 83 + 1)  # 2560 / 31 -> 83 chunks
    assert slow.bytes_on_wire == fast.bytes_on_wire and slow.wire_s == pytest.approx(fast.wire_s)
    assert 20 * 3600 < slow.total_s < 30 * 3600 and fast.total_s < slow.total_s / 2
