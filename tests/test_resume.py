"""Nothing completed is lost when a run stops (a DUT that vanishes, Ctrl-C), and --resume gives
exactly the figures of an uninterrupted run."""

from __future__ import annotations

import _thread
import json
import os
import re
import threading

import pytest

from common import provenance
from common.errors import DatasetError, DutLost
from runner.cli import main as runner_main
from runner.cli import run
from tests.fake_dut import FakeDut, write_ad_dataset

EMULATED = provenance.emulated()
STAMP = re.compile(r"^\d{4}\.\d{6} ")


def _score(data: bytes) -> str:
    return f"{1.0 + data[0] * 0.37:.4f}"


def _outcome(out):
    text = [STAMP.sub("", line) for line in (out / "accuracy" / "results.txt").read_text().splitlines()]
    records = json.loads((out / "accuracy" / "results.json").read_text())
    return text, [(r["file"], r.get("infer", {}).get("results"), r.get("error")) for r in records]


@pytest.fixture
def data(tmp_path):
    write_ad_dataset(tmp_path / "data", files=6, windows=5)
    return tmp_path / "data"


@pytest.fixture
def uninterrupted(data, tmp_path):
    dut = FakeDut(score=_score)
    try:
        run(dut.port, data, tmp_path / "whole", ["accuracy"], EMULATED)
    finally:
        dut.close()
    return _outcome(tmp_path / "whole")


def test_a_run_cut_by_a_vanishing_dut_resumes_to_the_same_figures(data, tmp_path, uninterrupted):
    dying = FakeDut(score=_score)
    plain, infers = dying.answer, []

    def answer(command):
        if command.startswith("infer"):
            infers.append(command)
            if len(infers) == 13:  # in the middle of the third file: unplugged
                os.close(dying.master)
                return b""
        return plain(command)

    dying.answer = answer
    with pytest.raises(DutLost):
        run(dying.port, data, tmp_path / "out", ["accuracy"], EMULATED)
    journal = [json.loads(line) for line in (tmp_path / "out" / "accuracy.journal.jsonl").read_text().splitlines()]
    assert len(journal) == 12  # every completed window kept, durably
    assert not (tmp_path / "out" / "accuracy" / "results.txt").exists()

    fresh = FakeDut(score=_score)
    try:
        run(fresh.port, data, tmp_path / "out", ["accuracy"], EMULATED, resume=True)
    finally:
        fresh.close()
    assert sum(c.startswith("infer") for c in fresh.commands) == 30 - 10  # two whole files were not run again
    assert _outcome(tmp_path / "out") == uninterrupted


def test_ctrl_c_keeps_what_was_done_and_resume_finishes(data, tmp_path, uninterrupted, capsys):
    slow = FakeDut(score=_score)
    plain = slow.answer
    count = []

    def answer(command):
        if command.startswith("infer"):
            count.append(command)
            if len(count) == 8:
                threading.Timer(0.0, _thread.interrupt_main).start()  # the user presses Ctrl-C
                threading.Event().wait(0.3)
        return plain(command)

    slow.answer = answer
    args = ["--port", slow.port, "--dataset", str(data), "--mode", "a", "--out", str(tmp_path / "out"),
            "--dut-kind", "host-emulation"]
    try:
        assert runner_main(args) == 130
    finally:
        slow.close()
    assert "add --resume to go on" in capsys.readouterr().err
    assert (tmp_path / "out" / "accuracy" / "results.json").is_file()
    fresh = FakeDut(score=_score)
    try:
        assert runner_main([*args[:1], fresh.port, *args[2:], "--resume"]) == 0
    finally:
        fresh.close()
    assert _outcome(tmp_path / "out") == uninterrupted


def test_a_torn_last_journal_line_is_dropped(data, tmp_path, uninterrupted):
    out = tmp_path / "out"
    (out / "accuracy").mkdir(parents=True)
    whole = (tmp_path / "whole" / "accuracy.journal.jsonl").read_text().splitlines()
    (out / "accuracy.journal.jsonl").write_text("\n".join(whole[:7]) + "\n" + whole[7][:20])
    dut = FakeDut(score=_score)
    try:
        run(dut.port, data, out, ["accuracy"], EMULATED, resume=True)
    finally:
        dut.close()
    assert sum(c.startswith("infer") for c in dut.commands) == 30 - 5  # the first file was whole
    assert _outcome(out) == uninterrupted


