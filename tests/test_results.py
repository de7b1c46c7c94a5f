"""Submission export, the checker and the honesty gate, on run folders shaped like the pipeline's
(results files taken from the MLC runner recordings in tests/golden)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from common.errors import HarnessError
from results import checker, digests, submission
from results.cli import main as results_main
from tests.runs import make_run


@pytest.fixture
def tree(tmp_path) -> Path:
    """A complete tree from a run the gate accepts (a trained model on the official ad01 alternative list: open division)."""
    run = make_run(tmp_path / "build")
    return submission.export([run], tmp_path / "sub", "Acme", "open", "available").parent.parent


@pytest.fixture
def closed_tree(tmp_path) -> Path:
    """A closed-division tree the checker accepts as it is, to break one rule at a time (a rehearsal: a trained
    model is not closed division, so the gate would refuse it)."""
    run = make_run(tmp_path / "build")
    return submission.export([run], tmp_path / "sub", "Acme", "closed", "available", dry_run=True).parent.parent


def test_an_exported_tree_passes_the_checker(tree, tmp_path):
    org = tree / "open" / "Acme"
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
    run = tmp_path / "build" / "ad" / "hls4ml" / "pynq_z2" / "run"
    median = float((run / "performance" / "results.txt").read_text().split("Median throughput is")[1].split()[0])
    auc = float((run / "accuracy" / "results.txt").read_text().split("AUC = ")[1].split()[0])
    assert (row["Model"], row["Result"], row["Accuracy"], row["Division"]) == ("ad", median, auc, "open")
    header = (tmp_path / "summary.csv").read_text().splitlines()[0]
    assert header.startswith("Organization,Availability,Division,BoardName,SystemDesc,Model,MlperfModel,Result")
    assert results_main(["check", str(tree), "--csv", str(tmp_path / "s2.csv")]) == 0


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


RESULTS = "closed/Acme/results/pynq_z2-hls4ml/ad"
AUC_LINE = "AUC = 0.889"
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
    "closed accuracy below target": (lambda t: _replace(t / RESULTS / "accuracy" / "results.txt", AUC_LINE, "AUC = 0.801"),
                                     "closed-accuracy-target", f"{RESULTS}/accuracy/results.txt"),
    "ic2 without ic": (lambda t: shutil.copytree(t / RESULTS, t / "closed/Acme/results/pynq_z2-hls4ml/ic2"), "ic2-needs-ic",
                       "closed/Acme/results/pynq_z2-hls4ml/ic2"),
    "unknown benchmark": (lambda t: shutil.copytree(t / RESULTS, t / "closed/Acme/results/pynq_z2-hls4ml/anomaly"),
                          "benchmark-name", "closed/Acme/results/pynq_z2-hls4ml/anomaly"),
    "missing system": (lambda t: (t / "closed/Acme/systems/pynq_z2-hls4ml.json").rename(t / "closed/Acme/systems/other.json"),
                       "system-description", "closed/Acme/results/pynq_z2-hls4ml"),
}


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_the_checker_names_each_broken_rule(closed_tree, name):
    assert checker.check(closed_tree).ok
    breaks, rule, path = BREAKS[name]
    breaks(closed_tree)
    report = checker.check(closed_tree)
    assert not report.ok
    # each break is also a change the export's digest list names (tests/test_export_integrity.py)
    assert [(f.rule, f.path) for f in report.errors if f.rule != "digest-list"] == [(rule, path)], [str(f) for f in report.errors]


def test_open_division_accepts_accuracy_below_the_closed_target(tmp_path):
    run = make_run(tmp_path / "build", wrong_every=3)  # a third of the files answered wrong: AUC 0.667
    assert "AUC = 0.667" in (run / "accuracy" / "results.txt").read_text()
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


def test_a_second_run_of_a_benchmark_on_one_system_is_refused_and_the_earlier_tree_kept(tree, tmp_path):
    run = tmp_path / "build" / "ad" / "hls4ml" / "pynq_z2" / "run"
    other = make_run(tmp_path / "elsewhere")
    with pytest.raises(HarnessError, match="two runs give ad of system pynq_z2-hls4ml: .* a submission holds one result"):
        submission.export([run, other], tmp_path / "sub", "Acme", "open", "available")
    with pytest.raises(HarnessError, match="two runs give ad of system pynq_z2-hls4ml"):
        submission.export([run, run], tmp_path / "sub", "Acme", "open", "available")
    assert checker.check(tree).ok  # the tree of the first export, whole, its digest list unchanged
    assert [p.name for p in (tree / "open").iterdir()] == ["Acme"]  # nothing half-written beside it


def test_runs_of_other_models_on_one_board_and_flow_get_their_own_system(tmp_path):
    trained = make_run(tmp_path / "build", task="kws")
    reference = make_run(tmp_path / "build", task="kws", model="reference")
    root = submission.export([trained, reference], tmp_path / "sub", "Acme", "open", "available", dry_run=True)
    assert sorted(p.name for p in (root / "results").iterdir()) == ["pynq_z2-hls4ml", "pynq_z2-hls4ml-reference"]
    assert sorted(p.name for p in (root / "code" / "kws").iterdir()) == ["pynq_z2-hls4ml", "pynq_z2-hls4ml-reference"]


def test_exporting_again_replaces_the_tree_whole(tree, tmp_path):
    """The tree holds the runs of the last export; it is written beside and renamed into place, so a
    failure while writing leaves the previous tree as it was."""
    org = tree / "open" / "Acme"
    (org / "results" / "stale").mkdir()
    submission.export([tmp_path / "build" / "ad" / "hls4ml" / "pynq_z2" / "run"], tmp_path / "sub", "Acme", "open", "available")
    assert not (org / "results" / "stale").exists() and checker.check(tree).ok
    before = (org / digests.NAME).read_text()
    with pytest.raises(RuntimeError), submission._staged(org) as staging:
        (staging / "half").write_text("written before the failure")
        raise RuntimeError("failed halfway")
    assert (org / digests.NAME).read_text() == before and not (org / "half").exists()
    assert [p.name for p in (tree / "open").iterdir()] == ["Acme"]


def test_an_out_folder_that_is_a_file(tmp_path, capsys):
    run = make_run(tmp_path / "build")
    (tmp_path / "taken").write_text("a file")
    assert results_main(["export", "--run", str(run), "--organization", "Acme", "--out", str(tmp_path / "taken")]) == 1
    assert "cannot write the tree under" in capsys.readouterr().err


def test_a_run_without_its_performance_folder(tmp_path, capsys):
    run = make_run(tmp_path / "build")
    shutil.rmtree(run / "performance")
    assert results_main(["export", "--run", str(run), "--organization", "Acme", "--out", str(tmp_path / "s")]) == 1
    assert f"{run} has no performance/ folder: the run made no performance result" in capsys.readouterr().err


@pytest.mark.parametrize("kind, system, quantization", [
    ({}, "none (bare metal)", "quantization-aware training (QAT) with QKeras"),
    ({"linux": True}, "PYNQ Linux", "quantization-aware training (QAT) with QKeras"),
    ({"task": "kws", "model": "reference"}, "none (bare metal)", "post-training quantization (PTQ)"),
    ({"flow": "finn"}, "none (bare metal)", "quantization-aware training (QAT) with Brevitas"),
])
def test_the_system_description_says_what_ran(tmp_path, kind, system, quantization):
    run = make_run(tmp_path / "build", **kind)
    root = submission.export([run], tmp_path / "sub", "Acme", "open", "available", dry_run=True)
    desc = json.loads(next((root / "systems").iterdir()).read_text())
    assert desc["Operating System"].startswith(system) and desc["Operating System "] == desc["Operating System"]
    assert desc["Quantization Method"].startswith(quantization)
    assert desc["Inference Framework"].startswith("hls4ml" if kind.get("flow") != "finn" else "finn-plus")
    if kind.get("linux"):
        assert desc["General Compiler(s)"] == "arm-linux-gnueabihf-gcc"
    if kind.get("model") == "reference":
        assert desc["Training framework (open division)"].startswith("none: the MLPerf reference model, not retrained")


def test_energy_measured_on_a_board_is_exported(tmp_path):
    run = make_run(tmp_path / "build", energy_trials=5)
    root = submission.export([run], tmp_path / "sub", "Acme", "open", "available")
    energy = root / "results" / "pynq_z2-hls4ml" / "ad" / "energy"
    assert sorted(p.name for p in energy.iterdir()) == ["log.txt", "results.json", "results.txt"]
    row = checker.check(tmp_path / "sub").rows[0]
    assert (row["HasPower"], row["Power"]) == (True, 18375.0)  # 1.75 W for 10.5 s over 1000 inferences


@pytest.mark.parametrize("kind, reason", [
    ({"energy_trials": 4}, "the energy run has 4 trials, not the 5 the run rules ask"),
    ({"energy_trials": 5, "trial_s": 9.5}, "energy trial 0 lasted 9.500 s, under the 10 s the run rules ask"),
])
def test_an_energy_run_the_rules_do_not_accept_is_refused(tmp_path, kind, reason):
    run = make_run(tmp_path / "build", **kind)
    with pytest.raises(submission.ExportRefused, match=reason):
        submission.export([run], tmp_path / "sub", "Acme", "open", "available")
