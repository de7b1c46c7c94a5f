"""The division and the test set are facts the export checks (issue 18 item 2): closed only for the
MLPerf reference model with post-training steps, at the quality target; any division only on an
official test set, by name, class and (kws01) content. The closed kws reference run on a board-like
DUT needs the official kws01 files (../shared/datasets/kws01) and skips without them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from results import checker, official, submission
from tests.conftest import shared
from tests.runs import make_run


@pytest.fixture
def kws01() -> Path:
    return shared("datasets/kws01")


def _refused(run: Path, tmp_path: Path, division: str = "closed") -> str:
    with pytest.raises(submission.ExportRefused) as refused:
        submission.export([run], tmp_path / "sub", "Acme", division, "available")
    assert not (tmp_path / "sub").exists()
    return str(refused.value)


def test_closed_division_accepts_the_kws_reference_run_on_a_board(tmp_path, kws01):
    run = make_run(tmp_path / "build", task="kws", model="reference", testset=kws01, wrong_every=13)
    root = submission.export([run], tmp_path / "sub", "Acme", "closed", "available")
    report = checker.check(tmp_path / "sub")
    assert report.ok, [str(f) for f in report.errors]
    row = report.rows[0]
    assert (row["Division"], row["Model"], row["SystemDesc"], row["Accuracy"]) == \
        ("closed", "kws", "pynq_z2-hls4ml-reference", 92.3)
    desc = json.loads((root / "systems" / "pynq_z2-hls4ml-reference.json").read_text())
    assert desc["Division"] == "closed" and desc["Quantization Method"].startswith("post-training quantization (PTQ)")


def test_closed_division_accepts_the_finn_int8_reference_run_on_a_board(tmp_path, kws01):
    from results.division import reference_digests

    if "reference_int8" not in reference_digests("kws"):
        pytest.skip("tasks/kws/task.yaml has no int8 reference model (reference: int8:) in this checkout")
    run = make_run(tmp_path / "build", task="kws", flow="finn", model="reference", testset=kws01, wrong_every=13)
    submission.export([run], tmp_path / "sub", "Acme", "closed", "available")
    assert checker.check(tmp_path / "sub").rows[0]["SystemDesc"] == "pynq_z2-finn-reference"


def test_closed_division_refuses_a_trained_model(tmp_path):
    run = make_run(tmp_path / "build")
    why = _refused(run, tmp_path)
    assert "model=trained is not the MLPerf reference model: a trained or imported model is open division" in why
    assert submission.export([run], tmp_path / "open", "Acme", "open", "available")  # where it belongs


def test_closed_division_refuses_below_the_quality_target(tmp_path):
    run = make_run(tmp_path / "build", wrong_every=3)
    assert "closed division needs auc >= 0.85 for ad; the run has 0.667 (below the quality target)" in _refused(run, tmp_path)


def test_closed_division_refuses_the_kws_reference_below_target(tmp_path, kws01):
    run = make_run(tmp_path / "build", task="kws", model="reference", testset=kws01, wrong_every=5)
    why = _refused(run, tmp_path)
    assert why.endswith("closed division needs top-1 >= 90 for kws; the run has 80.000 (below the quality target)")
    assert submission.export([run], tmp_path / "open", "Acme", "open", "available")  # open division: reported, not gated


@pytest.mark.parametrize("edit, reason", [
    (lambda train, convert: train["inputs"]["params"]["reference"].update(sha256="f" * 64),
     "the model file's sha256 ffff"),
    (lambda train, convert: train["inputs"]["params"].pop("reference"),
     "the train stage trained a model rather than importing the reference"),
    (lambda train, convert: train.update(key="0" * 64), "the train stage at"),
    (lambda train, convert: convert.update(key="0" * 64), "the convert stage at"),
])
def test_closed_division_needs_the_reference_file_imported_by_the_stages_that_made_the_run(tmp_path, edit, reason):
    run = make_run(tmp_path / "build", task="kws", model="reference")
    files = {s: run.parents[2] / "hls4ml" / "reference" / "manifest.json" if s == "train" else run.parent / s / "manifest.json"
             for s in ("train", "convert")}
    manifests = {s: json.loads(p.read_text()) for s, p in files.items()}
    edit(manifests["train"], manifests["convert"])
    for s, p in files.items():
        p.write_text(json.dumps(manifests[s]))
    assert reason in _refused(run, tmp_path)


def test_any_division_refuses_a_test_set_that_is_not_official(tmp_path):
    labels = official.load("ad01_alt").labels
    run = make_run(tmp_path / "build", files=dict(list(labels.items())[:60]))
    why = _refused(run, tmp_path, "open")
    assert "the accuracy run did not use an official test set: 60 files against the 72 of ad01_alt: 12 of its files " \
           "missing (e.g. anomaly_id_03_" in why and why.endswith("0 not in it")


def test_any_division_refuses_files_labelled_otherwise(tmp_path):
    labels = dict(official.load("ic01").labels)
    first = next(iter(labels))
    labels[first] = (labels[first] + 1) % 10
    run = make_run(tmp_path / "build", task="ic", files=labels)
    assert f"1 file(s) carry another class than in ic01 (e.g. {first})" in _refused(run, tmp_path, "open")


def test_any_division_refuses_test_files_whose_content_is_not_official(tmp_path, kws01):
    copy = tmp_path / "data" / "kws01"
    shutil.copytree(kws01, copy)
    (copy / "tst_000007_Yes_9.bin").write_bytes(bytes(490))
    run = make_run(tmp_path / "build", task="kws", testset=copy, wrong_every=13)
    assert f"1 test file(s) of {copy} are not the official kws01 content (e.g. tst_000007_Yes_9.bin)" in \
        _refused(run, tmp_path, "open")


def test_any_division_refuses_test_files_changed_since_the_run(tmp_path, kws01):
    copy = tmp_path / "data" / "kws01"
    shutil.copytree(kws01, copy)
    run = make_run(tmp_path / "build", task="kws", testset=copy, wrong_every=13)
    assert submission.export([run], tmp_path / "first", "Acme", "open", "available")
    stat = (copy / "tst_000003_Up_8.bin").stat()
    os.utime(copy / "tst_000003_Up_8.bin", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert f"1 file(s) of {copy} changed since the run (e.g. tst_000003_Up_8.bin)" in _refused(run, tmp_path, "open")


def test_the_official_lists_are_the_shared_ones():
    """results/official/ holds the y_labels.csv rows of ../shared/datasets, and kws01's digests are of its files."""
    import csv
    import hashlib

    for name, source in (("kws01", "kws01/y_labels.csv"), ("ic01", "ic01/y_labels.csv"), ("ad01", "ad01/y_labels.csv"),
                         ("ad01_alt", "ad01/y_labels_alt.csv")):
        rows = [r for r in csv.reader(shared(f"datasets/{source}").open()) if r]
        assert official.load(name).labels == {r[0]: int(r[2]) for r in rows}
    kws = official.load("kws01")
    assert len(kws.digests) == 1000
    folder = shared("datasets/kws01")
    assert all(hashlib.sha256((folder / f).read_bytes()).hexdigest() == d for f, d in kws.digests.items())
