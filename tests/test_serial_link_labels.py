"""ad01's alternative test list (y_labels_alt.csv, 72 of the 248 files): the runner's accuracy mode
runs the list --labels names, and its results say which list ran. Real files, a scripted DUT on a real pty."""

from __future__ import annotations

import json

import pytest

from runner.cli import main as runner_main
from tests.fake_dut import FakeDut, write_ad_dataset


def test_the_alternative_list_is_run_and_named(tmp_path):
    write_ad_dataset(tmp_path / "data", files=6, windows=2)
    rows = (tmp_path / "data/ad01/y_labels.csv").read_text().splitlines()
    alt = [rows[0], rows[1], rows[4], rows[5]]  # both classes, 4 of the 6 files
    (tmp_path / "data/ad01/y_labels_alt.csv").write_text("\n".join(alt) + "\n")
    dut = FakeDut(score=lambda data: f"{data[0] / 10:.3f}")
    try:
        assert runner_main(["--port", dut.port, "--dataset", str(tmp_path / "data"), "--mode", "a", "--labels",
                            "y_labels_alt.csv", "--out", str(tmp_path / "out")]) == 0
    finally:
        dut.close()
    records = json.loads((tmp_path / "out/accuracy/results.json").read_text())
    ran = {r["file"] for r in records if "file" in r}
    assert ran == {row.split(",")[0] for row in alt}
    assert "test list: ad01/y_labels_alt.csv (4 files)" in (tmp_path / "out/accuracy/log.txt").read_text()


@pytest.mark.parametrize("name", ["../y_labels.csv", "/tmp/y.csv"])
def test_labels_is_a_name_in_the_model_folder(tmp_path, capsys, name):
    with pytest.raises(SystemExit):
        runner_main(["--port", "/dev/null", "--dataset", str(tmp_path), "--labels", name])
    assert "a file name inside <model id>/" in capsys.readouterr().err


def test_a_missing_alternative_list_is_one_line(tmp_path, capsys):
    write_ad_dataset(tmp_path / "data")
    assert runner_main(["--port", "/dev/null", "--dataset", str(tmp_path / "data"), "--labels", "y_labels_alt.csv",
                        "--out", str(tmp_path / "out")]) == 1
    assert "no <model id>/y_labels_alt.csv under" in capsys.readouterr().err
