"""Start a board's bare-metal firmware in QEMU with its UART on a local TCP port, and give the
runner the pyserial URL (socket://127.0.0.1:PORT) to reach it, as it reaches a board's port.

QEMU is started with `-serial tcp:...,server=on,wait=on,nodelay=on` (docs/toolchains.md B.2): it waits
for the first client before the guest runs, so that client sees the boot banner, and nodelay keeps
a command's round trip under a millisecond. The runner never depends on the banner anyway (it
pokes with `name%`)."""

from __future__ import annotations

import select
import shutil
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from common.errors import DutError
from runner.emulated import stop

LISTENING = "QEMU waiting for connection on:"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(qemu: list[str], elf: Path, port: int) -> list[str]:
    return [*qemu, "-display", "none", "-monitor", "none", "-serial",
            f"tcp:127.0.0.1:{port},server=on,wait=on,nodelay=on", "-kernel", str(elf)]


@contextmanager
def qemu_dut(elf: Path, qemu: list[str], timeout_s: float = 10.0, attempts: int = 3):
    """Yield the serial URL of `elf` running under the QEMU command `qemu` (machine and memory
    options, as board.yaml firmware.qemu.command gives them); stop QEMU afterwards."""
    if not Path(elf).is_file():
        raise DutError(f"firmware {elf} does not exist: run the build stage first")
    if shutil.which(qemu[0]) is None:
        raise DutError(f"{qemu[0]} not found on PATH: make setup installs it (Debian qemu-system-arm / qemu-system-misc)")
    for attempt in range(attempts):  # the free port can be taken between our check and QEMU's bind
        port = _free_port()
        proc = subprocess.Popen(command(qemu, elf, port), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline, said = time.monotonic() + timeout_s, []
        while proc.poll() is None and time.monotonic() < deadline:
            if not select.select([proc.stderr], [], [], max(0.0, deadline - time.monotonic()))[0]:
                continue
            line = proc.stderr.readline()
            said.append(line)
            if LISTENING in line:  # "qemu-system-arm: -serial tcp:...: info: QEMU waiting for connection on: ..."
                break
        else:
            proc.kill()
            proc.wait()
            if attempt + 1 < attempts and any("Address already in use" in s for s in said + [proc.stderr.read()]):
                continue
            raise DutError(f"QEMU did not start {elf} ({' '.join(qemu)}): {''.join(said).strip() or 'no output'}")
        threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep QEMU's later messages from filling the pipe
        try:
            yield f"socket://127.0.0.1:{port}"
        finally:
            stop(proc)
        return
