"""Whether a run's accuracy mode used exactly an official MLPerf Tiny test set (results/official/README.md):
the same file names with the same classes, and, where the official list keeps content digests
(kws01), the same bytes in the test folder the run read, unchanged since the run."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from common.jsonio import read_json
from results.runs import Run

FOLDER = Path(__file__).with_name("official")
LISTS = {"kws01": ("kws01",), "ic01": ("ic01",), "ad01": ("ad01", "ad01_alt"), "vww01": ()}


@dataclass(frozen=True)
class OfficialSet:
    name: str
    labels: dict[str, int]  # file -> class
    digests: dict[str, str]  # file -> sha256 of its content, where known


def load(name: str) -> OfficialSet:
    with open(FOLDER / f"{name}.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return OfficialSet(name, {r["file"]: int(r["class"]) for r in rows}, {r["file"]: r["sha256"] for r in rows if r["sha256"]})


def sets_for(model_id: str) -> list[OfficialSet]:
    return [load(name) for name in LISTS.get(model_id, ())]


def _difference(used: set[str], official: OfficialSet) -> str:
    missing, extra = sorted(set(official.labels) - used), sorted(used - set(official.labels))
    return (f"{len(used)} files against the {len(official.labels)} of {official.name}: {len(missing)} of its files missing"
            + (f" (e.g. {missing[0]})" if missing else "") + f", {len(extra)} not in it"
            + (f" (e.g. {extra[0]})" if extra else ""))


def test_folder(run: Run) -> Path | None:
    """The folder of test files the run read: its testset=, else the data stage's EEMBC export."""
    if run.params.get("testset"):
        return Path(run.params["testset"])
    data = run.task_root / "data" / "manifest.json"
    try:
        eembc = read_json(data)["outputs"]["artifacts"]["eembc"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return data.parent / eembc / run.summary["model"]


def _sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def _changed_since_run(run: Run, folder: Path) -> list[str]:
    """Test files whose size or time differ from what the run stage recorded when it ran."""
    recorded = {name: (size, mtime) for name, size, mtime in run.params.get("content") or []}
    return [name for name, was in recorded.items() if _size_and_time(folder / name) != tuple(was)]


def _size_and_time(path: Path) -> tuple[int, int] | None:
    return (path.stat().st_size, path.stat().st_mtime_ns) if path.is_file() else None


def _content_refusals(run: Run, official: OfficialSet) -> list[str]:
    folder = test_folder(run)
    if folder is None or not folder.is_dir():
        return [f"the test files the run read ({folder or 'no test folder recorded'}) are not here: their content cannot be "
                f"checked against the {official.name} digests"]
    changed = _changed_since_run(run, folder)
    if changed:
        return [f"{len(changed)} file(s) of {folder} changed since the run (e.g. {changed[0]}): not the files it read"]
    wrong = [name for name, digest in official.digests.items() if _sha256(folder / name) != digest]
    if wrong:
        return [f"{len(wrong)} test file(s) of {folder} are not the official {official.name} content (e.g. {wrong[0]})"]
    return []


def refusals(run: Run, files: list[str], labels: dict[str, int]) -> list[str]:
    """Why the accuracy run's files (every file it ran, its classes) are not an official test set; [] if they are."""
    model_id = run.summary["model"]
    sets = sets_for(model_id)
    if not sets:
        return [f"no official test list for {model_id} is kept in results/official/: its accuracy cannot be shown official"]
    used = set(files)
    official = next((s for s in sets if set(s.labels) == used), None)
    if official is None:
        closest = min(sets, key=lambda s: len(set(s.labels) ^ used))
        return [f"the accuracy run did not use an official test set: {_difference(used, closest)}"]
    mislabelled = sorted(f for f, c in labels.items() if official.labels[f] != c)
    if mislabelled:
        return [f"{len(mislabelled)} file(s) carry another class than in {official.name} (e.g. {mislabelled[0]})"]
    return _content_refusals(run, official) if official.digests else []