def test_resuming_with_another_dataset_is_refused(data, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "accuracy.journal.jsonl").write_text(json.dumps({"file": "someone_else.bin", "infer": {"results": [1.0]}}) + "\n")
    dut = FakeDut(score=_score)
    try:
        with pytest.raises(DatasetError, match="someone_else.bin"):
            run(dut.port, data, out, ["accuracy"], EMULATED, resume=True)
    finally:
        dut.close()


def test_resume_needs_the_out_folder(data, capsys):
    with pytest.raises(SystemExit):
        runner_main(["--port", "/dev/null", "--dataset", str(data), "--resume"])
    assert "--resume needs the --out folder" in capsys.readouterr().err


MODELED = provenance.emulated().model_copy(update={"timing": "modeled"})  # windows of any length are scored


def _timed_dut() -> FakeDut:
    """A DUT whose time per inference depends on the input, so every window has its own throughput."""
    dut = FakeDut(score=_score)
    plain = dut.answer

    def answer(command):
        if command.startswith("infer"):
            dut.us = 100 + dut._data[0]
        return plain(command)

    dut.answer = answer
    return dut


def _performance(out):
    text = [STAMP.sub("", line) for line in (out / "performance" / "results.txt").read_text().splitlines()]
    records = json.loads((out / "performance" / "results.json").read_text())  # a fresh DUT's clock starts anew:
    return text, [(r["file"], r["infer"]["results"], r["infer"]["elapsed_time"], r["infer"]["throughput"]) for r in records]


def test_performance_resumes_after_the_windows_it_finished(data, tmp_path):
    whole = _timed_dut()
    try:
        run(whole.port, data, tmp_path / "whole", ["performance"], MODELED, iterations=50)
    finally:
        whole.close()
    dying = _timed_dut()
    plain, infers = dying.answer, []

    def answer(command):
        if command.startswith("infer"):
            infers.append(command)
            if len(infers) == 5:  # the fourth window (after the probe that times the host): unplugged
                os.close(dying.master)
                return b""
        return plain(command)

    dying.answer = answer
    with pytest.raises(DutLost):
        run(dying.port, data, tmp_path / "out", ["performance"], MODELED, iterations=50)
    fresh = _timed_dut()
    try:
        summary = run(fresh.port, data, tmp_path / "out", ["performance"], MODELED, iterations=50, resume=True)
    finally:
        fresh.close()
    # (modeled timing: a short probe first times the host, whose time is not the DUT's clock)
    assert [c for c in fresh.commands if c.startswith("infer")] == ["infer 1 1"] + ["infer 50 10"] * 2
    assert _performance(tmp_path / "out") == _performance(tmp_path / "whole")
    assert len(set(summary["performance"]["window_throughputs"])) == 5  # five different windows, in order
    assert "resuming: 3 of 5 windows already done" in (tmp_path / "out" / "performance" / "log.txt").read_text()

    # the same folder resumed with another N: the kept windows do not count, all five run again
    other = _timed_dut()
    try:
        run(other.port, data, tmp_path / "out", ["performance"], MODELED, iterations=60, resume=True)
    finally:
        other.close()
    assert [c for c in other.commands if c.startswith("infer")] == ["infer 1 1"] + ["infer 60 10"] * 5
    assert ("5 earlier record(s) of other files or another N run again"
            in (tmp_path / "out" / "performance" / "log.txt").read_text())


# ---- a damaged journal: no traceback, and nothing in it trusted unchecked -----------------------------


