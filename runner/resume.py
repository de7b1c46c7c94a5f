"""What an interrupted run keeps, and what resuming takes from it.

Beside each mode folder, `<mode>.journal.jsonl` receives every results.json record the moment it
arrives (flushed and synced), so a crash, an unplugged cable or Ctrl-C loses nothing completed. It
sits outside the mode folder, whose file set the submission checker fixes. `--resume` reads it back
and keeps what is whole: performance windows and energy trials in order with one N (`kept_in_order`),
accuracy files with every window scored or an error (`finished_files`); the journal then starts over
with just those. Nothing read back is trusted: a line that is not a JSON object (a torn last line,
damage) and a record that fails its mode's check (`Check`: its figures recomputed from its raw values)
are dropped, named in the log, and measured again."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from common.eembc_dataset import Entry
from common.errors import ConfigError, DatasetError

# A mode's check of one kept record against the file it should be of: why it cannot be kept, or None.
Check = Callable[[dict, Entry], "str | None"]


class Journal:
    def __init__(self, path: Path, resume: bool = False):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_file():
            raise ConfigError(f"the journal {self.path} is not a file: move it away, or write the run to another --out")
        self.damaged: list[tuple[int, str]] = []  # (line number, why) of the lines that held no record
        self.previous = self._read() if resume else []  # the records of an earlier, interrupted session
        self._file = open(self.path, "a" if resume else "w")

    def _read(self) -> list[tuple[int, dict]]:
        """(line number, record) of every line that is a JSON object."""
        records = []
        if self.path.is_file():
            for n, raw in enumerate(self.path.read_bytes().splitlines(), 1):
                try:
                    record = json.loads(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    self.damaged.append((n, "not UTF-8 text"))
                    continue
                except json.JSONDecodeError:
                    self.damaged.append((n, "not whole JSON"))  # a torn last line, or damage
                    continue
                if isinstance(record, dict):
                    records.append((n, record))
                else:
                    self.damaged.append((n, f"a JSON {type(record).__name__}, not a record"))
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


def is_number(value) -> bool:
    """A JSON number (json reads NaN and Infinity as floats too; bool is an int in Python, not here)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def infer_problem(record: dict, entry: Entry) -> str | None:
    """What every kept `infer` record needs: to be of the file it stands for, a positive N and a
    result vector of numbers."""
    if record.get("file") != entry.file:
        return f"file {str(record.get('file'))[:60]}, not {entry.file}"
    infer = record.get("infer")
    if not isinstance(infer, dict):
        return f"infer {str(infer)[:40]}, not a record of an inference"
    n = infer.get("iterations")
    if not (isinstance(n, int) and not isinstance(n, bool) and n > 0):
        return f"iterations {n}, not a count"
    results = infer.get("results")
    if not (isinstance(results, list) and all(map(is_number, results))):
        return f"results {str(results)[:60]}, not numbers"
    return None


def _drop(session, line: int, why: str) -> None:
    session.log(f"resuming: journal line {line} dropped ({why}): it is measured again")


def _log_damage(session) -> None:
    for line, why in session.journal.damaged:
        _drop(session, line, why)


def kept_in_order(session, chosen: list[Entry], iterations: int | None, what: str,
                  check: Check | None = None) -> tuple[list[dict], int | None]:
    """The windows (trials) an interrupted session finished, in order, and their N: a record counts
    if it is the next file's, passes infer_problem and the mode's check, and has the N of the others
    (and of --iterations, when given)."""
    _log_damage(session)
    kept: list[dict] = []
    for entry, (line, r) in zip(chosen, session.previous):
        problem = infer_problem(r, entry) or (check and check(r, entry))
        if problem:
            _drop(session, line, problem)
            break
        n = r["infer"]["iterations"]
        if iterations is not None and n != iterations:
            break
        iterations = n
        kept.append(r)
    if session.previous:
        session.keep(kept)
        session.log(f"resuming: {len(kept)} of {len(chosen)} {what} already done"
                    + (f"; {len(session.previous) - len(kept)} earlier record(s) of other files or another N run again"
                       if len(kept) < len(session.previous) else ""))
    return kept, iterations


def finished_files(session, entries: list[Entry], check: Check = infer_problem) -> dict[str, list[dict]]:
    """Records of the files an earlier session finished (every window passing the check, or an
    error that left the file out), in the dataset's order, kept in the journal; from the first file
    it was in the middle of, or with a record that fails, every file is run again."""
    _log_damage(session)
    by_name = {e.file: e for e in entries}
    named = []
    for line, r in session.previous:
        if isinstance(r.get("file"), str):
            named.append((line, r))
        else:
            _drop(session, line, f"file {str(r.get('file'))[:40]}, not a file name")
    strangers = sorted({r["file"] for _, r in named} - set(by_name))
    if strangers:
        raise DatasetError(f"the journal to resume holds files this dataset does not ({', '.join(strangers[:3])}): "
                           "resume with the dataset of the interrupted run, or start afresh without --resume")
    by_file: dict[str, list[tuple[int, dict]]] = {}
    for line, r in named:
        by_file.setdefault(r["file"], []).append((line, r))
    finished: dict[str, list[dict]] = {}
    for entry in entries:  # the files in order, up to the first one not finished: results.json keeps the file order
        records = by_file.get(entry.file, [])
        problems = [] if any(isinstance(r.get("error"), str) for _, r in records) else (  # an error: results unused
            [(line, problem) for line, r in records if (problem := check(r, entry))])
        for line, problem in problems:
            _drop(session, line, problem)
        if problems or not records or (not any("error" in r for _, r in records) and len(records) != len(entry.windows())):
            break
        finished[entry.file] = [r for _, r in records]
    if session.previous:  # the journal keeps only the whole files it had
        session.keep([r for e in entries for r in finished.get(e.file, [])])
        session.log(f"resuming: {len(finished)} of {len(entries)} files already done")
    return finished
