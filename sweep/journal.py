"""The sweep's journal: one JSON line per finished trial, appended (and synced to disk) as each
finishes, after a header line naming the sweep (task, flow, board, data, the space as loaded).

Nothing a kill can do loses a finished trial: a line is either whole, or the last one and cut off
mid-write, which opening the journal again drops (that trial runs again). A failed trial retried
(--retry-failed) is appended again: its last line counts, the earlier stays. A journal is only gone
on with when asked (resume), and only by the same sweep: another space in the same folder is an
error naming what differs, never a silent mix of two sweeps in one table."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from common.errors import ConfigError

log = logging.getLogger("sweep")
HEADER = "sweep"


def _differences(a: dict, b: dict, where: str = "") -> list[str]:
    keys = sorted(set(a) | set(b))
    out = []
    for k in keys:
        path = f"{where}.{k}" if where else k
        if isinstance(a.get(k), dict) and isinstance(b.get(k), dict):
            out += _differences(a[k], b[k], path)
        elif a.get(k) != b.get(k):
            out.append(path)
    return out


class Journal:
    def __init__(self, path: Path, header: dict[str, Any], resume: bool):
        self.path = Path(path)
        header = json.loads(json.dumps(header, sort_keys=True, default=str))  # as it reads back from the file
        self.records: list[dict[str, Any]] = []
        lines = self._read_whole_lines()
        if lines:
            found = json.loads(lines[0]).get(HEADER)
            self.records = [self._parse(line, i + 2) for i, line in enumerate(lines[1:])]
            if self.records and not resume:
                raise ConfigError(f"{self.path.parent} holds a sweep with {len(self.records)} finished trial(s): "
                                  f"resume=1 goes on with it (remove the folder to start again)")
            if self.records and found != header:
                raise ConfigError(f"{self.path}: a journal of another sweep (it differs in "
                                  f"{', '.join(_differences(found or {}, header)) or 'its header'}): "
                                  f"resume only the same task, flow, board, data and space")
        if not self.records:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps({HEADER: header}, sort_keys=True) + "\n")

    def _read_whole_lines(self) -> list[str]:
        """The journal's complete lines; a last line cut off by a kill is dropped from the file too, so
        that the next line appended starts on a line of its own."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        whole = raw[:raw.rfind(b"\n") + 1]
        if len(whole) < len(raw):
            log.warning("%s: its last line was cut off (the sweep was killed while writing it): dropped, that trial "
                        "runs again", self.path)
            with open(self.path, "r+b") as fh:
                fh.truncate(len(whole))
        return [line for line in whole.decode().splitlines() if line.strip()]

    def _parse(self, line: str, number: int) -> dict[str, Any]:
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{self.path}:{number}: not a journal line ({e.msg}): the journal was edited or damaged") from None
        if not isinstance(record, dict) or "trial" not in record:
            raise ConfigError(f"{self.path}:{number}: not a trial record")
        return record

    def finished(self) -> set[int]:
        return {r["trial"] for r in self.records}

    def latest(self) -> list[dict[str, Any]]:
        """One record per trial, in trial order: a trial run again (a failed one retried) by its last line."""
        return sorted({r["trial"]: r for r in self.records}.values(), key=lambda r: r["trial"])

    def append(self, record: dict[str, Any]) -> None:
        with open(self.path, "a") as fh:
            fh.write(json.dumps(record, sort_keys=True, default=str) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.records.append(record)
