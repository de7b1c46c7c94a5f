"""Probe: bad inputs and faults, tried as an attacker or an unlucky user would (issue 20, item 8), against the
command lines (`python -m runner`, `python -m results`, `python -m pipeline`, make's arguments) and the
emulated DUT over its pty and TCP link. Each case runs the real command in a subprocess (with a time
limit) against real files, ptys and sockets: scripted DUTs (tests/fake_dut.py) and monitors in this
process, the stub-accelerator emulated DUT, run folders shaped like the pipeline's (tests/runs.py).
Nothing heavy runs: no pipeline stage beyond argument and configuration checks, no make flow (make -n).

Each case says what a right answer is (an error naming the problem, or a result that is right) and
gets one outcome:
  clear      an error of a line or two naming the problem, exit status not 0
  ok         accepted, and what it wrote is right (checked by the case)
  traceback  a Python traceback (or the emulated DUT crashed)
  wrong      silently wrong: exit 0 where it must refuse, an error that does not name the problem,
             or a result that is not right
  hang       no answer within the case's time limit

    .venv/bin/python bench/probe.py [--only TEXT] [--keep] [--list]

Prints the table of cases and outcomes and the counts; exits 1 when a case ends in traceback, wrong or hang.
Its files go under <build root>/probe/ (removed unless --keep)."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from common.paths import build_root  # noqa: E402
from runner.monitors.simulated import SimulatedLpm01a  # noqa: E402
from tests.fake_dut import READY, FakeDut, write_ad_dataset  # noqa: E402
from tests.runs import edit_json, edit_records  # noqa: E402

PY = sys.executable
TRACEBACK = "Traceback (most recent call last)"
OUTCOMES = ("clear", "ok", "traceback", "wrong", "hang")


@dataclass
class Ran:
    rc: int | None  # None: killed at the time limit
    out: str
    err: str

    @property
    def last(self) -> str:
        lines = [line for line in self.err.splitlines() if line.strip() and "it/s]" not in line and "|" not in line]
        return lines[-1].strip() if lines else ""


@dataclass
class Verdict:
    outcome: str
    detail: str


@dataclass
class Case:
    group: str
    name: str
    body: Callable[[Probe], Verdict]


@dataclass
class Probe:
    root: Path
    cases: list[Case] = field(default_factory=list)
    _stub: dict | None = None

    def env(self) -> dict:
        return {**os.environ, "BUILD_ROOT": str(self.root / "build"), "PYTHONPATH": str(REPO)}

    def run(self, argv: list[str], timeout_s: float = 60.0, stdin: str | None = None) -> Ran:
        try:
            p = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=timeout_s, env=self.env(),
                               cwd=REPO, input=stdin)
            return Ran(p.returncode, p.stdout, p.stderr)
        except subprocess.TimeoutExpired as e:
            return Ran(None, str(e.stdout or ""), str(e.stderr or ""))

    def runner(self, *args: str, timeout_s: float = 60.0) -> Ran:
        return self.run([PY, "-m", "runner", *map(str, args)], timeout_s)

    def results(self, *args: str, timeout_s: float = 60.0) -> Ran:
        return self.run([PY, "-m", "results", *map(str, args)], timeout_s)

    def pipeline(self, *args: str, timeout_s: float = 60.0) -> Ran:
        return self.run([PY, "-m", "pipeline", *map(str, args)], timeout_s)

    def folder(self, name: str) -> Path:
        path = self.root / "cases" / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def stub(self) -> dict:
        """{variant: binary} of the stub-accelerator ad01 emulated DUT, built once."""
        if self._stub is None:
            from tests.conftest import build_stub_dut

            self._stub = build_stub_dut(self.root / "stub_dut")
        return self._stub


def judge(ran: Ran, expect: str, mentions: str | None = None, check: Callable[[Ran], str | None] | None = None) -> Verdict:
    """expect "error": a clear error (mentioning `mentions`, a regex, when given); expect "ok": exit 0 and check() None."""
    if ran.rc is None:
        return Verdict("hang", f"no exit within the limit; last: {ran.last[:100]}")
    if TRACEBACK in ran.err or TRACEBACK in ran.out:
        where = [line.strip() for line in ran.err.splitlines() if line.strip()]
        return Verdict("traceback", where[-1][:140] if where else "")
    if expect == "error":
        if ran.rc == 0:
            return Verdict("wrong", f"exit 0: {(ran.out.strip().splitlines() or [''])[-1][:120]}")
        if mentions and not re.search(mentions, ran.err + ran.out, re.I):
            return Verdict("wrong", f"an error that does not name the problem ({mentions}): {ran.last[:120]}")
        return Verdict("clear", ran.last[:140])
    problem = check(ran) if check else (None if ran.rc == 0 else f"exit {ran.rc}: {ran.last[:120]}")
    return Verdict("wrong", problem) if problem else Verdict("ok", (ran.out.strip().splitlines() or [""])[-1][:120])


def case(group: str, name: str):
    def register(fn: Callable[[Probe], Verdict]):
        CASES.append(Case(group, name, fn))
        return fn
    return register


CASES: list[Case] = []


# ---- shared set-ups ---------------------------------------------------------------------------------------
def dataset(p: Probe, name: str, files: int = 6) -> Path:
    root = p.folder(name) / "data"
    write_ad_dataset(root, files=files, windows=1)
    return root


def labels_file(p: Probe, name: str, content: bytes) -> Path:
    root = dataset(p, name)
    (root / "ad01" / "y_labels.csv").write_bytes(content)
    return root


UNPLUG = b"<unplug>"  # a fault's answer: the DUT goes away (its pty's master end closed) instead of replying


class Dut(FakeDut):
    """A scripted DUT: our firmware's `profile` lines (platform, timing), optional faults by command."""

    def __init__(self, platform: str = "host-emulation", timing: str = "modeled", fault: Callable[[str], bytes | None] = None,
                 build: str | None = None, **kw):
        self.platform, self.timing, self.fault, self.build = platform, timing, fault, build
        super().__init__(**kw)

    def answer(self, command: str) -> bytes:
        if self.fault is not None:
            reply = self.fault(command)
            if reply == UNPLUG:
                self._alive = False  # the serving loop ends without writing
                os.close(self.master)
                return b""
            if reply is not None:
                return reply
        reply = super().answer(command)
        if command.split()[:1] == ["profile"]:
            extra = ([f"m-build-[{self.build}]"] if self.build else []) + [f"m-platform-[{self.platform}]",
                                                                        f"m-timing-[{self.timing}]"]
            reply = reply.replace(READY, "".join(f"{x}\r\n" for x in extra).encode() + READY)
        return reply


