"""One runner session's files, in the MLC runner's formats (spec 3.9, 5.4):
log.txt (everything), results.txt (what the submission checker parses), results.json (per window)."""

from __future__ import annotations

import json
import time
from pathlib import Path


def stamp() -> str:
    return time.strftime("%m%d.%H%M%S")


class Session:
    def __init__(self, folder: Path, mode: str):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.mode = mode
        self._log = open(self.folder / "log.txt", "w")
        self.results: list[dict] = []

    def log(self, message: str) -> None:
        """A runner message: `MMDD.HHMMSS ulp-mlperf: <message>`."""
        self._log.write(f"{stamp()} ulp-mlperf: {message}\n")
        self._log.flush()

    def raw(self, line: str) -> None:
        """DUT traffic and other lines, as they are."""
        self._log.write(line + "\n")

    def write_results(self, lines: list[str]) -> None:
        text = "\n".join(lines) + "\n"
        (self.folder / "results.txt").write_text(text)
        self._log.write(text)
        self._log.flush()

    def close(self) -> None:
        (self.folder / "results.json").write_text(json.dumps(self.results, indent=1) + "\n")
        self._log.close()
