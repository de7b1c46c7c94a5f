"""One runner session's files in a mode folder (docs/mlperf-tiny.md 3.9, 5.4): log.txt (everything, written as it
happens), results.txt (only the lines the submission checker parses) and results.json (one record
per inference window), in the MLC runner's formats (mlc_format.py). results.json is written when
the session closes, also when it ends in an error; every record also goes to the journal beside
the folder the moment it arrives (resume.py)."""

from __future__ import annotations

from pathlib import Path

from common.jsonio import write_json
from runner.mlc_format import runner_line
from runner.modes import MODE_LETTERS
from runner.resume import Journal


class Session:
    def __init__(self, folder: Path, mode: str, resume: bool = False):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.mode = mode
        self.letter = MODE_LETTERS[mode]
        self.journal = Journal(self.folder.with_name(f"{self.folder.name}.journal.jsonl"), resume)
        self.journal_path = self.journal.path
        self.previous = self.journal.previous
        self._log = open(self.folder / "log.txt", "a" if resume else "w")
        self.results: list[dict] = []

    def keep(self, records: list[dict]) -> None:
        """Go on from these earlier records (resume.py chooses them): the journal starts over with them."""
        self.journal.keep(records)
        self.results.extend(records)

    def log(self, message: str) -> None:
        """A runner message: `MMDD.HHMMSS ulp-mlperf: <message>`."""
        self.raw(runner_line(message))

    def raw(self, line: str) -> None:
        """DUT traffic and other lines, as they are."""
        self._log.write(line + "\n")
        self._log.flush()

    def record(self, record: dict) -> None:
        record = {**record, "mode": self.letter}
        self.results.append(record)
        self.journal.append(record)

    def write_results(self, lines: list[str]) -> None:
        text = "\n".join(lines) + "\n"
        (self.folder / "results.txt").write_text(text)
        self._log.write(text)
        self._log.flush()

    def close(self) -> None:
        write_json(self.folder / "results.json", self.results, indent=None)
        self._log.close()
        self.journal.close()