def with_dut(p: Probe, dut: Dut, fn: Callable[[Dut], Verdict]) -> Verdict:
    try:
        return fn(dut)
    finally:
        dut.close()


def run_modes(p: Probe, dut: Dut, data: Path, out: Path, *modes: str, extra: tuple = ()) -> Ran:
    return p.runner("--port", dut.port, "--dut-kind", "host-emulation", "--dataset", data, "--out", out, "--mode", *modes,
                    *extra)


# ---- the runner's command line, no DUT needed ---------------------------------------------------------------
def _runner_error(name: str, args: Callable[[Probe], list], mentions: str | None = None):
    @case("runner", name)
    def body(p: Probe) -> Verdict:
        return judge(p.runner(*args(p)), "error", mentions)


_runner_error("port that does not exist", lambda p: ["--port", "/dev/does-not-exist", "--dataset", dataset(p, "nd")],
              "does-not-exist")
_runner_error("dataset folder missing", lambda p: ["--port", "/dev/null", "--dataset", p.root / "nothing"], "nothing|y_labels")
_runner_error("y_labels.csv not UTF-8", lambda p: ["--port", "/dev/null", "--dataset",
                                                   labels_file(p, "nonutf8", b"\xff\xfe,2,0\n")], "utf-8|UTF|text")
_runner_error("y_labels.csv row of 2 fields", lambda p: ["--port", "/dev/null", "--dataset", labels_file(p, "2f", b"a.bin,2\n")],
              "expected file,classes")
_runner_error("y_labels.csv class not a number", lambda p: ["--port", "/dev/null", "--dataset", _relabel(p, "cls", "x")],
              "integer")
_runner_error("y_labels.csv class negative", lambda p: ["--port", "/dev/null", "--dataset", _relabel(p, "clsneg", "-1")], "class")
_runner_error("y_labels.csv class beyond classes", lambda p: ["--port", "/dev/null", "--dataset", _relabel(p, "clsbig", "7")],
              "class")
_runner_error("y_labels.csv names a missing file", lambda p: ["--port", "/dev/null", "--dataset",
                                                              labels_file(p, "miss", b"nothere.bin,2,0,2560,512\n")], "nothere")
_runner_error("y_labels.csv names a file outside its folder", lambda p: ["--port", "/dev/null", "--dataset", labels_file(
    p, "escape", b"../../escape.bin,2,0,2560,512\n")], "escape")
_runner_error("y_labels.csv empty", lambda p: ["--port", "/dev/null", "--dataset", labels_file(p, "empty", b"")],
              "empty|no file|no row")
_runner_error("y_labels.csv is a folder", lambda p: ["--port", "/dev/null", "--dataset", _labels_dir(p)], "y_labels")


def _relabel(p: Probe, name: str, label: str) -> Path:
    """The dataset with its first file's class replaced."""
    root = dataset(p, name)
    rows = (root / "ad01" / "y_labels.csv").read_text().splitlines()
    fields = rows[0].split(",")
    fields[2] = label
    rows[0] = ",".join(fields)
    (root / "ad01" / "y_labels.csv").write_text("\n".join(rows) + "\n")
    return root


def _labels_dir(p: Probe) -> Path:
    root = dataset(p, "labelsdir")
    (root / "ad01" / "y_labels.csv").unlink()
    (root / "ad01" / "y_labels.csv").mkdir()
    return root


_runner_error("--labels a path", lambda p: ["--port", "/dev/null", "--dataset", dataset(p, "lp"), "--labels",
              "../x.csv"], "labels")
for _bad in ("nan", "inf", "-1", "0"):
    _runner_error(f"--window-seconds {_bad}", lambda p, b=_bad: ["--port", "/dev/null", "--dataset", dataset(p, "ws"),
                                                                "--window-seconds", b], "window-seconds")
for _bad in ("0", "-3", "1e3"):
    _runner_error(f"--iterations {_bad}", lambda p, b=_bad: ["--port", "/dev/null", "--dataset", dataset(p, "it"),
                                                            "--iterations", b], "iterations")
_runner_error("--warmups -1", lambda p: ["--port", "/dev/null", "--dataset", dataset(p, "wu"), "--warmups", "-1"], "warmups")
_runner_error("--baud 0", lambda p: ["--port", "/dev/null", "--dataset", dataset(p, "bd"), "--baud", "0"], "baud")
_runner_error("--voltage 5000 (LPM01A)", lambda p: ["--port", "/dev/null", "--dataset", dataset(p, "v"), "--mode", "e",
                                                    "--monitor", "/dev/null", "--voltage", "5000"], "mV")
_runner_error("--out is a file", lambda p: ["--port", "/dev/null", "--dataset", dataset(p, "of"), "--out", _file(p, "outfile")],
              "is a file")
_runner_error("--out below a file", lambda p: ["--port", "/dev/null", "--dataset", dataset(p, "obf"), "--out",
                                               _file(p, "outfile2") / "run"], "is a file")
_runner_error("--emulated missing", lambda p: ["--emulated", p.root / "nope", "--dataset", dataset(p, "em")], "does not exist")
_runner_error("--emulated not executable", lambda p: ["--emulated", _file(p, "noexec"), "--dataset", dataset(p, "ne")],
              "not executable")
_runner_error("--emulated a script that is no program", lambda p: ["--emulated", _file(p, "garbage", b"\x00\x01garbage", 0o755),
                                                                   "--dataset", dataset(p, "ng")], "cannot start|exec")
_runner_error("--emulated a folder", lambda p: ["--emulated", p.folder("adir"), "--dataset", dataset(p, "ef")],
              "does not exist|not executable|folder|directory")
