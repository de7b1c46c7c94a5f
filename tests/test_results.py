"""Submission export, the checker and the honesty gate, on run folders shaped like the pipeline's
(results files taken from the MLC runner recordings in tests/golden)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from common.errors import HarnessError
from results import checker, submission
from results.cli import main as results_main
from tests.runs import GOLDEN, make_run


@pytest.fixture
def tree(tmp_path) -> Path:
    """A complete tree from a run the gate accepts."""
    run = make_run(tmp_path / "build")
    return submission.export([run], tmp_path / "sub", "Acme", "closed", "available").parent.parent


def test_an_exported_tree_passes_the_checker(tree, tmp_path):
    org = tree / "closed" / "Acme"
    assert sorted(p.name for p in (org / "results" / "pynq_z2-hls4ml" / "ad" / "performance").iterdir()) == \
        ["log.txt", "results.json", "results.txt"]
    desc = json.loads((org / "systems" / "pynq_z2-hls4ml.json").read_text())
    assert desc["Status"] == "available" and "system_type" not in desc and desc["Processor(s) Frequencies"] == "650 MHz"
    assert {"Operating System ", "Operating System", "Quantization Method", "Training and Quantization Notes"} <= set(desc)
    code = org / "code" / "ad" / "pynq_z2-hls4ml"
    assert (code / "tasks" / "ad" / "task.yaml").is_file() and (code / "boards" / "common" / "firmware" / "ee_core.c").is_file()
    assert not list(code.rglob("__pycache__"))
    report = checker.check(tree, tmp_path / "summary.csv")
    assert report.ok, [str(f) for f in report.errors]
    row = report.rows[0]
    median = float((GOLDEN / "performance" / "results.txt").read_text().split("Median throughput is")[1].split()[0])
    assert (row["Model"], row["Result"], row["Accuracy"], row["Division"]) == ("ad", median, 0.889, "closed")
    header = (tmp_path / "summary.csv").read_text().splitlines()[0]
    assert header.startswith("Organization,Availability,Division,BoardName,SystemDesc,Model,MlperfModel,Result")
    assert results_main(["check", str(tree), "--csv", str(tmp_path / "s2.csv")]) == 0


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


RESULTS = "closed/Acme/results/pynq_z2-hls4ml/ad"
BREAKS = {
    "missing file": (lambda t: (t / RESULTS / "accuracy" / "results.txt").unlink(), "required-files", f"{RESULTS}/accuracy"),
    "bad result line": (lambda t: _replace(t / RESULTS / "performance" / "results.txt", "Median throughput is", "Median is"),
                        "throughput-line", f"{RESULTS}/performance/results.txt"),
    "extra file": (lambda t: (t / RESULTS / "accuracy" / "notes.txt").write_text("x"), "file-list", f"{RESULTS}/accuracy"),
    "symlink": (lambda t: os.symlink("results.txt", t / RESULTS / "accuracy" / "link.txt"), "no-symlinks",
                f"{RESULTS}/accuracy/link.txt"),
    "empty folder": (lambda t: (t / "closed/Acme/code/empty").mkdir(), "no-empty-folders", "closed/Acme/code/empty"),
    "pycache": (lambda t: (t / "closed/Acme/code/__pycache__").mkdir()
                          or (t / "closed/Acme/code/__pycache__/x.pyc").write_text(""),
                "no-pycache", "closed/Acme/code/__pycache__"),
    "bad status": (lambda t: _replace(t / "closed/Acme/systems/pynq_z2-hls4ml.json", '"available"', '"sold"'),
                   "status", "closed/Acme/systems/pynq_z2-hls4ml.json"),
    "system type": (lambda t: _replace(t / "closed/Acme/systems/pynq_z2-hls4ml.json", '"Status"',
                                       '"system_type": "edge", "Status"'),
                    "no-system-type", "closed/Acme/systems/pynq_z2-hls4ml.json"),
    "closed accuracy below target": (lambda t: _replace(t / RESULTS / "accuracy" / "results.txt", "AUC = 0.889", "AUC = 0.801"),
                                     "closed-accuracy-target", f"{RESULTS}/accuracy/results.txt"),
    "ic2 without ic": (lambda t: shutil.copytree(t / RESULTS, t / "closed/Acme/results/pynq_z2-hls4ml/ic2"), "ic2-needs-ic",
                       "closed/Acme/results/pynq_z2-hls4ml/ic2"),
    "unknown benchmark": (lambda t: shutil.copytree(t / RESULTS, t / "closed/Acme/results/pynq_z2-hls4ml/anomaly"),
                          "benchmark-name", "closed/Acme/results/pynq_z2-hls4ml/anomaly"),
    "missing system": (lambda t: (t / "closed/Acme/systems/pynq_z2-hls4ml.json").rename(t / "closed/Acme/systems/other.json"),
                       "system-description", "closed/Acme/results/pynq_z2-hls4ml"),
}


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_the_checker_names_each_broken_rule(tree, name):
    breaks, rule, path = BREAKS[name]
    breaks(tree)
    report = checker.check(tree)
    assert not report.ok
    assert [(f.rule, f.path) for f in report.errors] == [(rule, path)], [str(f) for f in report.errors]


def test_open_division_accepts_accuracy_below_the_closed_target(tmp_path):
    run = make_run(tmp_path / "build")
    _replace(run / "accuracy" / "results.txt", "AUC = 0.889", "AUC = 0.801")
    tree = submission.export([run], tmp_path / "sub", "Acme", "open", "available").parent.parent
    assert checker.check(tree).ok


@pytest.mark.parametrize(
    "kind, reason",
    [
        ({"data": "synthetic"}, "the data is synthetic"),
        ({"link": "host-emulation", "timing": "host-clock"}, "not a physical board but an emulated DUT"),
        ({"link": "qemu", "timing": "host-clock"}, "not a physical board but an emulation: firmware in QEMU"),
        ({"timing": "modeled"}, "its times are modeled board timing"),
        ({"window_s": 9.5}, "performance window 1 lasted 9.500 s"),
    ],
)
def test_the_honesty_gate_refuses_with_the_reason(tmp_path, kind, reason):
    run = make_run(tmp_path / "build", **kind)
    with pytest.raises(submission.ExportRefused, match=reason):
        submission.export([run], tmp_path / "sub", "Acme", "open", "available")
    assert not (tmp_path / "sub").exists()  # nothing written


def test_a_dry_run_writes_a_practice_tree_the_checker_accepts(tmp_path):
    run = make_run(tmp_path / "build", link="host-emulation", timing="host-clock", data="synthetic")
    root = submission.export([run], tmp_path / "sub", "Acme", "open", "available", dry_run=True)
    assert checker.check(tmp_path / "sub").ok
    desc = json.loads((root / "systems" / "pynq_z2-hls4ml.json").read_text())
    for key in ("Hardware Notes", "Software Notes", "Training and Quantization Notes"):
        assert desc[key].startswith(submission.PRACTICE)
    for mode in ("accuracy", "performance"):
        for name in ("log.txt", "results.txt"):
            assert (root / "results" / "pynq_z2-hls4ml" / "ad" / mode / name).read_text().startswith(submission.PRACTICE)
    assert submission.PRACTICE in (root / "README.md").read_text()
    assert submission.PRACTICE in (root / "code" / "ad" / "pynq_z2-hls4ml" / "README.md").read_text()


@pytest.mark.parametrize("args, message", [(("Acme", "middle", "available"), "division"), (("Acme", "open", "sold"), "status"),
                                           (("Ac me", "open", "available"), "organization")])
def test_bad_export_inputs(tmp_path, args, message):
    run = make_run(tmp_path / "build")
    with pytest.raises(HarnessError, match=message):
        submission.export([run], tmp_path / "sub", *args)


def test_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert results_main(["export", "--run", str(tmp_path), "--organization", "Acme", "--out", str(tmp_path / "s")]) == 1
    assert "is not a finished run stage" in capsys.readouterr().err
