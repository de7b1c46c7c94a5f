"""One runner session's files, in the MLC runner's formats (spec 3.9, 5.4):
log.txt (everything, written as it happens), results.txt (only the lines the submission checker
parses, as the MLC runner writes them), results.json (one record per inference window, in the MLC
runner's shape). results.json is written when the session closes, also when it ends in an error.

Beside the mode folder, `<mode>.journal.jsonl` receives every record the moment it arrives (flushed
and synced), so a crash, an unplugged cable or Ctrl-C loses nothing completed and `--resume` can
go on from there. It sits outside the mode folder, whose file set the submission checker fixes."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from common.jsonio import write_json

MODE_LETTERS = {"performance": "p", "accuracy": "a", "energy": "e"}


def stamp() -> str:
    return time.strftime("%m%d.%H%M%S")


class Session:
    def __init__(self, folder: Path, mode: str, resume: bool = False):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.mode = mode
        self.letter = MODE_LETTERS[mode]
        self.journal_path = self.folder.with_name(f"{self.folder.name}.journal.jsonl")
        self.previous = self._read_journal() if resume else []
        self._log = open(self.folder / "log.txt", "a" if resume else "w")
        self._journal = open(self.journal_path, "a" if resume else "w")
        self.results: list[dict] = []

    def _read_journal(self) -> list[dict]:
        """The records of an earlier, interrupted session (a torn last line is dropped)."""
        records = []
        if self.journal_path.is_file():
            for line in self.journal_path.read_text().splitlines():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    break
        return records

    def keep(self, records: list[dict]) -> None:
        """Start the journal over with the earlier records that resuming keeps (whole files only)."""
        self._journal.close()
        tmp = self.journal_path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
        tmp.replace(self.journal_path)
        self._journal = open(self.journal_path, "a")
        self.results.extend(records)

    def log(self, message: str) -> None:
        """A runner message: `MMDD.HHMMSS ulp-mlperf: <message>`."""
        self.raw(f"{stamp()} ulp-mlperf: {message}")

    def raw(self, line: str) -> None:
        """DUT traffic and other lines, as they are."""
        self._log.write(line + "\n")
        self._log.flush()

    def record(self, record: dict) -> None:
        record = {**record, "mode": self.letter}
        self.results.append(record)
        self._journal.write(json.dumps(record) + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())

    def write_results(self, lines: list[str]) -> None:
        text = "\n".join(lines) + "\n"
        (self.folder / "results.txt").write_text(text)
        self._log.write(text)
        self._log.flush()

    def close(self) -> None:
        write_json(self.folder / "results.json", self.results, indent=None)
        self._log.close()
        self._journal.close()
