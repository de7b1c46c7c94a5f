"""ad01 data: synthetic files in the real DCASE layout, the reference front end, EEMBC test files."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest
import soundfile as sf

from common.errors import DatasetError
from tasks.ad import dataset, features, synthetic
from tests.conftest import shared

SPEC = synthetic.SyntheticSpec(machine_ids=(3,), train_per_id=2, test_normal_per_id=2, test_anomaly_per_id=3, seconds=8.5)


@pytest.fixture(scope="module")
def toycar(tmp_path_factory):
    root = tmp_path_factory.mktemp("ToyCar")
    synthetic.generate(SPEC, root)
    return root


def test_synthetic_layout_is_dcase(toycar):
    names = sorted(str(p.relative_to(toycar)) for p in toycar.rglob("*.wav"))
    assert names == [
        "test/anomaly_id_03_00000000.wav", "test/anomaly_id_03_00000001.wav", "test/anomaly_id_03_00000002.wav",
        "test/normal_id_03_00000000.wav", "test/normal_id_03_00000001.wav",
        "train/normal_id_03_00000000.wav", "train/normal_id_03_00000001.wav",
    ]
    info = sf.info(toycar / "train" / "normal_id_03_00000000.wav")
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (16000, 1, "PCM_16", 8.5 * 16000)


def test_synthetic_is_deterministic_and_anomalies_differ(tmp_path):
    a = synthetic.clip(SPEC, 3, 0, 1, None)
    assert np.array_equal(a, synthetic.clip(SPEC, 3, 0, 1, None))
    assert not np.array_equal(a, synthetic.clip(SPEC, 3, 0, 2, None))
    cfg = features.FeatureConfig()
    spectrum = {}
    for fault in (None, "whine"):
        path = tmp_path / f"syn_{fault}.wav"
        sf.write(path, synthetic.clip(SPEC, 3, 1, 0, fault), 16000, subtype="PCM_16")
        spectrum[fault] = features.log_mel(path, cfg).mean(axis=0)
    # a whine adds energy in high mel bands that the normal motor leaves near the noise floor
    assert np.max(spectrum["whine"][80:] - spectrum[None][80:]) > 3.0
    np.testing.assert_allclose(spectrum["whine"][:40], spectrum[None][:40], atol=0.1)  # the motor is unchanged


def test_front_end_shapes_and_frame_major_windows(toycar):
    cfg = features.FeatureConfig()
    m = features.log_mel(toycar / "train" / "normal_id_03_00000000.wav", cfg)
    assert m.shape == (200, 128) and m.dtype == np.float32
    w = features.windows(m, cfg.frames)
    assert w.shape == (196, 640)
    np.testing.assert_array_equal(w[7, 128 * 2 : 128 * 3], m[9])  # vector k, frame j = matrix row k + j


def test_too_short_clip_is_a_clear_error(tmp_path):
    path = tmp_path / "short.wav"
    sf.write(path, np.zeros(16000 * 2), 16000, subtype="PCM_16")
    with pytest.raises(DatasetError, match="need at least 250"):
        features.log_mel(path, features.FeatureConfig())


def test_eembc_export_matches_the_official_format(toycar, tmp_path):
    _, tests = dataset.check_layout(toycar)
    assert [t.anomalous for t in tests] == [False, False, True, True, True]  # normal first, like the official list
    out = tmp_path / "ad01"
    assert dataset.export_eembc(tests, features.FeatureConfig(), out, 2560, 512) == 5
    rows = list(csv.reader(open(out / "y_labels.csv")))
    assert rows[0] == ["normal_id_03_00000000_hist_librosa.bin", "2", "0", "2560", "512"]
    assert (out / rows[0][0]).stat().st_size == 102_400
    files = dataset.read_eembc(out)
    assert [f.windows.shape for f in files] == [(196, 640)] * 5
    row = re.compile(r"^(normal|anomaly)_id_\d\d_\d{8}_hist_librosa\.bin,2,[01],2560,512$")
    assert all(row.match(line) for line in (out / "y_labels.csv").read_text().splitlines())


def test_our_row_format_is_the_official_one():
    official = shared("datasets/ad01/y_labels.csv").read_text().splitlines()
    row = re.compile(r"^(normal|anomaly)_id_\d\d_\d{8}_hist_librosa\.bin,2,([01]),2560,512$")
    assert len(official) == 248 and all(row.match(line) for line in official)
    labels = [row.match(line).group(2) for line in official]
    assert labels == sorted(labels)  # normal files first, as our export writes them


def _train_but_no_test_files(root):
    for folder in ("train", "test"):
        (root / folder).mkdir(parents=True)
    sf.write(root / "train" / "normal_id_01_00000000.wav", np.zeros(10), 16000)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda root: None, "does not exist"),
        (lambda root: (root / "train").mkdir(parents=True), "no .*train/normal_id"),
        (_train_but_no_test_files, "needs both normal"),
    ],
)
def test_bad_dataset_folder_is_a_clear_error(tmp_path, make, message):
    root = tmp_path / "ToyCar"
    make(root)
    with pytest.raises(DatasetError, match=message) as raised:
        dataset.check_layout(root)
    if make is _train_but_no_test_files:
        assert "train/normal_id" not in str(raised.value)  # the train file is there: only the test files are missing