_runner_error("--devices not UTF-8", lambda p: ["--devices", _file(p, "dev1.yaml", b"- name: \xff\xfe\n"), "--dataset",
                                                dataset(p, "d1")], "UTF|utf-8|text")
_runner_error("--devices scalar entries", lambda p: ["--devices", _file(p, "dev2.yaml", b"- 5\n- hello\n"), "--dataset",
                                                     dataset(p, "d2")], "device #1")
_runner_error("--devices wrong types", lambda p: ["--devices", _file(p, "dev3.yaml", b"- name: x\n  type: dut\n  baud: fast\n"),
                                                  "--dataset", dataset(p, "d3")], "baud")
_runner_error("--devices a mapping", lambda p: ["--devices", _file(p, "dev4.yaml", b"name: x\n"), "--dataset", dataset(p, "d4")],
              "list of devices")
_runner_error("--devices bad YAML", lambda p: ["--devices", _file(p, "dev5.yaml", b"- name: [x\n"), "--dataset",
              dataset(p, "d5")],
              "yaml|dev5")
_runner_error("--devices missing", lambda p: ["--devices", p.root / "nodev.yaml", "--dataset", dataset(p, "d6")], "nodev")
_runner_error("--resume without --out", lambda p: ["--port", "/dev/null", "--dataset", dataset(p, "rs"), "--resume"], "--out")
_runner_error("--monitor port missing (energy)", lambda p: ["--port", "/dev/null", "--dataset", dataset(p, "mn"), "--mode", "e",
                                                            "--monitor", "/dev/no-monitor"], "no-monitor|monitor")
_runner_error("--interface on a missing port", lambda p: ["--port", "/dev/no-iface", "--interface", "arduino", "--dataset",
                                                          dataset(p, "if")], "no-iface")


def _file(p: Probe, name: str, content: bytes = b"x", mode: int = 0o644) -> Path:
    path = p.root / "files" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    path.chmod(mode)
    return path


# ---- the runner against a DUT that misbehaves -------------------------------------------------------------------
def _dut_case(name: str, dut_kwargs: dict, modes: tuple = ("a",), expect: str = "error", mentions: str | None = None,
              check: Callable[[Ran, Path], str | None] | None = None, timeout_s: float = 90.0, extra: tuple = ()):
    @case("runner+DUT", name)
    def body(p: Probe) -> Verdict:
        data, out = dataset(p, name), p.folder(name) / "out"

        def go(dut: Dut) -> Verdict:
            ran = p.run([PY, "-m", "runner", "--port", dut.port, "--dut-kind", "host-emulation", "--dataset", str(data),
                         "--out", str(out), "--mode", *modes, *extra], timeout_s)
            return judge(ran, expect, mentions, (lambda r: check(r, out)) if check else None)
        return with_dut(p, Dut(**dut_kwargs), go)


def _silent(command: str) -> bytes | None:
    return b"" if command.startswith("name") else None


def _answer(prefix: str, lines: str) -> Callable[[str], bytes | None]:
    """A fault: the DUT answers a command starting with `prefix` with `lines`, then m-ready."""
    def fault(command: str) -> bytes | None:
        return lines.encode() + READY if command.startswith(prefix) else None
    return fault


def _results(text: str) -> Callable[[str], bytes | None]:
    return _answer("infer", f"m-lap-us-1\r\nm-lap-us-101\r\nm-infer-done\r\nm-results-[{text}]\r\n")


def _laps(start: str, end: str) -> Callable[[str], bytes | None]:
    return _answer("infer", f"m-lap-us-{start}\r\nm-lap-us-{end}\r\nm-infer-done\r\nm-results-[1.0]\r\n")


def _profile(line: str) -> Callable[[str], bytes | None]:
    return _answer("profile", f"m-profile-[ULPMark for tinyML Firmware V0.0.1]\r\nm-model-[ad01]\r\n{line}\r\n")


def _name_bytes(command: str) -> bytes | None:
    return b"m-name-dut-[\xff\xfe\x80]\r\n" + READY if command.startswith("name") else None


def _unplug_after(n_infers: int):
    seen = {"n": 0}

    def fault(command: str) -> bytes | None:
        if command.startswith("infer"):
            seen["n"] += 1
            if seen["n"] > n_infers:
                return UNPLUG
        return None
    return fault


def _kept_records(r: Ran, out: Path) -> str | None:
    records = json.loads((out / "accuracy" / "results.json").read_text())
    journal = (out / "accuracy.journal.jsonl").read_text().splitlines()
    return None if len([x for x in records if "file" in x]) == 3 == len(journal) else \
        f"{len(records)} records in results.json, {len(journal)} journaled; 3 files were done"


_dut_case("DUT silent", {"fault": _silent}, mentions="did not|no reply|within|timed out", timeout_s=60)
_dut_case("DUT results NaN", {"fault": _results("nan")}, mentions="non-finite|nan")
_dut_case("DUT results inf", {"fault": _results("inf")}, mentions="non-finite|inf")
_dut_case("DUT results not numbers", {"fault": _results("abc,def")}, mentions="malformed|abc")
_dut_case("DUT results empty", {"fault": _results("")}, mentions="results|values")
_dut_case("DUT build key not hex", {"fault": _profile("m-build-[zz; rm -rf /]")}, mentions="build key")
_dut_case("DUT platform unknown", {"fault": _profile("m-platform-[fpga]")}, mentions="platform")
_dut_case("DUT timing unknown", {"fault": _profile("m-timing-[fast]")}, mentions="timing")
_dut_case("DUT name not UTF-8", {"fault": _name_bytes}, expect="ok",
          check=lambda r, out: None if r.rc == 0 else f"exit {r.rc}: {r.last[:100]}")
_dut_case("DUT model not in the dataset", {"model": "kws01"}, mentions="kws01")


def _chatter_check(r: Ran, out: Path) -> str | None:
    """Chatter between replies is a race: the run is right (every file scored), or ends naming the garbled reply."""
    if r.rc == 0:
        return None if "'files': 6" in r.out and "'file_errors': []" in r.out else "exit 0 without every file scored"
    return None if "malformed reply" in r.err and len(r.err.strip().splitlines()[-1]) < 2000 else f"exit {r.rc}: {r.last[:100]}"


