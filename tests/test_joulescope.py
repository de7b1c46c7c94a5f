"""The Joulescope monitor's reduction of raw current, voltage and GPI0 samples to the LPM01A's
1 ms energy samples and falling-edge events, checked against a direct computation over the whole
record, fed in uneven chunks and through the joulescope package's own StreamBuffer. No Joulescope
is connected here: that case must say so."""

from __future__ import annotations

import numpy as np
import pytest

from runner.energy_score import trial_energy
from runner.monitors.joulescope import EnergyReducer
from runner.monitors.trials import MonitorError

RATE = 20_000  # 20 raw samples per 1 ms sample: small, so the test is fast, and exercises strides


def _record(seconds: float, rng):
    n = int(seconds * RATE)
    current = rng.uniform(0.1, 0.6, n)
    voltage = rng.uniform(3.2, 3.4, n)
    gpi = np.ones(n, np.uint8)
    # two falling edges 12 raw samples apart, one at a chunk boundary (see _chunks)
    pulses = [int(n * 0.1), int(n * 0.35), int(n * 0.35) + 12, int(n * 0.8), RATE * 3 // 2 - 7]
    for p in pulses:
        gpi[p:p + 10] = 0  # 0.5 ms low pulses
    return current, voltage, gpi


def _direct(current, voltage, gpi):
    power = current * voltage
    stride = RATE // 1000
    whole = len(power) // stride
    samples = power[:whole * stride].reshape(whole, stride).sum(axis=1) / RATE
    falls = np.flatnonzero((gpi[:-1] != 0) & (gpi[1:] == 0)) + 1
    return samples, [k // stride for k in falls]


def _chunks(n, rng):
    edges = [0]
    while edges[-1] < n:
        edges.append(min(n, edges[-1] + int(rng.choice([0, 1, 7, 19, 20, 21, 333, 4000]))))
    edges[-1:] = [RATE * 3 // 2 - 7, n] if edges[-2] < RATE * 3 // 2 - 7 else [n]  # a chunk boundary on an edge
    return sorted(set(edges))


def test_reduction_equals_the_direct_computation_in_any_chunking():
    rng = np.random.default_rng(3)
    current, voltage, gpi = _record(2.0, rng)
    want_samples, want_events = _direct(current, voltage, gpi)
    r = EnergyReducer(RATE)
    edges = _chunks(len(current), rng)
    for a, b in zip(edges[:-1], edges[1:]):
        r.feed(current[a:b], voltage[a:b], gpi[a:b])
    assert len(r.samples) == len(want_samples)
    np.testing.assert_allclose(r.samples, want_samples, rtol=1e-9)
    assert [i for _, i in r.events] == want_events and len(want_events) == 5
    assert [n for n, _ in r.events] == [str(k) for k in range(5)]
    assert r.dropped == 0
    assert r.volts_sum / r.volts_n == pytest.approx(voltage.mean())
    # scored as the MLC runner scores an LPM01A trial: the energy between the last two events
    t = trial_energy(r.samples, r.events, iterations=1000)
    i0, i1 = want_events[-2:]
    assert t["energy_j"] == pytest.approx(want_samples[i0:i1].sum(), rel=1e-9)
    assert t["elapsed_s"] == (i1 - i0) / 1000


def test_lost_samples_are_counted_and_add_no_energy():
    r = EnergyReducer(RATE)
    current = np.full(RATE // 100, 0.5)
    current[5:9] = np.nan
    r.feed(current, np.full_like(current, 2.0), np.ones_like(current, np.uint8))
    assert r.dropped == 4
    assert sum(r.samples) == pytest.approx((len(current) - 4) * 1.0 / RATE)


def test_a_raw_rate_must_be_whole_strides():
    with pytest.raises(MonitorError, match="not a whole number"):
        EnergyReducer(1500)


def test_reading_through_the_joulescope_stream_buffer():
    """The package's StreamBuffer, filled as its driver fills it (one message per signal), read by
    the reducer in pieces as stream_notify would: the same samples and events as the direct sum."""
    from joulescope.v1.stream_buffer import StreamBuffer

    rng = np.random.default_rng(5)
    current, voltage, gpi = _record(1.0, rng)
    buffer = StreamBuffer(2.0, RATE, None, output_frequency=RATE)
    for key, b in buffer.buffers.items():
        b.active = key in [(1, 0), (2, 0), (5, 0)]
    r = EnergyReducer(RATE)
    step = 1232  # whole bytes of packed GPI bits, as the driver sends them
    for a in range(0, len(current), step):
        for (field, index), data in [((1, 0), current[a:a + step].astype(np.float32)),
                                     ((2, 0), voltage[a:a + step].astype(np.float32)),
                                     ((5, 0), np.packbits(gpi[a:a + step], bitorder="little"))]:
            buffer.insert("s/x/!data", {"field_id": field, "index": index, "sample_id": a, "data": data,
                                        "sample_rate": RATE, "decimate_factor": 1})
        r.read(buffer)
    want_samples, want_events = _direct(current.astype(np.float32).astype(np.float64),
                                        voltage.astype(np.float32).astype(np.float64), gpi)
    assert r.dropped == 0
    np.testing.assert_allclose(r.samples, want_samples, rtol=1e-6)
    assert [i for _, i in r.events] == want_events


def test_no_joulescope_connected_is_said_plainly():
    import joulescope

    if joulescope.scan(config="off"):
        pytest.skip("a Joulescope is connected to this machine")
    from runner.monitors.joulescope import Joulescope

    with pytest.raises(MonitorError, match="no Joulescope on USB: connect it, or use --monitor PORT for an LPM01A"):
        Joulescope()
    with pytest.raises(MonitorError, match="no Joulescope 123 on USB"):
        Joulescope("123")
