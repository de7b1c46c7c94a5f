"""The Joulescope JS220 (or JS110) through the `joulescope` package's v1 API: the DUT's supply runs
through its current terminals, the DUT's timestamp pin goes to its GPI0 (docs/mlperf-tiny.md 3.8). Unlike the
LPM01A it neither supplies the DUT nor integrates: it streams raw current, voltage and GPI0 samples,
which `EnergyReducer` turns into what the LPM01A gives, 1 ms energy samples and one event per
falling edge, so energy mode scores both monitors alike."""

from __future__ import annotations

import numpy as np

from runner.monitors.trials import MonitorError, TrialBuffer

RAW_RATE_HZ = 1_000_000  # the JS220's highest output rate; every ms of it is an exact stride
SAMPLE_RATE_HZ = 1_000  # the LPM01A's `freq 1k`, which the MLC runner's scoring assumes


class EnergyReducer:
    """Raw chunks at rate_hz -> 1 ms energy samples (J) and falling-edge events, each event at the
    number of whole 1 ms samples before it. Samples the device lost (NaN) count as dropped and add
    no energy; energy mode refuses a trial with any."""

    def __init__(self, rate_hz: int = RAW_RATE_HZ, out_hz: int = SAMPLE_RATE_HZ):
        if rate_hz % out_hz:
            raise MonitorError(f"a raw rate of {rate_hz} Hz is not a whole number of samples per {1e3 / out_hz:g} ms")
        self.stride, self.dt = rate_hz // out_hz, 1.0 / rate_hz
        self.samples: list[float] = []
        self.events: list[tuple[str, int]] = []
        self.dropped = 0
        self.volts_sum, self.volts_n = 0.0, 0
        self._pending_j, self._pending_n, self._level = 0.0, 0, None
        self._next_id: int | None = None

    def read(self, stream_buffer) -> None:
        """Feed what a joulescope StreamBuffer holds beyond what was read before."""
        start, end = stream_buffer.sample_id_range
        if start is None or end is None:
            return
        if self._next_id is None:
            self._next_id = start
        if self._next_id < start:  # the buffer wrapped past samples not read yet
            self.dropped += start - self._next_id
            self._next_id = start
        if end > self._next_id:
            signals = stream_buffer.samples_get(self._next_id, end, fields=["current", "voltage", "current_lsb"])["signals"]
            self.feed(signals["current"]["value"], signals["voltage"]["value"], signals["current_lsb"]["value"])
            self._next_id = end

    def feed(self, current, voltage, gpi) -> None:
        power = np.asarray(current, np.float64) * np.asarray(voltage, np.float64)
        lost = ~np.isfinite(power)
        self.dropped += int(lost.sum())
        power[lost] = 0.0
        volts = np.asarray(voltage, np.float64)[~lost]
        self.volts_sum, self.volts_n = self.volts_sum + float(volts.sum()), self.volts_n + volts.size
        # events: a falling edge at raw position k lands in 1 ms sample (pending + k) // stride
        level = np.asarray(gpi) != 0
        before = np.concatenate([[self._level if self._level is not None else level[0]], level[:-1]]) if level.size else level
        for k in np.flatnonzero(before & ~level):
            self.events.append((str(len(self.events)), len(self.samples) + (self._pending_n + int(k)) // self.stride))
        if level.size:
            self._level = bool(level[-1])
        # energy: whole strides out, the rest carried to the next chunk
        energy = np.cumsum(power) * self.dt
        whole = (self._pending_n + power.size) // self.stride
        if whole:
            ends = np.arange(1, whole + 1) * self.stride - self._pending_n - 1  # last raw index of each sample
            closed = energy[ends]
            self.samples.extend(np.diff(closed, prepend=0.0) + np.r_[self._pending_j, np.zeros(whole - 1)])
            self._pending_j, self._pending_n = float(energy[-1] - closed[-1]), int(power.size - 1 - ends[-1])
        else:
            self._pending_j += float(energy[-1]) if power.size else 0.0
            self._pending_n += power.size


class Joulescope(TrialBuffer):
    """A Joulescope found on USB (by serial number when several are connected), streaming from
    start() to close(). voltage_mv is the mean supply voltage it measured so far."""

    event_input = "the Joulescope's GPI0 (and its IO voltage set to the DUT's level)"

    def __init__(self, serial_number: str | None = None, rate_hz: int = RAW_RATE_HZ, io_voltage: str = "3.3V"):
        try:
            import joulescope
        except ImportError as e:
            raise MonitorError(f"the joulescope package is not installed ({e}): make setup installs it") from None
        found = joulescope.scan(config="off")
        names = [f"{d} (serial {d.device_serial_number})" for d in found]
        chosen = [d for d in found if serial_number is None or serial_number in (str(d.device_serial_number), str(d))]
        if not chosen:
            raise MonitorError(f"no Joulescope{' ' + serial_number if serial_number else ''} on USB"
                               f"{' (found: ' + ', '.join(names) + ')' if names else ''}: connect it, or use "
                               "--monitor PORT for an LPM01A")
        if len(chosen) > 1:
            raise MonitorError(f"{len(chosen)} Joulescopes on USB ({', '.join(names)}): name one, --monitor joulescope:SERIAL")
        super().__init__()
        self.device, self.rate_hz, self.io_voltage = chosen[0], rate_hz, io_voltage
        self.reducer = EnergyReducer(rate_hz)
        self.samples, self.events = self.reducer.samples, self.reducer.events
        self._failure: str | None = None
        self._dropped_before = 0  # samples lost before this trial: not its concern

    @property
    def voltage_mv(self) -> float:
        r = self.reducer
        return 1000.0 * r.volts_sum / r.volts_n if r.volts_n else 0.0

    def start(self) -> None:
        try:
            self.device.open()
            for name, value in [("sensor_power", "on"), ("i_range", "auto"), ("v_range", "15V"),
                                ("sampling_frequency", self.rate_hz), ("io_voltage", self.io_voltage),
                                ("current_lsb", "gpi0")]:  # JS110: GPI0 rides in the current LSB
                self.device.parameter_set(name, value)
            self.device.stream_process_register(self)
            self.device.start(stop_fn=self._stopped)
        except Exception as e:  # the driver's errors are of many kinds; each is this monitor failing to start
            raise MonitorError(f"the Joulescope {self.device} did not start streaming: {e}") from None

    # ---- the joulescope package's stream-process interface, called from its USB thread -----------
    def stream_notify(self, stream_buffer) -> bool:
        with self._lock:
            self.reducer.read(stream_buffer)
        return False  # go on streaming

    def _stopped(self, event=0, message="") -> None:
        if event:
            self._failure = f"the Joulescope stopped streaming ({event}: {message})"

    def trial(self) -> None:
        with self._lock:
            self._dropped_before = self.reducer.dropped
        super().trial()

    def _check(self) -> None:
        if self._failure:
            raise MonitorError(self._failure)
        lost = self.reducer.dropped - self._dropped_before
        if lost:
            raise MonitorError(f"the Joulescope lost {lost} samples in this trial: its USB link cannot keep up "
                               f"(use a direct USB port, or a lower rate than {self.rate_hz} Hz)")

    def close(self) -> None:
        for step in (self.device.stop, lambda: self.device.stream_process_unregister(self), self.device.close):
            try:
                step()
            except Exception:  # a device that failed or went away: the other steps still run
                pass