_dut_case("DUT chatters without end", {"chatter": b"x" * 64}, expect="ok", timeout_s=90, check=_chatter_check)
_dut_case("DUT end lap before start (performance)", {"fault": _laps("500", "100")}, modes=("p",), extra=("--iterations", "10"),
          mentions="elapsed|lap|negative|before")
_dut_case("DUT lap of 30 digits (performance)", {"fault": _laps("1", "9" * 30)}, modes=("p",), extra=("--iterations", "10"),
          mentions="lap|elapsed|window|long|ERROR")


@case("runner+DUT", "DUT unplugged after 3 files: records kept")
def _unplugged_kept(p: Probe) -> Verdict:
    data, out = dataset(p, "unplug-kept"), p.folder("unplug-kept") / "out"

    def go(dut: Dut) -> Verdict:
        ran = run_modes(p, dut, data, out, "a")
        verdict = judge(ran, "error", "records received|resume")
        if verdict.outcome != "clear":
            return verdict
        lost = _kept_records(ran, out)
        return Verdict("wrong", f"lost: {lost}") if lost else verdict
    return with_dut(p, Dut(fault=_unplug_after(3)), go)


# ---- --resume over a damaged journal -------------------------------------------------------------------------------
def _accuracy_once(p: Probe, name: str) -> tuple[Path, Path, list[dict]]:
    data, out = dataset(p, name), p.folder(name) / "out"
    with_dut(p, Dut(score=lambda d: f"{0.5 + d[0] % 2:.1f}"), lambda dut: judge(run_modes(p, dut, data, out, "a"), "ok"))
    return data, out, [json.loads(x) for x in (out / "accuracy.journal.jsonl").read_text().splitlines()]


def _resume_case(name: str, damage: Callable[[Path, list[dict]], None]):
    @case("resume", name)
    def body(p: Probe) -> Verdict:
        data, out, records = _accuracy_once(p, name)
        expected = json.loads((out / "accuracy" / "results.json").read_text())
        damage(out / "accuracy.journal.jsonl", records)

        def go(dut: Dut) -> Verdict:
            ran = p.run([PY, "-m", "runner", "--port", dut.port, "--dut-kind", "host-emulation", "--dataset", str(data),
                         "--out", str(out), "--mode", "a", "--resume"], 60)

            def right(r: Ran) -> str | None:
                if r.rc != 0:
                    return f"exit {r.rc}: {r.last[:100]}"
                got = json.loads((out / "accuracy" / "results.json").read_text())
                scores = lambda rs: [(x.get("file"), x.get("infer", {}).get("results")) for x in rs if "file" in x]  # noqa: E731
                return None if scores(got) == scores(expected) else "the resumed records are not the uninterrupted run's"
            return judge(ran, "ok", check=right)
        return with_dut(p, Dut(score=lambda d: f"{0.5 + d[0] % 2:.1f}"), go)


def _lines(records: list[dict], k: int, line: bytes) -> bytes:
    out = [json.dumps(r).encode() for r in records]
    out[k] = line
    return b"\n".join(out) + b"\n"


_resume_case("journal: a scalar line", lambda j, rs: j.write_bytes(_lines(rs, 2, b"42")))
_resume_case("journal: a list line", lambda j, rs: j.write_bytes(_lines(rs, 2, b"[1, 2]")))
_resume_case("journal: infer null", lambda j, rs: j.write_bytes(_lines(rs, 2, json.dumps({**rs[2], "infer": None}).encode())))
_resume_case("journal: not UTF-8", lambda j, rs: j.write_bytes(_lines(rs, 2, b"\xff\xfe\xfd")))
_resume_case("journal: torn last line", lambda j, rs: j.write_bytes(_lines(rs, len(rs) - 1, b'{"file": "x", "inf')))
_resume_case("journal: results not numbers", lambda j, rs: j.write_bytes(
    _lines(rs, 2, json.dumps({**rs[2], "infer": {**rs[2]["infer"], "results": ["a"]}}).encode())))
_resume_case("journal: results NaN", lambda j, rs: j.write_bytes(
    _lines(rs, 2, json.dumps({**rs[2], "infer": {**rs[2]["infer"], "results": [float("nan")]}}).encode())))


@case("resume", "journal: file of another folder")
def _journal_other(p: Probe) -> Verdict:
    data, out, records = _accuracy_once(p, "journal-other")
    (out / "accuracy.journal.jsonl").write_bytes(_lines(records, 2, json.dumps({**records[2],
     "file": "../../etc/passwd"}).encode()))
    return with_dut(p, Dut(), lambda dut: judge(p.runner("--port", dut.port, "--dut-kind", "host-emulation", "--dataset", data,
                                                         "--out", out, "--mode", "a", "--resume"), "error", "passwd"))


@case("resume", "journal: a folder in its place")
def _journal_dir(p: Probe) -> Verdict:
    data, out, _ = _accuracy_once(p, "journal-dir")
    (out / "accuracy.journal.jsonl").unlink()
    (out / "accuracy.journal.jsonl").mkdir()
    return with_dut(p, Dut(), lambda dut: judge(p.runner("--port", dut.port, "--dut-kind", "host-emulation", "--dataset", data,
                                                         "--out", out, "--mode", "a", "--resume"), "error", "not a file"))


