"""What an interrupted run keeps, and what resuming takes from it.

Beside each mode folder, `<mode>.journal.jsonl` receives every results.json record the moment it
arrives (flushed and synced), so a crash, an unplugged cable or Ctrl-C loses nothing completed. It
sits outside the mode folder, whose file set the submission checker fixes. `--resume` reads it back
(a torn last line is dropped) and keeps what is whole: performance windows and energy trials in
order with one N (`kept_in_order`), accuracy files with every window scored or an error
(`finished_files`); the journal then starts over with just those."""

from __future__ import annotations

import json
import os
from pathlib import Path

from common.eembc_dataset import Entry
from common.errors import DatasetError


class Journal:
    def __init__(self, path: Path, resume: bool = False):
        self.path = Path(path)
        self.previous = self._read() if resume else []  # the records of an earlier, interrupted session
        self._file = open(self.path, "a" if resume else "w")

    def _read(self) -> list[dict]:
        records = []
        if self.path.is_file():
            for line in self.path.read_text().splitlines():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    break
        return records

    def append(self, record: dict) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def keep(self, records: list[dict]) -> None:
        """Start the journal over with the earlier records that resuming keeps."""
        self._file.close()
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
        tmp.replace(self.path)
        self._file = open(self.path, "a")

    def close(self) -> None:
        self._file.close()


def kept_in_order(session, chosen: list[Entry], iterations: int | None, what: str) -> tuple[list[dict], int | None]:
    """The windows (trials) an interrupted session finished, in order, and their N: a record counts
    if it is the next file's and has the N of the others (and of --iterations, when given)."""
    kept: list[dict] = []
    for entry, r in zip(chosen, session.previous):
        n = r.get("infer", {}).get("iterations")
        if r.get("file") != entry.file or n is None or (iterations is not None and n != iterations):
            break
        iterations = n
        kept.append(r)
    if session.previous:
        session.keep(kept)
        session.log(f"resuming: {len(kept)} of {len(chosen)} {what} already done"
                    + (f"; {len(session.previous) - len(kept)} earlier record(s) of other files or another N run again"
                       if len(kept) < len(session.previous) else ""))
    return kept, iterations


def finished_files(session, entries: list[Entry]) -> dict[str, list[dict]]:
    """Records of the files an earlier session finished (every window scored, or an error), kept in
    the journal; a file it was in the middle of is run again from its first window."""
    previous = session.previous
    names = {e.file for e in entries}
    strangers = sorted({r.get("file") for r in previous} - names)
    if strangers:
        raise DatasetError(f"the journal to resume holds files this dataset does not ({', '.join(map(str, strangers[:3]))}): "
                           "resume with the dataset of the interrupted run, or start afresh without --resume")
    by_file: dict[str, list[dict]] = {}
    for r in previous:
        by_file.setdefault(r["file"], []).append(r)
    finished = {e.file: by_file[e.file] for e in entries if e.file in by_file and (
        any("error" in r for r in by_file[e.file]) or sum("infer" in r for r in by_file[e.file]) == len(e.windows()))}
    if previous:  # the journal keeps only the whole files it had
        session.keep([r for e in entries for r in finished.get(e.file, [])])
        session.log(f"resuming: {len(finished)} of {len(entries)} files already done")
    return finished
