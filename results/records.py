"""The raw files of one mode of a run (docs/mlperf-tiny.md 3.9): results.json (a record per window,
file window or trial), results.txt, log.txt, and the journal the runner kept beside the mode folder
(runner/resume.py), read with a clear message for anything missing, empty, truncated or not matching."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from common.errors import HarnessError

MODE_FILES = ("log.txt", "results.txt", "results.json")


class RecordsError(HarnessError):
    """A run's result files are missing, empty, truncated, or disagree with each other."""


@dataclass
class ModeRecords:
    mode: str
    folder: Path
    records: list[dict]  # results.json
    results_txt: str

    @property
    def inferences(self) -> list[dict]:
        """The records of windows (trials) that ran, in order; the error records left out."""
        return [r for r in self.records if "infer" in r]


def _present(folder: Path, mode: str) -> None:
    if not folder.is_dir():
        raise RecordsError(f"{folder.parent} has no {mode}/ folder: the run made no {mode} result (run that mode)")
    for name in MODE_FILES:
        path = folder / name
        if not path.is_file():
            raise RecordsError(f"{path} is missing: the {mode} result is not complete")
        if path.stat().st_size == 0:
            raise RecordsError(f"{path} is empty: the runner writes every {mode} session into it; the result is not complete")


def _json_list(path: Path, what: str) -> list[dict]:
    try:
        records = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise RecordsError(f"{path} is truncated or not JSON ({e}): {what}") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise RecordsError(f"{path} is not a list of records: {what}")
    return records


def _journal(folder: Path) -> list[dict] | None:
    """The records the runner journaled as they arrived, or None when the run kept no journal."""
    path = folder.with_name(f"{folder.name}.journal.jsonl")
    if not path.is_file():
        return None
    try:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise RecordsError(f"{path} is not whole ({e}): the journal of a finished run holds every record") from None


def _check_journal(folder: Path, records: list[dict]) -> None:
    """results.json holds what the journal received (plus the runner's own error lines, which name no file)."""
    journal = _journal(folder)
    per_file = [r for r in records if "file" in r]
    if journal is not None and journal != per_file:
        k = next((i for i, (a, b) in enumerate(zip(journal, per_file)) if a != b), min(len(journal), len(per_file)))
        raise RecordsError(f"{folder / 'results.json'} does not hold the records its journal received "
                           f"({len(per_file)} against {len(journal)}, first difference at record {k + 1}): edited after the run")


def read(run_path: Path, mode: str) -> ModeRecords:
    folder = Path(run_path) / mode
    _present(folder, mode)
    records = _json_list(folder / "results.json", f"the runner writes it whole when the {mode} session ends")
    _check_journal(folder, records)
    return ModeRecords(mode, folder, records, (folder / "results.txt").read_text(errors="replace"))