def _perf_journal(name: str, edit: Callable[[dict], None], mentions: str):
    """A performance window kept in the journal, edited: resuming must not keep it as it is."""
    @case("resume", name)
    def body(p: Probe) -> Verdict:
        data, out = dataset(p, name), p.folder(name) / "out"
        with_dut(p, Dut(), lambda dut: judge(run_modes(p, dut, data, out, "p", extra=("--iterations", "100")), "ok"))
        journal = out / "performance.journal.jsonl"
        records = [json.loads(x) for x in journal.read_text().splitlines()]
        edit(records[1])
        journal.write_text("".join(json.dumps(r) + "\n" for r in records))

        def go(dut: Dut) -> Verdict:
            ran = run_modes(p, dut, data, out, "p", extra=("--iterations", "100", "--resume"))

            def right(r: Ran) -> str | None:
                if r.rc != 0:
                    return f"exit {r.rc}: {r.last[:100]}"
                got = [x for x in json.loads((out / "performance" / "results.json").read_text()) if "infer" in x]
                rates = [x["infer"]["throughput"] for x in got]
                log = (out / "performance" / "log.txt").read_text()
                if any(abs(rate - 100 / (x["infer"]["elapsed_time"] / 1e6)) > 1e-6 for rate, x in zip(rates, got)):
                    return f"kept window rates {rates} are not N / elapsed"
                return None if re.search(mentions, log, re.I) else f"the log does not say the window was dropped ({mentions})"
            return judge(ran, "ok", check=right)
        return with_dut(p, Dut(), go)


_perf_journal("journal: negative elapsed time", lambda r: r["infer"].update(elapsed_time=-5), "elapsed")
_perf_journal("journal: throughput edited", lambda r: r["infer"].update(throughput=99999.0), "throughput")
_perf_journal("journal: elapsed a string", lambda r: r["infer"].update(elapsed_time="abc"), "elapsed")


# ---- energy with monitors that misbehave ------------------------------------------------------------------------------
class EnergyDut(Dut):
    """The energy build: no m-lap-us; its timestamp pin falls at the timed loop's start and end."""

    def __init__(self, monitor: SimulatedLpm01a, **kw):
        self.monitor = monitor
        super().__init__(laps=False, **kw)

    def answer(self, command: str) -> bytes:
        words = command.split()
        if words[:1] == ["infer"]:
            n, w = int(words[1]), int(words[2])
            start = self.clock + w * self.us
            self.monitor.pin_falling(start)
            self.monitor.pin_falling(start + n * self.us)
        return super().answer(command)


class NoSamples(SimulatedLpm01a):
    def pin_falling(self, t_us: int) -> None:  # events, never a sample
        with self._lock:
            if self._streaming:
                self._write(f"event {self._events:02d} ris\r\n")
                self._events += 1


class Absurd(SimulatedLpm01a):
    def __init__(self):
        super().__init__(1.0)
        self.sample = "9999+99"


class NoNewlines(SimulatedLpm01a):
    def pin_falling(self, t_us: int) -> None:
        with self._lock:
            if self._streaming:
                self._write("1750-06 " * 2000)


class Unplugged(SimulatedLpm01a):
    def pin_falling(self, t_us: int) -> None:
        if self._streaming:
            self.close()


def _energy_case(name: str, monitor: Callable[[], SimulatedLpm01a], mentions: str, timeout_s: float = 120.0):
    @case("energy", name)
    def body(p: Probe) -> Verdict:
        sim = monitor()
        try:
            data, out = dataset(p, name), p.folder(name) / "out"

            def go(dut: Dut) -> Verdict:
                return judge(p.run([PY, "-m", "runner", "--port", dut.port, "--dut-kind", "host-emulation", "--dataset",
                                    str(data), "--out", str(out), "--mode", "e", "--monitor", sim.path, "--iterations",
                                    "20000"], timeout_s), "error", mentions)
            return with_dut(p, EnergyDut(sim), go)
        finally:
            sim.close()


_energy_case("monitor: events without samples", lambda: NoSamples(1.0), "sample|no energy")
_energy_case("monitor: absurd samples", Absurd, "range|not a measurement|absurd|beyond")
_energy_case("monitor: streams without newlines", lambda: NoNewlines(1.0), "line|newline|4096")
_energy_case("monitor: unplugged mid-trial", lambda: Unplugged(1.0), "monitor|LPM01A|closed|gone")


@case("energy", "energy with 4 files (not 5 trials)")
def _four(p: Probe) -> Verdict:
    sim = SimulatedLpm01a(1.0)
    try:
        data, out = p.folder("four") / "data", p.folder("four") / "out"
        write_ad_dataset(data, files=4, windows=1)
        return with_dut(p, EnergyDut(sim), lambda dut: judge(
            p.runner("--port", dut.port, "--dut-kind", "host-emulation", "--dataset", data, "--out", out, "--mode", "e",
                     "--monitor", sim.path, "--iterations", "20000"), "error", "5 measurements|exactly 5|trials"))
    finally:
        sim.close()


# ---- the emulated DUT over its pty and TCP link --------------------------------------------------------------------
def _tcp(p: Probe):
    from runner.emulated import emulated_dut

    return emulated_dut(p.stub()["performance"], args=("--tcp", "0"))


def _ask(sock: socket.socket, command: bytes, timeout_s: float = 3.0) -> bytes:
    """The replies to the commands in `command` (each ends at m-ready)."""
    sock.settimeout(timeout_s)
    sock.sendall(command)
    got = b""
    try:
        while got.count(b"m-ready") < max(1, command.count(b"%")):
            chunk = sock.recv(4096)
            if not chunk:
                break
            got += chunk
    except TimeoutError:
        pass
    return got


def _connect(url: str) -> socket.socket:
    """A client of the emulated DUT's TCP link, its boot banner (a new client is a reset board) read."""
    host, port = url.removeprefix("socket://").rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=3)
    sock.settimeout(0.3)
    got = b""
    try:
        while b"m-ready" not in got:
            chunk = sock.recv(4096)
            if not chunk:
                break
            got += chunk
    except TimeoutError:
        pass
    return sock


def _dut_wire_case(name: str, steps: Callable[[str], Verdict]):
    @case("emulated DUT", name)
    def body(p: Probe) -> Verdict:
        with _tcp(p) as url:
            return steps(url)


def _first_command_after(partial: bytes) -> Callable[[str], Verdict]:
    def steps(url: str) -> Verdict:
        with _connect(url) as s:
            s.sendall(partial)
            time.sleep(0.2)
        time.sleep(0.2)
        with _connect(url) as s:
            got = _ask(s, b"name%")
        if not got:
            return Verdict("hang", "no reply to the next client's name%")
        return Verdict("clear" if b"m-name-dut-" in got and b"e-[" not in got else "wrong", got[:100].decode(errors="replace"))
    return steps


