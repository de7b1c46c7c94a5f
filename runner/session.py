"""One runner session's files, in the MLC runner's formats (spec 3.9, 5.4):
log.txt (everything, written as it happens), results.txt (only the lines the submission checker
parses, as the MLC runner writes them), results.json (one record per inference window, in the MLC
runner's shape). results.json is written when the session closes, also when it ends in an error,
so the records received so far stay on disk."""

from __future__ import annotations

import time
from pathlib import Path

from common.jsonio import write_json

MODE_LETTERS = {"performance": "p", "accuracy": "a", "energy": "e"}


def stamp() -> str:
    return time.strftime("%m%d.%H%M%S")


class Session:
    def __init__(self, folder: Path, mode: str):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.mode = mode
        self.letter = MODE_LETTERS[mode]
        self._log = open(self.folder / "log.txt", "w")
        self.results: list[dict] = []

    def log(self, message: str) -> None:
        """A runner message: `MMDD.HHMMSS ulp-mlperf: <message>`."""
        self.raw(f"{stamp()} ulp-mlperf: {message}")

    def raw(self, line: str) -> None:
        """DUT traffic and other lines, as they are."""
        self._log.write(line + "\n")
        self._log.flush()

    def record(self, record: dict) -> None:
        self.results.append({**record, "mode": self.letter})

    def write_results(self, lines: list[str]) -> None:
        text = "\n".join(lines) + "\n"
        (self.folder / "results.txt").write_text(text)
        self._log.write(text)
        self._log.flush()

    def close(self) -> None:
        write_json(self.folder / "results.json", self.results, indent=None)
        self._log.close()
