"""A sweep's progress: one line per finished trial with what it measured, the counts so far and the
time left, estimated from this invocation's own pace (finished trials per wall-clock second, so
that parallel workers and trials that reuse stages both count as they really went)."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min {s:02d} s" if m else f"{s} s"


class Progress:
    def __init__(self, total: int, already: int, objectives: list[str], out: TextIO = sys.stderr):
        self.total, self.finished, self.objectives, self.out = total, already, objectives, out
        self.start = time.time()
        self.ran = 0
        self.counts: dict[str, int] = {}

    def eta(self) -> float | None:
        if self.ran == 0:
            return None
        return (time.time() - self.start) / self.ran * (self.total - self.finished)

    def trial_done(self, record: dict[str, Any]) -> str:
        self.finished += 1
        self.ran += 1
        self.counts[record["status"]] = self.counts.get(record["status"], 0) + 1
        m = record["metrics"]
        figures = ", ".join(f"{o} {m[o]:.4g}" for o in self.objectives if m.get(o) is not None)
        seconds = sum(p["seconds"] for p in record["phases"].values())
        nodes = ", ".join(sorted({p["node"][:8] for p in record["phases"].values()}))
        what = f"({figures})" if record["status"] == "done" else f"({figures}; {record['error']})" if figures else \
            f"({record['error']})"
        others = ", ".join(f"{n} {s}" for s, n in sorted(self.counts.items()) if s != "done")
        eta = self.eta()
        line = (f"sweep: trial {record['trial']} {record['status']} in {duration(seconds)} on node {nodes} {what}"
                f" | {self.finished}/{self.total} finished{f' ({others})' if others else ''}"
                f"{f', ETA {duration(eta)}' if eta is not None and self.finished < self.total else ''}")
        print(line, file=self.out, flush=True)
        return line