def _reply(command: bytes, want_error: bool = True) -> Callable[[str], Verdict]:
    def steps(url: str) -> Verdict:
        with _connect(url) as s:
            got = _ask(s, command)
            alive = _ask(s, b"name%")
        if not got:
            return Verdict("hang", f"no reply to {command[:40]!r}")
        if b"m-name-dut-" not in alive:
            return Verdict("traceback", f"the DUT stopped answering after {command[:40]!r}")
        text = got.decode(errors="replace").strip().replace("\r\n", " | ")[:110]
        return Verdict("clear" if (b"e-[" in got) == want_error else "wrong", text)
    return steps


_dut_wire_case("TCP: half a command, then the client leaves", _first_command_after(b"db load 25"))
_dut_wire_case("TCP: half a db line, then the client leaves", _first_command_after(b"db 0a0b0c"))
_dut_wire_case("results% before any inference", _reply(b"results%"))
_dut_wire_case("a 100 kB line without %", _reply(b"x" * 100_000 + b"%"))
_dut_wire_case("db load of 4 GB", _reply(b"db load 4294967296%"))
_dut_wire_case("db load -1", _reply(b"db load -1%"))
_dut_wire_case("db of odd hex", _reply(b"db load 4%db 0a0%"))
_dut_wire_case("db of non-hex", _reply(b"db load 4%db zzzz%"))
_dut_wire_case("db without db load", _reply(b"db 0a0b%"))
_dut_wire_case("infer 0", _reply(b"infer 0 0%"))
_dut_wire_case("infer -1", _reply(b"infer -1 0%"))
_dut_wire_case("infer 99999999999", _reply(b"infer 99999999999 0%"))
_dut_wire_case("non-ASCII bytes", _reply(b"\xff\xfe\x00name\x80%"))


@case("emulated DUT", "pty: half a command, then the host leaves")
def _pty_partial(p: Probe) -> Verdict:
    from runner.emulated import emulated_dut

    with emulated_dut(p.stub()["performance"]) as path:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(fd)
        os.write(fd, b"db load 2")
        os.close(fd)
        time.sleep(0.2)
        ran = p.runner("--port", path, "--dataset", dataset(p, "pty-partial"), "--mode", "a", "--out", p.folder("pty") / "o")
    return judge(ran, "ok")


# ---- results: export, check, report ------------------------------------------------------------------------------
def board_run(p: Probe, name: str, **kw) -> Path:
    from tests.runs import make_run

    return make_run(p.folder(name) / "build", **kw)


def export(p: Probe, run: Path, *extra) -> Ran:
    return p.results("export", "--run", run, "--organization", "org", "--out", run.parents[5] / "sub", *extra)


def _export_case(name: str, damage: Callable[[Path], None] | None, mentions: str | None, expect: str = "error", **run_kw):
    @case("results", name)
    def body(p: Probe) -> Verdict:
        run = board_run(p, name, **run_kw)
        if damage:
            damage(run)
        return judge(export(p, run), expect, mentions)


def _edit(path: Path, pattern: str, new: str) -> None:
    path.write_text(re.sub(pattern, new, path.read_text()))




_export_case("a valid board run", None, None, expect="ok")
_export_case("manifest truncated", lambda r: (r / "manifest.json").write_text('{"stage": "run", "sta'), "not valid JSON")
_export_case("manifest not UTF-8", lambda r: (r / "manifest.json").write_bytes(b"\xff\xfe{}"), "not valid JSON|UTF")
_export_case("manifest a list", lambda r: (r / "manifest.json").write_text("[1, 2]"), "not a finished run")
_export_case("manifest provenance of wrong types", lambda r: edit_json(
    r / "manifest.json", lambda m: m["outputs"]["provenance"].update(link=5)), "provenance")
_export_case("manifest performance a scalar", lambda r: edit_json(
    r / "manifest.json", lambda m: m["outputs"].update(performance="fast")), "performance")
_export_case("manifest model a number", lambda r: edit_json(r / "manifest.json",
             lambda m: m["outputs"].update(model=7)), "model")
_export_case("manifest flow.board a list", lambda r: edit_json(
    r / "manifest.json", lambda m: m["outputs"]["flow"].update(board=["x"])), "board")
_export_case("manifest flow.board another folder", lambda r: edit_json(
    r / "manifest.json", lambda m: m["outputs"]["flow"].update(board="../../../etc")), "board")
_export_case("no performance/", lambda r: shutil.rmtree(r / "performance"), "performance")
_export_case("median edited", lambda r: _edit(r / "performance" / "results.txt", r"Median throughput is\s+\S+",
                                              "Median throughput is   9999.000"), "9999")
_export_case("top-1 edited", lambda r: _edit(r / "accuracy" / "results.txt", r"Top 1% = \S+", "Top 1% = 99.9"), "top1")
_export_case("results.json truncated", lambda r: (r / "accuracy" / "results.json").write_text(
    (r / "accuracy" / "results.json").read_text()[:200]), "truncated")
_export_case("results.json a folder", lambda r: ((r / "accuracy" / "results.json").unlink(),
                                                 (r / "accuracy" / "results.json").mkdir()), "results.json")
_export_case("log.txt empty", lambda r: (r / "performance" / "log.txt").write_text(""), "empty")
_export_case("results.json not UTF-8", lambda r: (r / "accuracy" / "results.json").write_bytes(b"\xff[]"), "results.json")
_export_case("records: elapsed NaN", lambda r: edit_records(r, "performance",
             lambda rs: rs[0]["infer"].update(elapsed_time=float("nan"))),
             "elapsed|not|nan")
_export_case("records: elapsed negative", lambda r: edit_records(r, "performance", lambda rs: rs[0]["infer"].update(
    elapsed_time=-int(rs[0]["infer"]["elapsed_time"]))), "elapsed|negative|not")
_export_case("records: elapsed a string",
             lambda r: edit_records(r, "performance", lambda rs: rs[0]["infer"].update(elapsed_time="abc")),
             "malformed|elapsed")
