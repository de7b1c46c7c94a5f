"""Tampered, truncated or damaged result files are not exported: every figure is recomputed from the
raw records first; and a tree edited after its export is named by the checker (the digest list)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from results import checker, integrity, submission
from results.cli import main as results_main
from results.records import RecordsError
from tests.runs import GOLDEN, edit_json, edit_records, make_run


def _sub(path: Path, pattern: str, new: str) -> None:
    text = path.read_text()
    assert re.search(pattern, text), pattern
    path.write_text(re.sub(pattern, new, text))


def _longer_window(records: list[dict]) -> None:
    records[2]["infer"]["elapsed_time"] += 1_000_000


def _no_infer(records: list[dict]) -> None:
    records[0]["infer"] = None


def _manifest_throughput(run: Path) -> None:
    m = json.loads((run / "manifest.json").read_text())
    m["outputs"]["performance"]["throughput"] = 9999.0
    (run / "manifest.json").write_text(json.dumps(m))


TAMPERS = {
    "median throughput": (lambda r: _sub(r / "performance" / "results.txt", r"Median throughput is\s+\S+",
                                         "Median throughput is   9999.000"), "throughput 9999.000 is not"),
    "top-1": (lambda r: _sub(r / "accuracy" / "results.txt", r"Top 1% = \S+", "Top 1% = 99.9"), "top1 99.9 is not"),
    "AUC": (lambda r: _sub(r / "accuracy" / "results.txt", r"AUC = \S+", "AUC = 0.999"), "auc 0.999 is not"),
    "a second median line": (lambda r: (r / "performance" / "results.txt").open("a").write(
        "0101.000000 ulp-mlperf: Median throughput is   9999.000 inf./sec.\n"), "throughput 9999.000 is not 952.1995"),
    "a window's time in the records": (lambda r: edit_records(r, "performance", _longer_window), "window 3 says"),
    "results.json alone": (lambda r: edit_json(r / "performance" / "results.json", _longer_window),
                           "does not hold the records its journal received"),
    "the manifest's median": (_manifest_throughput, "the run manifest: median throughput 9999.0 is not"),
    "truncated results.json": (lambda r: (r / "accuracy" / "results.json").write_text(
        (r / "accuracy" / "results.json").read_text()[:500]), "accuracy/results.json is truncated or not JSON"),
    "empty log.txt": (lambda r: (r / "performance" / "log.txt").write_text(""), "performance/log.txt is empty"),
    "missing results.txt": (lambda r: (r / "accuracy" / "results.txt").unlink(), "accuracy/results.txt is missing"),
    "a record without its inference": (lambda r: edit_records(r, "accuracy", _no_infer), "a record is malformed"),
}


@pytest.mark.parametrize("name", sorted(TAMPERS))
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_tampered_or_damaged_run_is_not_exported(tmp_path, name, dry_run):
    run = make_run(tmp_path / "build")
    tamper, message = TAMPERS[name]
    tamper(run)
    with pytest.raises(RecordsError, match=re.escape(message)):
        submission.export([run], tmp_path / "sub", "Acme", "open", "available", dry_run=dry_run)
    assert not (tmp_path / "sub" / "open" / "Acme").exists()


def test_the_cli_names_the_mismatch_in_one_line(tmp_path, capsys):
    run = make_run(tmp_path / "build")
    TAMPERS["top-1"][0](run)
    assert results_main(["export", "--run", str(run), "--organization", "Acme", "--out", str(tmp_path / "s")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert re.search(r"accuracy/results.txt: top1 99.9 is not 88\.8\d* recomputed from results.json", err)


def test_an_edited_energy_figure_is_not_exported(tmp_path):
    run = make_run(tmp_path / "build", energy_trials=5)
    _sub(run / "energy" / "results.txt", r"Median energy cost is \S+ uJ/inf\.", "Median energy cost is 1.0000 uJ/inf.")
    with pytest.raises(RecordsError, match="energy 1.0000 is not 18375 recomputed"):
        submission.export([run], tmp_path / "sub", "Acme", "open", "available")


def test_the_figures_of_the_mlcommons_runner_are_recomputed_exactly(tmp_path):
    """The MLCommons runner's own files (tests/golden: it drove our emulated DUT): every figure it printed is
    what the records give, to the digit."""
    for mode in ("accuracy", "performance"):
        shutil.copytree(GOLDEN / mode, tmp_path / "run" / mode, ignore=shutil.ignore_patterns("conversation.json"))
    figures = integrity.verify(tmp_path / "run", {}, ("accuracy", "performance"))
    assert round(figures["performance"]["throughput"], 3) == 964.565
    assert (round(figures["accuracy"]["top1"], 1), round(figures["accuracy"]["auc"], 3)) == (87.5, 0.889)


EDITS = {
    "changed since the export": lambda org: _sub(org / "results/pynq_z2-hls4ml/ad/accuracy/results.txt", r"AUC = \S+",
                                                 "AUC = 0.999"),
    "removed since the export": lambda org: (org / "results/pynq_z2-hls4ml/ad/accuracy/results.json").unlink(),
    "added since the export": lambda org: (org / "results/pynq_z2-hls4ml/ad/accuracy/notes.txt").write_text("x"),
}
EDITED = {"changed since the export": "results.txt", "removed since the export": "results.json",
          "added since the export": "notes.txt"}


@pytest.mark.parametrize("what", sorted(EDITS))
def test_the_checker_names_a_file_edited_after_the_export(tmp_path, what, capsys):
    root = submission.export([make_run(tmp_path / "build")], tmp_path / "sub", "Acme", "open", "available")
    assert checker.check(tmp_path / "sub").ok
    EDITS[what](root)
    report = checker.check(tmp_path / "sub")
    assert [(f.path, f.message.split(" (")[0]) for f in report.errors if f.rule == "digest-list"] == [
        (f"open/Acme/results/pynq_z2-hls4ml/ad/accuracy/{EDITED[what]}", what)]
    assert results_main(["check", str(tmp_path / "sub"), "--csv", str(tmp_path / "s.csv")]) == 1
