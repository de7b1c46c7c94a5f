"""The pipeline's command line and stage folders, without running a model."""

from __future__ import annotations

import pytest

from pipeline.artifacts import StageDir, StageError
from pipeline.cli import main


def _main(capsys, *args) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


def test_a_missing_board_port_stops_before_any_stage(tmp_path, capsys):
    code, err = _main(capsys, "run", "--task", "ad", "--board", "pynq_z2", "--dut", "/dev/nosuch", "--build-root", str(tmp_path))
    assert code == 1 and "dut=/dev/nosuch: no such serial port" in err
    assert list(tmp_path.iterdir()) == []  # nothing started, nothing half-written


@pytest.mark.parametrize(
    "args, message",
    [
        (["--set", "train.epochs.x=1"], "cannot set 'train.epochs.x'"),
        (["--set", "epochs"], "--set expects KEY=VALUE"),
        (["--flow", "vitis"], "unknown flow 'vitis'"),
        (["--task", "nosuch"], "unknown task 'nosuch'"),
        (["--board", "zcu104"], "unknown board 'zcu104'"),
        (["--model", "retrained"], "task ad has no model 'retrained'"),
        (["--task", "kws", "--testset", "/nonexistent/kws01"], "not an EEMBC test folder for kws01"),
    ],
)
def test_bad_options_are_messages_not_tracebacks(tmp_path, capsys, args, message):
    # argparse keeps the last --task/--board given, so `args` override the defaults in front
    code, err = _main(capsys, "run", "--build-root", str(tmp_path), "--to", "data", "--task", "ad", "--board", "pynq_z2", *args)
    assert code == 1 and message in err


def test_dut_needs_a_built_flow(tmp_path, capsys):
    code, err = _main(capsys, "dut", "--task", "ad", "--board", "pynq_z2", "--build-root", str(tmp_path))
    assert code == 1 and "stage 'build' has not run" in err


@pytest.mark.parametrize("port", ["99999", "abc"])
def test_dut_tcp_port_is_checked(tmp_path, capsys, port):
    with pytest.raises(SystemExit):
        main(["dut", "--task", "ad", "--board", "pynq_z2", "--tcp", port])
    assert "a TCP port is a number from 0 to 65535" in capsys.readouterr().err


def test_a_failed_stage_keeps_what_it_wrote_and_leaves_nothing_finished(tmp_path):
    stage = StageDir("x", tmp_path / "x")

    def fails_after_writing(out):
        (out / "half.txt").write_text("partial")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        stage.run("k", {}, fails_after_writing)
    assert (tmp_path / "x.partial" / "half.txt").is_file() and not stage.path.exists()
    with pytest.raises(RuntimeError):
        stage.run("k", {}, lambda out: (_ for _ in ()).throw(RuntimeError("nothing written")))
    assert not (tmp_path / "x.partial").exists()  # an empty partial folder is not kept
    with pytest.raises(StageError, match="names outputs it did not write"):
        stage.run("k", {}, lambda out: {"artifacts": {"model": "model.h5"}})
    manifest = stage.run("k", {"a": 1}, lambda out: (out / "m.h5").write_text("") or {"artifacts": {"model": "m.h5"}})
    assert manifest["status"] == "done" and stage.artifacts() == {"model": stage.path / "m.h5"}


def test_resume_keeps_what_the_interrupted_attempt_wrote(tmp_path):
    stage = StageDir("run", tmp_path / "run")

    def interrupted(out):
        (out / "accuracy.journal.jsonl").write_text('{"file": "a.bin"}\n')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stage.run("k", {}, interrupted)
    seen = []
    stage.run("k", {}, lambda out: seen.append((out / "accuracy.journal.jsonl").read_text()) or {}, keep_partial=True)
    assert seen == ['{"file": "a.bin"}\n']
    assert (stage.path / "accuracy.journal.jsonl").is_file() and not (tmp_path / "run.partial").exists()