_export_case("records: iterations 0", lambda r: edit_records(r, "performance", lambda rs: rs[0]["infer"].update(iterations=0)),
             "iterations|throughput|not")
_export_case("records: class a word", lambda r: edit_records(r, "accuracy", lambda rs: rs[0].update({"class": "cat"})),
             "malformed|class")
_export_case("records: results inf",
             lambda r: edit_records(r, "accuracy", lambda rs: rs[0]["infer"].update(results=[float("inf")])),
             "results|inf|finite|not")
_export_case("energy: samples removed", lambda r: edit_records(r, "energy", lambda rs: rs[0]["power"].update(samples=[])),
             "energy|sample", energy_trials=5)
_export_case("energy: absurd samples", lambda r: edit_records(r, "energy", lambda rs: rs[0]["power"].update(
    samples=[1e100] * len(rs[0]["power"]["samples"]))), "energy|not a measured", energy_trials=5)
_export_case("energy: 4 trials", None, "5 trials|trials", energy_trials=4)
_export_case("energy: negative samples", lambda r: edit_records(r, "energy", lambda rs: rs[0]["power"].update(
    samples=[-x for x in rs[0]["power"]["samples"]])), "energy|not a measured|negative", energy_trials=5)
_export_case("emulated run", None, "not a physical board", link="host-emulation", timing="host-clock")
_export_case("synthetic data", None, "synthetic", data="synthetic")


@case("results", "the same run twice")
def _twice(p: Probe) -> Verdict:
    run = board_run(p, "twice")
    ran = p.results("export", "--run", run, "--run", run, "--organization", "org", "--out", p.folder("twice") / "sub")
    verdict = judge(ran, "error", "two runs")
    if verdict.outcome == "clear" and any((p.folder("twice") / "sub").rglob("*")):
        return Verdict("wrong", "a half-written tree was left")
    return verdict


@case("results", "export --out a file")
def _out_file(p: Probe) -> Verdict:
    return judge(p.results("export", "--run", board_run(p, "outfile"), "--organization", "org", "--out", _file(p, "subfile")),
                 "error", "is --out a file|file")


@case("results", "export --organization with a slash")
def _org(p: Probe) -> Verdict:
    return judge(p.results("export", "--run", board_run(p, "org"), "--organization", "../evil", "--out", p.folder("org") / "s"),
                 "error", "organization")


@case("results", "export --run missing")
def _run_missing(p: Probe) -> Verdict:
    return judge(p.results("export", "--run", p.root / "norun", "--organization", "org", "--out", p.folder("nr")),
                 "error", "norun")


@case("results", "export --build-root a file (runner run)")
def _build_root_file(p: Probe) -> Verdict:
    run = p.folder("brf") / "run"
    run.mkdir(exist_ok=True)
    (run / "manifest.json").write_text(json.dumps({"stage": "run", "status": "done", "made_by": "python -m runner",
                                                   "outputs": {"model": "ad01", "build": "ab" * 32, "provenance": {
                                                       "link": "board", "timing": "board-timer"}}}))
    return judge(p.results("export", "--run", run, "--organization", "org", "--out", p.folder("brf") / "s", "--build-root",
                           _file(p, "brfile")), "error", "build stage|build root|brfile")


@case("results", "runner run: build key a number")
def _key_number(p: Probe) -> Verdict:
    run = p.folder("keynum") / "run"
    run.mkdir(exist_ok=True)
    (run / "manifest.json").write_text(json.dumps({"stage": "run", "status": "done", "made_by": "python -m runner",
                                                   "outputs": {"model": "ad01", "build": 5, "provenance": {
                                                       "link": "board", "timing": "board-timer"}}}))
    return judge(p.results("export", "--run", run, "--organization", "org", "--out", p.folder("keynum") / "s"),
                 "error", "build key")


@case("results", "check: a tree edited after its export")
def _check_edited(p: Probe) -> Verdict:
    run = board_run(p, "checked")
    sub = p.folder("checked") / "sub"
    export(p, run, "--out", sub)  # the later --out wins
    results_txt = next(sub.rglob("performance/results.txt"))
    results_txt.write_text(results_txt.read_text().replace("Median throughput is", "Median throughput is 1"))
    return judge(p.results("check", sub, "--csv", p.folder("checked") / "s.csv"), "error", "changed since the export")


@case("results", "check: a folder that does not exist")
def _check_missing(p: Probe) -> Verdict:
    return judge(p.results("check", p.root / "nosub", "--csv", p.folder("cm") / "s.csv"), "error", "nosub|not")


@case("results", "check: a file")
def _check_file(p: Probe) -> Verdict:
    return judge(p.results("check", _file(p, "checkfile"), "--csv", p.folder("cf") / "s.csv"), "error", "checkfile|not a folder")


@case("results", "check: --csv in a folder that does not exist")
def _check_csv(p: Probe) -> Verdict:
    run = board_run(p, "csvrun")
    sub = p.folder("csvrun") / "sub"
    export(p, run, "--out", sub)
    return judge(p.results("check", sub, "--csv", p.root / "no" / "such" / "s.csv"), "error", "s.csv|csv")


@case("results", "report: --build-root a file")
def _report_file(p: Probe) -> Verdict:
    return judge(p.results("report", "--build-root", _file(p, "rootfile"), "--out", p.folder("rf") / "r"), "error", "rootfile")


@case("results", "report: --out a file")
def _report_out_file(p: Probe) -> Verdict:
    run = board_run(p, "reportout")
    return judge(p.results("report", "--build-root", run.parents[3], "--out", _file(p, "reportoutfile")), "error",
                 "reportoutfile")


@case("results", "report: one broken run among good ones")
def _report_broken(p: Probe) -> Verdict:
    run = board_run(p, "reportbroken")
    other = board_run(p, "reportbroken", board="arty_a7")
    (other / "manifest.json").write_text("{")
    ran = p.results("report", "--build-root", run.parents[3], "--out", p.folder("reportbroken") / "r")
    return judge(ran, "ok", check=lambda r: None if r.rc == 0 and "broken run" in r.err else f"exit {r.rc}: {r.last[:100]}")


