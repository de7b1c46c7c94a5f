"""The ic01 recipe: CIFAR-10 batches and ic01 test files byte for byte, synthetic images a colour
classifier cannot tell apart, the firmware's pixel mapping on the emulated board, the synthetic
flow end to end on a small configuration, and the MLPerf reference ResNet-8 through hls4ml."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from common import provenance
from runner.cli import run
from runner.emulated import emulated_dut
from tasks import load_recipe
from tasks.ic import cifar, synthetic, testset
from tests.conftest import build_stub_dut, shared

CLASSES = load_recipe("ic").cfg.classes


def _planar_batch(path, rows: np.ndarray, labels, names):
    """A batch pickled as CIFAR-10's own files are: planar rows, bytes keys (written here by hand,
    not by cifar.write_batch, so the reader is checked against the format itself)."""
    with open(path, "wb") as f:
        pickle.dump({b"batch_label": b"testing batch 1 of 1", b"labels": list(labels), b"data": rows,
                     b"filenames": [n.encode() for n in names]}, f, protocol=2)


def test_a_known_image_reads_back_in_hwc_order(tmp_path):
    y, x = np.mgrid[0:32, 0:32]
    red, green, blue = (y * 32 + x) % 256, (x * 7) % 256, 255 - y
    row = np.concatenate([red.ravel(), green.ravel(), blue.ravel()]).astype(np.uint8)  # CIFAR: 1024 R, 1024 G, 1024 B
    other = np.full(3072, 9, np.uint8)
    _planar_batch(tmp_path / "test_batch", np.stack([other, row]), [3, 8], ["cat_s_000001.png", "ship_s_000002.png"])
    images, labels, names = cifar.read_batch(tmp_path / "test_batch")
    testset.export(images, labels, names, np.array([1, 0]), 10, tmp_path / "ic01")

    assert (tmp_path / "ic01" / "y_labels.csv").read_text() == "ship_s_000002.bin,10,8\ncat_s_000001.bin,10,3\n"
    raw = np.frombuffer((tmp_path / "ic01" / "ship_s_000002.bin").read_bytes(), np.uint8)
    assert len(raw) == 3072
    # HWC: byte 3 * (32 * row + col) + channel
    for r, c in [(0, 0), (0, 1), (5, 17), (31, 31)]:
        assert raw[3 * (32 * r + c):3 * (32 * r + c) + 3].tolist() == [red[r, c], green[r, c], blue[r, c]]
    back, back_labels = testset.read(tmp_path, "ic01", 3072)
    assert back_labels.tolist() == [8, 3] and (back[0] == images[1]).all() and (back[1] == 9).all()


def test_a_truncated_batch_is_a_clear_error(tmp_path):
    (tmp_path / "test_batch").write_bytes(b"\x80\x02}q\x00")
    with pytest.raises(Exception, match="not a CIFAR-10 pickle batch"):
        cifar.read_batch(tmp_path / "test_batch")
    with pytest.raises(Exception, match="missing data_batch_1"):
        cifar.check_layout(tmp_path)


def test_synthetic_batches_are_cifar_format_and_need_shapes_not_colours(tmp_path):
    cfg = load_recipe("ic", {"data.synthetic.images_per_batch": 200}).cfg
    synthetic.generate(cfg.data.synthetic, CLASSES, tmp_path)
    sets = cifar.read(tmp_path)
    assert cifar.label_names(tmp_path) == CLASSES
    x, y, names = sets["train"]
    assert x.shape == (1000, 32, 32, 3) and np.bincount(y).tolist() == [100] * 10
    assert names[0].endswith(".png") and len(set(names)) == 1000
    # a nearest-centroid classifier on colour statistics stays near chance (1/10)
    def colour(images):
        f = images.reshape(len(images), -1, 3).astype(np.float64)
        return np.concatenate([f.mean(1), f.std(1)], axis=1)
    centroids = np.stack([colour(x[y == k]).mean(0) for k in range(10)])
    xt, yt, _ = sets["test"]
    guess = np.argmin(((colour(xt)[:, None, :] - centroids[None]) ** 2).sum(-1), axis=1)
    assert np.mean(guess == yt) < 0.3


def test_the_firmware_feeds_the_accelerator_each_pixel_exactly(tmp_path):
    """The stub accelerator returns its first 10 inputs as logits: the DUT's softmax then shows
    which values th_load_tensor made of the first pixel bytes (pixel / 256 for the trained model)."""
    binary = build_stub_dut(tmp_path / "dut", task="ic")["performance"]
    folder = tmp_path / "data" / "ic01"
    folder.mkdir(parents=True)
    pixels = np.zeros(3072, np.uint8)
    pixels[:10] = [0, 255, 128, 1, 64, 200, 3, 250, 17, 99]
    (folder / "a.bin").write_bytes(pixels.tobytes())
    (folder / "y_labels.csv").write_text("a.bin,10,1\n")
    with emulated_dut(binary) as url:
        summary = run(url, tmp_path / "data", tmp_path / "out", ["accuracy"], provenance.emulated(data="synthetic"))
    record = next(r for r in json.loads((tmp_path / "out" / "accuracy" / "results.json").read_text()) if "infer" in r)
    logits = pixels[:10] / 256.0
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert np.allclose(record["infer"]["results"], expected, atol=5e-7)
    assert summary["accuracy"]["top1"] == 100.0


def test_the_int8_reference_input_is_pixel_minus_offset_and_the_trained_models_pixel_over_256(tmp_path):
    """The int8 reference's input is q - zero_point, q = pixel - 128 (as the reference DUT makes it): the
    recipe's defines give the firmware that offset (0 for the official model's zero point -128); the trained
    model keeps pixel / 2^8 (offset 0, shift 8)."""
    recipe = load_recipe("ic")
    assert recipe.task_defines(None)["IC_INPUT_SHIFT"] == 8 and recipe.task_defines(None)["IC_INPUT_OFFSET"] == 0
    for zero_point, offset in ((-128, 0), (-100, 28)):
        (tmp_path / "input.json").write_text(json.dumps({"scale": 1.0, "zero_point": zero_point}))
        defines = recipe.task_defines({"input": tmp_path / "input.json"})
        assert (defines["IC_INPUT_SHIFT"], defines["IC_INPUT_OFFSET"]) == (0, offset)
    folder = tmp_path / "eembc" / "ic01"
    folder.mkdir(parents=True)
    pixels = np.arange(3072) % 256
    (folder / "a.bin").write_bytes(pixels.astype(np.uint8).tobytes())
    (folder / "y_labels.csv").write_text("a.bin,10,3\n")
    k, labels = recipe.external_inputs(tmp_path / "eembc", -128)
    assert (k[0] == pixels).all() and labels.tolist() == [3] and recipe.external_range(-128) == (0, 255)


SMALL = {"data.synthetic.images_per_batch": 500, "train.epochs": 10, "min_top1.synthetic": 0.5,
         "model.pruning.sparsity": 0.5}


@pytest.mark.slow
def test_synthetic_flow_learns_the_shapes(tmp_path):
    """Every stage on a small synthetic set: CIFAR batches, QKeras ResNet-8 pruned to half its
    weights, hls4ml io_stream (bit-identical), firmware, runner. A model that did not see the
    shapes would score about 1/10."""
    from pipeline.execute import run_stages
    from pipeline.flow import Flow

    flow = Flow(task="ic", board="pynq_z2", data="synthetic", build_root=tmp_path, overrides=SMALL, modes=["accuracy"])
    run_stages(flow)
    train, convert = flow.manifest("train")["outputs"], flow.manifest("convert")["outputs"]
    run_out = flow.manifest("run")["outputs"]
    assert convert["exact_fraction"] == 1.0
    assert train["host_value"] >= 50.0 and train["sparsity"] == pytest.approx(0.5, abs=0.01)
    assert abs(run_out["accuracy"]["top1"] - train["host_value"]) < 1e-9  # the DUT runs the very same model
    assert run_out["accuracy"]["files"] == 200 and run_out["provenance"]["data"] == "synthetic"


@pytest.mark.slow
def test_reference_resnet8_through_hls4ml_agrees_with_keras(tmp_path):
    """The MLPerf reference ResNet-8 (raw pixels in, BatchNorms folded into its convolutions by
    tasks/ic/reference.py) on structured synthetic images: the emulation picks the Keras model's class on
    >= 99 % of them."""
    from pipeline.execute import run_stages
    from pipeline.flow import Flow

    shared("models/reference/pretrainedResnet.h5")
    flow = Flow(task="ic", board="pynq_z2", model="reference", data="synthetic", build_root=tmp_path,
                overrides={"data.synthetic.images_per_batch": 300})
    run_stages(flow, stop="convert")
    convert = flow.manifest("convert")["outputs"]
    assert convert["windows_checked"] == 200 and convert["argmax_agreement"] >= 0.99
    assert flow.manifest("train")["outputs"]["data_kind"] == "synthetic"
