"""What every power monitor keeps: 1 ms energy samples (J) and timestamp events, each event as
(event number, samples before it), as the MLC runner keeps them; `trial()` marks where a trial
starts and `collect()` gives what came since, as the MLC runner's per-trial gathering does."""

from __future__ import annotations

import threading
import time

from common.errors import HarnessError


class MonitorError(HarnessError):
    pass


class TrialBuffer:
    event_input = "the monitor's event input"  # named in the message when a trial sees too few events

    def __init__(self):
        self.samples: list[float] = []
        self.events: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._mark = (0, 0)

    def trial(self) -> None:
        """A trial starts: what came before is not its data."""
        with self._lock:
            self._mark = (len(self.samples), len(self.events))

    def _check(self) -> None:
        """Raise a MonitorError if the monitor can no longer deliver (overridden per device)."""

    def collect(self, events: int = 2, timeout_s: float = 5.0) -> tuple[list[float], list[tuple[str, int]]]:
        """(samples, events with indices into those samples) since trial(), once `events` events came."""
        deadline = time.monotonic() + timeout_s
        while True:
            self._check()
            with self._lock:
                s0, e0 = self._mark
                got = [(n, i - s0) for n, i in self.events[e0:]]
                if len(got) >= events:
                    return list(self.samples[s0:]), got
            if time.monotonic() > deadline:
                if len(self.samples) == s0:  # nothing at all: the monitor, not the pin
                    raise MonitorError(f"the power monitor sent no energy samples in this trial ({timeout_s:g} s): "
                                       "is it still measuring?")
                raise MonitorError(f"the power monitor saw {len(got)} timestamp event(s) in this trial, {events} needed: "
                                   f"is the DUT's timestamp pin wired to {self.event_input}?")
            time.sleep(0.01)
