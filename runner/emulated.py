"""Start an emulated DUT (a host build of the firmware) and find the serial path it prints."""

from __future__ import annotations

import os
import re
import select
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from common.errors import DutError

GPIO_EDGE = re.compile(r"^gpio: timestamp falling edge at (\d+) us$")


@contextmanager
def emulated_dut(binary: Path, args: tuple[str, ...] = (), timeout_s: float = 10.0, on_timestamp=None):
    """Yield the serial URL of a running `binary` (which prints `serial: <url>`); stop it afterwards.
    on_timestamp(t_us) is called for each falling edge of its timestamp pin (energy builds)."""
    if not Path(binary).is_file():
        raise DutError(f"emulated DUT {binary} does not exist: run the build stage first")
    if not os.access(binary, os.X_OK):
        raise DutError(f"emulated DUT {binary} is not executable (chmod +x it, or build it again)")
    try:
        proc = subprocess.Popen([str(binary), *args], stdout=subprocess.PIPE, text=True,
                                stderr=subprocess.PIPE if on_timestamp else None)
    except OSError as e:  # executable, but not a program this system runs (another architecture, a damaged file)
        raise DutError(f"cannot start the emulated DUT {binary}: {e.strerror or e}") from None
    if on_timestamp:
        threading.Thread(target=_pin, args=(proc.stderr, on_timestamp), daemon=True).start()
    try:
        deadline = time.monotonic() + timeout_s
        line = ""
        while not line.startswith("serial: "):
            ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready or proc.poll() is not None:
                raise DutError(f"emulated DUT {binary} did not report its serial path (exit {proc.poll()})")
            line = proc.stdout.readline().strip()
        yield line.removeprefix("serial: ")
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """End a DUT process: politely, then for good."""
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _pin(stderr, on_timestamp) -> None:
    for line in stderr:
        m = GPIO_EDGE.match(line.strip())
        if m:
            on_timestamp(int(m.group(1)))
