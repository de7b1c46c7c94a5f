"""Start an emulated DUT (a host build of the firmware) and find the serial path it prints."""

from __future__ import annotations

import select
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from common.errors import DutError


@contextmanager
def emulated_dut(binary: Path, args: tuple[str, ...] = (), timeout_s: float = 10.0):
    """Yield the serial URL of a running `binary` (which prints `serial: <url>`); stop it afterwards."""
    if not Path(binary).is_file():
        raise DutError(f"emulated DUT {binary} does not exist: run the build stage first")
    proc = subprocess.Popen([str(binary), *args], stdout=subprocess.PIPE, text=True)
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
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