# ---- the pipeline's command line and make's arguments (nothing runs past the checks) ------------------------------------
def _pipeline_error(name: str, args: list[str], mentions: str | None):
    @case("pipeline", name)
    def body(p: Probe) -> Verdict:
        # from the run stage of an empty build root: a value the checks let through ends at "has not run", not in a stage
        return judge(p.pipeline("run", "--build-root", p.folder("pbr"), "--from", "run", "--to", "run", *args, timeout_s=120),
                     "error", mentions)


_pipeline_error("--task that does not exist", ["--task", "nope", "--board", "pynq_z2"], "nope")
_pipeline_error("--task with a path", ["--task", "../boards", "--board", "pynq_z2"], "task")
_pipeline_error("--board that does not exist", ["--task", "ad", "--board", "nope"], "nope")
_pipeline_error("--flow that does not exist", ["--task", "ad", "--board", "pynq_z2", "--flow", "nope"], "nope")
_pipeline_error("--set without =", ["--task", "ad", "--board", "pynq_z2", "--set", "train.epochs"], "KEY=VALUE")
_pipeline_error("--set a word for a number", ["--task", "ad", "--board", "pynq_z2", "--set", "train.epochs=abc"], "epochs")
_pipeline_error("--set a negative count", ["--task", "ad", "--board", "pynq_z2", "--set", "train.epochs=-1"], "epochs")
_pipeline_error("--set .nan", ["--task", "ad", "--board", "pynq_z2", "--set", "train.epochs=.nan"], "epochs")
_pipeline_error("--set an unknown key", ["--task", "ad", "--board", "pynq_z2", "--set", "train.nope=1"], "nope")
for _bad in ("nan", "inf", "-1", "0"):
    _pipeline_error(f"--window-seconds {_bad}", ["--task", "ad", "--board", "pynq_z2", "--window-seconds", _bad], "window")
_pipeline_error("--iterations 0", ["--task", "ad", "--board", "pynq_z2", "--iterations", "0"], "iterations|> 0")
_pipeline_error("--testset missing", ["--task", "ad", "--board", "pynq_z2", "--testset", "/nonexistent/ad01"],
                "nonexistent|testset")
_pipeline_error("--model missing .onnx", ["--task", "ad", "--board", "pynq_z2", "--flow", "finn", "--model", "/nonexistent.onnx"],
                "nonexistent")
_pipeline_error("--input-scale nan", ["--task", "ad", "--board", "pynq_z2", "--flow", "finn", "--model", "/tmp/x.onnx",
                                      "--input-scale", "nan"], "scale|x.onnx")
_pipeline_error("--data a missing folder", ["--task", "ad", "--board", "pynq_z2", "--data", "/nonexistent/data"], "nonexistent")
_pipeline_error("--dut a missing port", ["--task", "ad", "--board", "pynq_z2", "--dut", "/dev/no-such-port"],
                "no-such-port|has not run")
_pipeline_error("--modes energy on a port", ["--task", "ad", "--board", "pynq_z2", "--dut", "/dev/ttyUSB9", "--modes", "energy"],
                "energy")


@case("pipeline", "--build-root a file")
def _pbr_file(p: Probe) -> Verdict:
    return judge(p.pipeline("run", "--task", "ad", "--board", "pynq_z2", "--build-root", _file(p, "pbrfile"), "--from", "run",
                            "--to", "run"), "error", "pbrfile")


@case("pipeline", "--testset a file")
def _testset_file(p: Probe) -> Verdict:
    return judge(p.pipeline("run", "--task", "ad", "--board", "pynq_z2", "--build-root", p.folder("pbr"), "--from", "run",
                            "--to", "run", "--testset", _file(p, "tsfile")), "error", "testset")


@case("make", "task= with a shell command in it (make -n)")
def _make_injection(p: Probe) -> Verdict:
    ran = p.run(["make", "-n", "task=ad; echo INJECTED", "board=pynq_z2", "to=data"], 30)
    if ran.rc is None:
        return Verdict("hang", "")
    commands = [line for line in ran.out.splitlines() if "pipeline run" in line]
    if commands and re.search(r"--task ad; echo INJECTED", commands[0]):
        return Verdict("wrong", "the value is pasted into the shell command unquoted: `echo INJECTED` would run")
    return Verdict("clear", (commands or [ran.last])[0][:120])


@case("make", "an unknown make variable value (board=nope, make -n)")
def _make_board(p: Probe) -> Verdict:
    ran = p.run(["make", "-n", "task=ad", "board=nope"], 30)
    return Verdict("clear" if ran.rc is not None else "hang", "make -n prints the command; the pipeline refuses board=nope")


# ---- running ------------------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="run the cases whose group or name holds this text")
    ap.add_argument("--keep", action="store_true", help="keep the probe's files")
    ap.add_argument("--list", action="store_true", help="list the cases")
    args = ap.parse_args(argv)
    chosen = [c for c in CASES if not args.only or args.only.lower() in f"{c.group} {c.name}".lower()]
    if args.list:
        print("\n".join(f"{c.group:13} {c.name}" for c in chosen))
        return 0
    base = build_root() / "probe"
    base.mkdir(parents=True, exist_ok=True)
    probe = Probe(Path(tempfile.mkdtemp(dir=base)))
    counts = dict.fromkeys(OUTCOMES, 0)
    print(f"{'group':13} {'case':52} {'outcome':10} detail")
    try:
        for c in chosen:
            start = time.monotonic()
            try:
                verdict = c.body(probe)
            except Exception as e:  # the probe's own set-up failed: that is the probe's bug, shown as such
                verdict = Verdict("traceback", f"(probe) {type(e).__name__}: {e}"[:140])
            counts[verdict.outcome] += 1
            print(f"{c.group:13} {c.name[:52]:52} {verdict.outcome:10} {verdict.detail} ({time.monotonic() - start:.1f} s)",
                  flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(probe.root, ignore_errors=True)
    print(f"\n{len(chosen)} cases: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return 1 if counts["traceback"] or counts["wrong"] or counts["hang"] else 0


if __name__ == "__main__":
    sys.exit(main())