def _damaged(tmp_path, lines: list[bytes]):
    out = tmp_path / "out"
    out.mkdir()
    (out / "accuracy.journal.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))
    return out


def _resume_accuracy(out, data) -> int:
    """Resume into out; the number of infers the DUT got."""
    dut = FakeDut(score=_score)
    try:
        run(dut.port, data, out, ["accuracy"], EMULATED, resume=True)
    finally:
        dut.close()
    return sum(c.startswith("infer") for c in dut.commands)


def _whole_lines(tmp_path) -> list[bytes]:
    return (tmp_path / "whole" / "accuracy.journal.jsonl").read_bytes().splitlines()


def _edit(line: bytes, change) -> bytes:
    record = json.loads(line)
    change(record)
    return json.dumps(record).encode()


@pytest.mark.parametrize("damage, infers", [
    (lambda lines: lines[:3] + [b"5"] + lines[3:], 20),  # a scalar line: dropped alone, both files whole
    (lambda lines: lines[:3] + [b"[1, 2]"] + lines[3:], 20),  # a list line
    (lambda lines: lines[:3] + [b'{"file": "x.bin", "infer": {"res'] + lines[3:], 20),  # a torn line amid whole ones
    # from here on file 0 has a bad window: it and every file after it run again (results.json keeps the file order)
    (lambda lines: lines[:2] + [_edit(lines[2], lambda r: r.update(infer=None))] + lines[3:], 30),  # "infer": null
    (lambda lines: lines[:2] + [b'{"file": "\xff\xfe", "mode": "a"}'] + lines[3:], 30),  # not UTF-8 (file 0 misses a window)
    (lambda lines: lines[:2] + [_edit(lines[2], lambda r: r["infer"].update(results=["x"]))] + lines[3:], 30),  # non-numeric
    (lambda lines: lines[:2] + [_edit(lines[2], lambda r: r["infer"].update(results=[1.0, 2.0]))] + lines[3:], 30),  # 2 values
    (lambda lines: lines[:2] + [_edit(lines[2], lambda r: r.update(file=["a"]))] + lines[3:], 30),  # file not a name
    (lambda lines: lines[:2] + [_edit(lines[2], lambda r: r["infer"].update(results=[float("nan")]))] + lines[3:], 30),
])
def test_a_damaged_accuracy_journal_is_resumed_without_what_is_damaged(data, tmp_path, uninterrupted, damage, infers):
    out = _damaged(tmp_path, damage(_whole_lines(tmp_path)[:10]))  # the journal of files 0 and 1, then damaged
    assert _resume_accuracy(out, data) == infers  # what was damaged is measured again ...
    assert _outcome(out) == uninterrupted  # ... to the figures of an uninterrupted run
    assert re.search(r"resuming: journal line \d+ dropped \(.+\): it is measured again",
                     (out / "accuracy" / "log.txt").read_text())


@pytest.mark.parametrize("resume", [True, False])
def test_a_folder_in_the_journals_place_is_a_clear_error(data, tmp_path, resume):
    from common.errors import ConfigError

    (tmp_path / "out" / "accuracy.journal.jsonl").mkdir(parents=True)
    dut = FakeDut(score=_score)
    try:
        with pytest.raises(ConfigError, match="accuracy.journal.jsonl is not a file: move it away"):
            run(dut.port, data, tmp_path / "out", ["accuracy"], EMULATED, resume=resume)
    finally:
        dut.close()


def _edit_window(line: str, **infer) -> str:
    record = json.loads(line)
    record["infer"].update(infer)
    return json.dumps(record)


@pytest.mark.parametrize("tamper, why", [
    (dict(throughput=9999.0), "throughput 9999"),  # an edited figure: recomputed, it disagrees
    (dict(elapsed_time=-5000, end_time=-4000, start_time=1000), "elapsed time -5000"),  # negative time
    (dict(elapsed_time=0, end_time=1000, start_time=1000), "elapsed time 0"),
    (dict(elapsed_time="fast"), "elapsed time fast"),
    (dict(iterations=True), "iterations True"),
])
def test_kept_performance_windows_are_checked_not_trusted(data, tmp_path, tamper, why):
    whole = _timed_dut()
    try:
        run(whole.port, data, tmp_path / "whole", ["performance"], MODELED, iterations=50)
    finally:
        whole.close()
    lines = (tmp_path / "whole" / "performance.journal.jsonl").read_text().splitlines()
    out = tmp_path / "out"
    out.mkdir()
    (out / "performance.journal.jsonl").write_text("\n".join([lines[0], _edit_window(lines[1], **tamper), *lines[2:4]]) + "\n")
    fresh = _timed_dut()
    try:
        summary = run(fresh.port, data, out, ["performance"], MODELED, iterations=50, resume=True)
    finally:
        fresh.close()
    assert [c for c in fresh.commands if c.startswith("infer")] == ["infer 1 1"] + ["infer 50 10"] * 4  # the tampered window on
    assert _performance(out) == _performance(tmp_path / "whole")
    assert 9999.0 not in summary["performance"]["window_throughputs"]
    log = (out / "performance" / "log.txt").read_text()
    assert re.search(rf"resuming: journal line 2 dropped \(.*{why}.*\): it is measured again", log), log
