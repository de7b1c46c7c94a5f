"""The runner's files against the MLCommons runner's, for the same DUT replies.

tests/golden/mlc/<case>/ holds what the MLC runner wrote when it drove the project's emulated DUT
(recorded once by tests/golden/record_mlc.py) and the conversation itself. Here a replay DUT gives
our runner the very same replies, after the same delays for slow ones; it must send exactly the
MLC runner's commands (so the same `db` chunking and infer counts), and its results.json and
results.txt must equal the MLC runner's field by field, timestamps aside."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from common import provenance
from runner.cli import run
from tests.golden import replay

GOLDEN = Path(__file__).resolve().parent / "golden" / "mlc"
STAMP = re.compile(r"^\d{4}\.\d{6} ")
# case -> (mode, iterations, warmups), as in the MLC runner's test script of that recording
CASES = {"accuracy": ("accuracy", None, 10), "performance_error2": ("performance", 100, 10),
         "performance": ("performance", 2200, 10)}


def _lines(path: Path) -> list[str]:
    return [STAMP.sub("", line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_files_as_the_mlc_runner(case, tmp_path):
    mode, iterations, warmups = CASES[case]
    dut = replay.ReplayDut(replay.load(GOLDEN / case / "conversation.json"))
    port = dut.start()
    try:
        run(port, GOLDEN / "dataset", tmp_path, [mode], provenance.emulated(), iterations=iterations, warmups=warmups)
    finally:
        dut.close()
    assert dut.mismatches == []
    assert dut.position == len(dut.exchanges)  # every recorded command was sent, in order
    ours = json.loads((tmp_path / mode / "results.json").read_text())
    theirs = json.loads((GOLDEN / case / "results.json").read_text())
    assert len(ours) == len(theirs)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert list(a) == list(b), f"record {k}: keys {list(a)} != {list(b)}"
        assert a == b, f"record {k} differs"
        if "infer" in a:
            assert list(a["infer"]) == list(b["infer"]), f"record {k}: infer keys differ"
    assert _lines(tmp_path / mode / "results.txt") == _lines(GOLDEN / case / "results.txt")


def test_the_recordings_cover_both_performance_outcomes():
    """One recording ends in the median throughput, the other in ERROR 2 instead of it."""
    valid = (GOLDEN / "performance" / "results.txt").read_text()
    invalid = (GOLDEN / "performance_error2" / "results.txt").read_text()
    assert "Median throughput is" in valid and "ERROR" not in valid
    assert "ERROR 2 - loop exited before 10 seconds elapsed." in invalid and "Median" not in invalid
