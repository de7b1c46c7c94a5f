"""A scripted DUT on a real pty, for the runner's fault paths: it speaks the protocol (name,
profile, db, infer) with results and timings chosen by the test, or misbehaves on purpose."""

from __future__ import annotations

import os
import threading
import time
import tty
from collections.abc import Callable

READY = b"m-ready\r\n"


class FakeDut:
    def __init__(self, score: Callable[[bytes], str] = lambda data: "1.0", us_per_inference: int = 100,
                 model: str = "ad01", chatter: bytes | None = None, laps: bool = True, name: str = "fake"):
        """score(loaded bytes) -> the text inside m-results-[...]; chatter: sent again and again."""
        self.score, self.us, self.model, self.chatter, self.laps = score, us_per_inference, model, chatter, laps
        self.name = name  # what `name` answers: m-name-dut-[name]
        self.commands: list[str] = []
        self.clock = 1000
        self._expected, self._data = 0, b""
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self._alive = True
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        if chatter:
            threading.Thread(target=self._chatter, daemon=True).start()

    def _chatter(self) -> None:
        while self._alive:
            try:
                os.write(self.master, self.chatter)
            except OSError:
                return
            time.sleep(0.01)

    def answer(self, command: str) -> bytes:
        words = command.split()
        if not words:
            return READY
        if words[0] == "name":
            return f"m-name-dut-[{self.name}]\r\n".encode() + READY
        if words[0] == "profile":
            return f"m-profile-[ULPMark for tinyML Firmware V0.0.1]\r\nm-model-[{self.model}]\r\n".encode() + READY
        if words[:2] == ["db", "load"]:
            self._expected, self._data = int(words[2]), b""
            return f"m-[Expecting {words[2]} bytes]\r\n".encode() + READY
        if words[0] == "db":
            self._data += bytes.fromhex(words[1])
            return (b"m-load-done\r\n" if len(self._data) == self._expected else b"") + READY
        if words[0] == "infer":
            n, w = int(words[1]), int(words[2])
            start = self.clock
            self.clock += n * self.us
            laps = f"m-lap-us-{start}\r\nm-lap-us-{self.clock}\r\n" if self.laps else ""
            return (f"m-warmup-start-{w}\r\nm-warmup-done\r\nm-infer-start-{n}\r\n{laps}m-infer-done\r\n"
                    f"m-results-[{self.score(self._data)}]\r\n").encode() + READY
        return f"e-[Unknown command: {words[0]}]\r\n".encode() + READY

    def _serve(self) -> None:
        buffer = b""
        while self._alive:
            try:
                buffer += os.read(self.master, 4096)
            except OSError:
                return
            while b"%" in buffer:
                command, buffer = buffer.split(b"%", 1)
                self.commands.append(command.decode())
                reply = self.answer(command.decode())
                if not self._alive:  # closed while answering: the fd numbers may belong to a new pty now
                    return
                try:
                    os.write(self.master, reply)
                except OSError:  # unplugged by the test
                    return

    def close(self) -> None:
        """Stop answering, then release the pty (the serving thread first, so it never writes to
        a file descriptor number that a later pty reuses)."""
        self._alive = False
        for fd in (self._slave, self.master):
            try:
                os.close(fd)
            except OSError:
                pass
            self._thread.join(timeout=2)


def write_ad_dataset(root, scores: list[float] | None = None, files: int = 6, windows: int = 4, labels=None) -> None:
    """An ad01 folder of `files` files of `windows` windows; every window's first byte holds the file's
    index i, so a FakeDut score function can tell the files apart."""
    import numpy as np

    folder = root / "ad01"
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(files):
        data = bytearray(np.full(640 + 128 * (windows - 1), -30.0, dtype="<f4").tobytes())
        data[::512] = bytes([i]) * len(data[::512])
        label = labels[i] if labels is not None else int(i >= files // 2)
        name = f"{'anomaly' if label else 'normal'}_id_01_{i:08d}_hist_librosa.bin"
        (folder / name).write_bytes(bytes(data))
        rows.append(f"{name},2,{label},2560,512")
    (folder / "y_labels.csv").write_text("\n".join(rows) + "\n")
