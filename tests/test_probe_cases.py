"""The cases the rerun of the bad-input probe (bench/probe.py, issue 20 item 8) found ending in a traceback or a
silently wrong result, each fixed: a DUT whose laps give no time or an impossible one, a runner error that
did not say the finished records are kept, a run manifest naming a folder that is not a name, the results
command lines on paths they cannot use, and the pipeline's window length and build root. Real ptys, files
and command lines (in process, their exit status and stderr)."""

from __future__ import annotations

import json

import pytest

from pipeline.cli import main as pipeline_main
from results.cli import main as results_main
from runner.cli import main as runner_main
from tests.fake_dut import READY, FakeDut, write_ad_dataset
from tests.runs import make_run


class LapsDut(FakeDut):
    """Answers every `infer` with the m-lap-us pair given."""

    def __init__(self, start: str, end: str):
        self.laps_given = (start, end)
        super().__init__()

    def answer(self, command: str) -> bytes:
        if command.startswith("infer"):
            start, end = self.laps_given
            return f"m-lap-us-{start}\r\nm-lap-us-{end}\r\nm-infer-done\r\nm-results-[1.0]\r\n".encode() + READY
        return super().answer(command)


@pytest.mark.parametrize("start, end, message", [
    ("500", "100", "gives -400 us (from 500 to 100)"),  # was a window of throughput -0.025 inf/s, exit 0
    ("100", "100", "gives 0 us (from 100 to 100)"),  # was a throughput of 0.0, exit 0
    ("1", "9" * 30, "an m-lap-us beyond a 64-bit microsecond count"),  # was 1e-23 inf/s, exit 0
])
def test_laps_that_give_no_time_are_an_error(tmp_path, capsys, start, end, message):
    write_ad_dataset(tmp_path / "data")
    dut = LapsDut(start, end)
    try:
        rc = runner_main(["--port", dut.port, "--dataset", str(tmp_path / "data"), "--out", str(tmp_path / "out"),
                          "--mode", "p", "--iterations", "10"])
    finally:
        dut.close()
    err = capsys.readouterr().err
    assert rc == 1 and message in err and "Traceback" not in err


def test_a_dut_lost_halfway_says_what_is_kept(tmp_path, capsys):
    class Unplugged(FakeDut):
        def answer(self, command: str) -> bytes:
            if command.startswith("infer") and len([c for c in self.commands if c.startswith("infer")]) > 3:
                self._alive = False  # gone: the serving loop stops, and the host's reads fail
                import os

                os.close(self.master)
                return b""
            return super().answer(command)

    write_ad_dataset(tmp_path / "data", windows=1)
    dut = Unplugged()
    try:
        rc = runner_main(["--port", dut.port, "--dataset", str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--mode", "a"])
    finally:
        dut.close()
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert rc == 1 and f"what was done is kept in {tmp_path / 'out'}: add --resume to go on" in err
    assert len((tmp_path / "out" / "accuracy.journal.jsonl").read_text().splitlines()) == 3


@pytest.mark.parametrize("board", [["x"], "../../../etc", ""])
def test_a_manifest_whose_board_is_not_a_name_is_a_broken_run(tmp_path, capsys, board):
    """A list was a TypeError traceback; a path climbed out of the repository's boards/ folder."""
    run = make_run(tmp_path / "build")
    m = json.loads((run / "manifest.json").read_text())
    m["outputs"]["flow"]["board"] = board
    (run / "manifest.json").write_text(json.dumps(m))
    assert results_main(["export", "--run", str(run), "--organization", "org", "--out", str(tmp_path / "sub")]) == 1
    err = capsys.readouterr().err
    assert "its flow's board" in err and "is not a name" in err and "Traceback" not in err


def test_check_with_a_csv_in_a_missing_folder_is_one_line(tmp_path, capsys):
    run = make_run(tmp_path / "build")
    results_main(["export", "--run", str(run), "--organization", "org", "--out", str(tmp_path / "sub"), "--dry-run"])
    capsys.readouterr()
    csv = tmp_path / "no" / "such" / "s.csv"
    assert results_main(["check", str(tmp_path / "sub"), "--csv", str(csv)]) == 1  # was a traceback
    err = capsys.readouterr().err.strip()
    assert err == f"results: No such file or directory: {tmp_path / 'no' / 'such' / 's.csv'}"


def test_report_refuses_a_build_root_that_is_a_file(tmp_path, capsys):
    """It wrote a report of no runs and exited 0."""
    (tmp_path / "afile").write_text("x")
    assert results_main(["report", "--build-root", str(tmp_path / "afile"), "--out", str(tmp_path / "r")]) == 1
    assert "is not a folder" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_report_out_a_file_is_one_line(tmp_path, capsys):
    run = make_run(tmp_path / "build")
    (tmp_path / "afile").write_text("x")
    assert results_main(["report", "--build-root", str(run.parents[3]), "--out", str(tmp_path / "afile")]) == 1  # a traceback
    err = capsys.readouterr().err
    assert "File exists" in err and "Traceback" not in err


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_pipeline_window_seconds_must_be_a_length(tmp_path, capsys, value):
    """They were taken, and reached the runner's calibration."""
    with pytest.raises(SystemExit) as stop:
        # from the run stage to the run stage: the old code, taking the value, stopped at "stage 'data' has never run"
        pipeline_main(["run", "--task", "ad", "--board", "pynq_z2", "--build-root", str(tmp_path), "--window-seconds", value,
                       "--from", "run", "--to", "run"])
    assert stop.value.code == 2 and f"expected a number of seconds > 0, got '{value}'" in capsys.readouterr().err


def test_pipeline_build_root_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    assert pipeline_main(["run", "--task", "ad", "--board", "pynq_z2", "--build-root", str(tmp_path / "afile"), "--from", "run",
                          "--to", "run"]) == 1  # was NotADirectoryError
    assert f"--build-root {tmp_path / 'afile'} is a file, not a folder" in capsys.readouterr().err


def test_make_passes_each_variable_as_one_word_and_runs_nothing_else():
    """make task="ad; echo PWNED" pasted the value into the shell line: the echo ran (the probe's last silently
    wrong case). Each variable is now one single-quoted word, its own quotes escaped; PY stands in for the
    pipeline and prints the arguments it gets."""
    import subprocess
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    ran = subprocess.run(["make", "-s", "-o", ".venv/.installed", "task=ad; echo PWNED", "testset=it's here",
                          "set=a=1 b='2'", "modes=performance energy", "PY=printf [%s]"],
                         cwd=repo, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == ("[-m][pipeline][run][--task][ad; echo PWNED][--board][pynq_z2][--flow][hls4ml][--data][auto]"
                          "[--model][trained][--dut][emulated][--testset][it's here][--modes][performance][energy]"
                          "[--set][a=1][--set][b='2']")
