"""Start a board's bare-metal firmware in QEMU with its UART on a local TCP port, and give the
runner the pyserial URL (socket://127.0.0.1:PORT) to reach it, as it reaches a board's port.

QEMU is started with `-serial tcp:...,server=on,wait=on,nodelay=on` (docs/toolchains.md B.2): it waits
for the first client before the guest runs, so that client sees the boot banner, and nodelay keeps
a command's round trip under a millisecond. The runner never depends on the banner anyway (it
pokes with `name%`).

Clients do not reach QEMU's port directly but a relay in front of it (`Relay`), QEMU's one client
for the whole session: a guest's UART cannot tell that the host on the other end changed, so the
relay tells it, with the protocol core's cancel byte (EE_CMD_CANCEL, boards/common/firmware/ee_core.h)
before the first byte of each later client. A command that a client left half-sent when it went
away is then discarded instead of being prefixed to the next client's first command. While no client
is connected the guest's output is dropped, as a UART's with nobody listening."""

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
CANCEL = b"\x18"  # EE_CMD_CANCEL: the protocol core discards the partial command it holds


class Relay:
    """A TCP port in front of QEMU's serial port (module docstring): one client at a time, relayed
    byte for byte; each client after the first is announced to the guest with CANCEL."""

    def __init__(self, qemu_port: int):
        self.qemu_port = qemu_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"socket://127.0.0.1:{self.listener.getsockname()[1]}"
        self._wake_r, self._wake_w = socket.socketpair()  # close() wakes the thread with it
        self._thread = threading.Thread(target=self._serve, name="qemu-relay", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._wake_w.send(b"x")
        self._thread.join(timeout=5)
        for s in (self.listener, self._wake_r, self._wake_w):
            s.close()

    def _serve(self) -> None:
        qemu: socket.socket | None = None
        client: socket.socket | None = None
        try:
            while True:
                waiting = [self._wake_r, client or self.listener, *([qemu] if qemu else [])]
                for ready in select.select(waiting, [], [])[0]:
                    if ready is self._wake_r:
                        return
                    if ready is self.listener:
                        client = self._accept()
                        if qemu is None:  # the first client: QEMU starts the guest now, its banner for this client
                            qemu = socket.create_connection(("127.0.0.1", self.qemu_port), timeout=10)
                            qemu.settimeout(None)  # a guest busy with a long `infer` reads its UART late
                            qemu.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                        else:
                            qemu.sendall(CANCEL)
                    elif ready is qemu:
                        data = qemu.recv(65536)
                        if not data:
                            return  # QEMU went away: the client sees the link close, later ones are refused
                        if client is not None:
                            try:
                                client.sendall(data)
                            except OSError:  # the client went away: its end closes below
                                client.close()
                                client = None
                    elif ready is client and qemu is not None:
                        try:
                            data = client.recv(65536)
                        except OSError:
                            data = b""
                        if data:
                            qemu.sendall(data)
                        else:
                            client.close()
                            client = None
        except OSError:
            return  # QEMU's end failed: as if it went away
        finally:
            for s in (client, qemu, self.listener):
                if s is not None:
                    s.close()

    def _accept(self) -> socket.socket:
        conn, _ = self.listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn


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
        relay = Relay(port)
        try:
            yield relay.url
        finally:
            stop(proc)
            relay.close()
        return
