"""The vww01 recipe: the vw_coco2014_96 layout and vww01 test files byte for byte, the official list's
checks, synthetic scenes that colour statistics cannot tell apart but a small CNN learns, the real-data
downloader against a local HTTP server, task.yaml's checks, the firmware's pixel mapping on the emulated
board, and a small synthetic flow end to end."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import replace

import numpy as np
import pytest

from common import provenance
from common.errors import ConfigError, DatasetError
from runner.cli import run
from runner.emulated import emulated_dut
from tasks import download, load_recipe
from tasks.vww import folders, synthetic, testset
from tests.conftest import build_stub_dut
from tests.test_download import server  # noqa: F401  (the local HTTP server fixture)

CLASSES = ["non_person", "person"]


def _image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (96, 96, 3), dtype=np.uint8)


def _png(image: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image, "RGB").save(buf, format="PNG")  # lossless: the bytes can be compared
    return buf.getvalue()


def _real_folder(root, images: dict[str, tuple[int, np.ndarray]]) -> None:
    for name, (label, image) in images.items():
        (root / CLASSES[label]).mkdir(parents=True, exist_ok=True)
        (root / CLASSES[label] / name).write_bytes(_png(image))


def test_a_known_image_is_exported_in_hwc_order_named_by_its_coco_id(tmp_path):
    y, x = np.mgrid[0:96, 0:96]
    known = np.stack([(y * 96 + x) % 256, (x * 7) % 256, 255 - y], axis=-1).astype(np.uint8)
    _real_folder(tmp_path / "vw", {"COCO_val2014_000000000042.png": (1, known),
                                   "COCO_train2014_000000000007.png": (0, _image(1))})
    paths, labels = folders.listing(tmp_path / "vw", CLASSES)
    assert [p.name for p in paths] == ["COCO_train2014_000000000007.png", "COCO_val2014_000000000042.png"]
    ids = [folders.image_id(p) for p in paths]
    assert ids == ["000000000007", "000000000042"] and labels.tolist() == [0, 1]
    chosen = testset.select(ids, labels, [("000000000042", 1), ("000000000007", 0)], "here")
    images = folders.load_all(paths)
    testset.export(images[chosen], labels[chosen], [ids[i] for i in chosen], tmp_path / "eembc" / "vww01")

    assert (tmp_path / "eembc" / "vww01" / "y_labels.csv").read_text() == "000000000042.bin,2,1\n000000000007.bin,2,0\n"
    raw = np.frombuffer((tmp_path / "eembc" / "vww01" / "000000000042.bin").read_bytes(), np.uint8)
    assert len(raw) == 27648
    for r, c in [(0, 0), (0, 1), (5, 17), (95, 95)]:  # HWC: byte 3 * (96 * row + col) + channel
        assert raw[3 * (96 * r + c):3 * (96 * r + c) + 3].tolist() == known[r, c].tolist()
    back, back_labels = testset.read(tmp_path / "eembc", "vww01", 27648)
    assert back_labels.tolist() == [1, 0] and (back[0] == known).all()


def test_the_official_list_is_checked_against_the_data_set(tmp_path):
    official = tmp_path / "y_labels.csv"
    official.write_text("000000000001.bin,2,1\n000000000002.bin,2,0\n")
    assert testset.read_official(official) == [("000000000001", 1), ("000000000002", 0)]
    ids, labels = ["000000000001", "000000000002"], np.array([1, 1])
    with pytest.raises(DatasetError, match="other class folder"):
        testset.select(ids, labels, testset.read_official(official), "vw")
    with pytest.raises(DatasetError, match="not in the data set, e.g. 000000000003"):
        testset.select(ids, labels, [("000000000003", 0)], "vw")
    official.write_text("000000000001.bin,2,1\nnot a row\n")
    with pytest.raises(DatasetError, match=r"y_labels.csv:2: expected <id>.bin,2,<0\|1>"):
        testset.read_official(official)
    _real_folder(tmp_path / "vw", {"COCO_val2014_000000000002.png": (0, _image(2))})
    with pytest.raises(DatasetError, match="not a vw_coco2014_96 folder: no person/"):
        folders.check_layout(tmp_path / "vw", CLASSES)
    (tmp_path / "vw" / "person").mkdir()
    with pytest.raises(DatasetError, match="person: no images"):
        folders.check_layout(tmp_path / "vw", CLASSES)
    (tmp_path / "vw" / "person" / "COCO_val2014_000000000001.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DatasetError, match="not a readable image"):
        folders.load(tmp_path / "vw" / "person" / "COCO_val2014_000000000001.jpg")


def _synthetic(tmp_path, train_per_class: int, test_per_class: int):
    cfg = load_recipe("vww", {"data.synthetic.train_per_class": train_per_class,
                              "data.synthetic.test_per_class": test_per_class}).cfg
    root = tmp_path / "vw_coco2014_96"
    synthetic.generate(cfg.data.synthetic, CLASSES, root)
    paths, labels = folders.listing(root, CLASSES)
    test = np.array(["val2014" in p.name for p in paths])
    return root, folders.load_all(paths), labels, test


def _orientations(images: np.ndarray, cells: int = 6, bins: int = 9) -> np.ndarray:
    """Per cell of a cells x cells grid, the gradient magnitude in each of `bins` orientations, normalised."""
    grey = images.astype(np.float64).mean(-1)
    gy, gx = np.gradient(grey, axis=(1, 2))
    magnitude, which = np.hypot(gx, gy), np.minimum((np.arctan2(gy, gx) % np.pi / np.pi * bins).astype(int), bins - 1)
    n, side = len(images), grey.shape[1] // cells
    f = np.stack([(magnitude * (which == k)).reshape(n, cells, side, cells, side).sum((2, 4)) for k in range(bins)], -1)
    return (f / (f.sum(-1, keepdims=True) + 1e-6)).reshape(n, -1)


def test_synthetic_scenes_are_in_the_real_layout_and_learnable_from_shapes_not_colours(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    root, x, y, test = _synthetic(tmp_path, 300, 100)
    assert sorted(p.name for p in root.iterdir()) == CLASSES
    assert len(list((root / "person").glob("COCO_train2014_*.jpg"))) == 300
    assert len(list((root / "non_person").glob("COCO_val2014_*.jpg"))) == 100
    assert x.shape == (800, 96, 96, 3) and np.bincount(y).tolist() == [400, 400]

    def colour(images):
        f = images.reshape(len(images), -1, 3).astype(np.float64)
        return np.concatenate([f.mean(1), f.std(1)], axis=1)

    def fitted_score(features):
        scaler = StandardScaler().fit(features(x[~test]))
        clf = LogisticRegression(max_iter=3000, C=0.1).fit(scaler.transform(features(x[~test])), y[~test])
        return clf.score(scaler.transform(features(x[test])), y[test])

    # colour and brightness say nothing about the class; the shapes do: the same linear classifier on
    # histograms of gradient orientation over a 6 x 6 grid (where edges run which way) learns it
    assert fitted_score(colour) < 0.62
    assert fitted_score(_orientations) >= 0.7
    # deterministic: the same seed writes the same files
    again = tmp_path / "again"
    synthetic.generate(load_recipe("vww", {"data.synthetic.train_per_class": 300,
                                           "data.synthetic.test_per_class": 100}).cfg.data.synthetic, CLASSES, again)
    for name in ("person/COCO_train2014_000000000301.jpg", "non_person/COCO_val2014_000000000650.jpg"):
        assert (again / name).read_bytes() == (root / name).read_bytes()


def test_the_real_archive_downloads_and_data_auto_exports_the_official_files(server, tmp_path, monkeypatch):  # noqa: F811
    """The reference's archive URL (tasks/download.py) served from a local HTTP server with a tiny archive
    of the real layout, extracted into the cache where task.yaml's real_path looks; data=auto then takes
    it, and the data stage exports the files of the official list (served too) under their COCO ids."""
    www, url, _ = server
    images = {"COCO_val2014_000000000011.png": (1, _image(11)), "COCO_train2014_000000000012.png": (1, _image(12)),
              "COCO_val2014_000000000021.png": (0, _image(21)), "COCO_train2014_000000000022.png": (0, _image(22)),
              "COCO_train2014_000000000023.png": (0, _image(23))}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, (label, image) in images.items():
            data = _png(image)
            info = tarfile.TarInfo(f"vw_coco2014_96/{CLASSES[label]}/{name}")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    (www / "vw_coco2014_96.tar.gz").write_bytes(buf.getvalue())
    (www / "y_labels.csv").write_text("000000000021.bin,2,0\n000000000011.bin,2,1\n")
    (source,) = download.SOURCES["vww"]
    assert source.url.endswith("/vw_coco2014_96.tar.gz")  # the reference's prebuilt archive
    monkeypatch.setitem(download.SOURCES, "vww", [replace(source, url=f"{url}/vw_coco2014_96.tar.gz")])
    cache = tmp_path / "cache"
    (folder,) = download.download("vww", cache)
    assert (folder / "vw_coco2014_96" / "person" / "COCO_val2014_000000000011.png").is_file()

    monkeypatch.setenv("MLPERF_TINY_CACHE", str(cache))
    recipe = load_recipe("vww", {"data.real_path": str(folder / "vw_coco2014_96"),
                                 "testset.official.url": f"{url}/y_labels.csv",
                                 "testset.official.file": "test_vww_y_labels.csv",
                                 "testset.official.sha256": hashlib.sha256(b"000000000021.bin,2,0\n000000000011.bin,2,1\n")
                                 .hexdigest()})
    kind, path = recipe.resolve_data("auto")
    assert kind == "real" and path == folder / "vw_coco2014_96"
    out = tmp_path / "data"
    out.mkdir()
    outputs = recipe.data(kind, path, out)
    assert outputs["test_files"] == 2 and outputs["data_kind"] == "real"
    assert (out / "eembc" / "vww01" / "y_labels.csv").read_text() == "000000000021.bin,2,0\n000000000011.bin,2,1\n"
    assert (out / "eembc" / "vww01" / "000000000011.bin").read_bytes() == images["COCO_val2014_000000000011.png"][1].tobytes()
    assert not (out / "eembc" / "vww01" / "SYNTHETIC").exists()
    train = np.load(out / "train.npz")
    validation = np.load(out / "validation.npz")
    assert len(train["y"]) + len(validation["y"]) == 3  # the two test images are never trained on
    assert not any((train["x"] == images[n][1]).all(axis=(1, 2, 3)).any() for n in images if "val2014" in n)


@pytest.mark.parametrize("overrides, message", [
    ({"classes": ["person", "non_person"]}, "must be in sorted order"),
    ({"model.head": "average"}, "Input should be 'max' or 'flatten'"),
    ({"data.synthetic.clutter": [5, 2]}, "0 <= min <= max"),
    ({"model.blocks": 14}, "less than or equal to 13"),
    ({"brevitas.quant.weight_bits": 1}, "integer weights and activations"),
    ({"model.widht": 0.5}, "Extra inputs are not permitted"),
    ({"hls4ml.input": "ufixed<8,8>"}, "exactly ufixed<8,0>"),
])
def test_task_yaml_errors_name_the_field(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_recipe("vww", overrides)



def test_hls4ml_settings_keep_the_reuse_factors_of_the_blocks_a_model_has_and_make_each_conv_its_relu():
    """task.yaml sets reuse factors for all 13 blocks: a 2-block model keeps those of conv0, blocks 1-2 and
    the logits and drops the rest (hls4ml's settings would refuse a pattern that names no layer), a typo is
    kept (and refused there); every convolution's result is its ReLU's type (unsigned, rounding half to
    even, saturating), so hls4ml removes the ReLU layers and their FIFOs."""
    from tasks.vww.recipe import kept_layer_patterns

    layers = load_recipe("vww", {"model.blocks": 2}).toolchain_settings("hls4ml", "trained")["layers"]
    assert {"conv0", "dw1", "pw1", "dw2", "pw2", "logits"} <= set(layers) and not {"dw3", "pw13", "dw[7-9]"} & set(layers)
    relu = "ufixed<4,2,RND_CONV,SAT>"  # model.relu_bits 4, relu_integer 2
    assert layers["pw2"] == {"ReuseFactor": 64, "Strategy": "Resource"}
    assert all(layers[p] == {"result": relu} for p in ("conv0_linear", "dw[0-9]*", "pw[0-9]*", "relu_*"))
    assert layers["conv0"] == {"result": relu, "ReuseFactor": 27, "Strategy": "Resource"}  # both sources merged
    assert kept_layer_patterns({"pw1[01]": {}, "pw7": {}, "pw99": {}, "dw[1-2]": {}}, 2) == {"pw99": {}, "dw[1-2]": {}}
    assert "relu_*" not in load_recipe("vww").toolchain_settings("hls4ml", "reference").get("layers", {})


def test_the_relu_is_an_unsigned_quantized_bits_with_quantized_relus_values():
    """model_qkeras.py's ReLU (an unsigned quantized_bits, which hls4ml folds into the convolution) gives
    the values of QKeras' quantized_relu: half to even at the fraction bits, 0 below, the maximum above."""
    from qkeras import quantized_bits, quantized_relu

    x = np.concatenate([np.arange(-80, 80) / 32, np.arange(-80, 80) / 32 + 1 / 64, [1e3, -1e3]]).astype(np.float32)
    for bits, integer in ((4, 2), (8, 3)):
        ours = quantized_bits(bits, integer, keep_negative=False, alpha=1)(x).numpy()
        assert (ours == quantized_relu(bits, integer)(x).numpy()).all()
        assert ours.min() == 0 and ours.max() == 2 ** integer - 2.0 ** (integer - bits)


def test_the_finn_model_trains_to_the_same_weights_every_time(tmp_path):
    """train_brevitas.py seeds the initial weights from brevitas.train.seed: two trainings give the same model
    (torch's own seed is random per process, and unseeded runs of the default settings scored 81.5 % and 92.5 %)."""
    import torch

    recipe = load_recipe("vww", {"data.synthetic.train_per_class": 10, "data.synthetic.test_per_class": 2,
                                 "brevitas.blocks": 1, "brevitas.train.epochs": 1, "brevitas.min_top1.synthetic": 0.01})
    (tmp_path / "data").mkdir()
    outputs = recipe.data("synthetic", None, tmp_path / "data")
    data = {name: tmp_path / "data" / rel for name, rel in outputs["artifacts"].items()}
    weights = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        torch.manual_seed(len(weights))  # the state a process may be in: what ran before, or its random seed
        recipe.train_brevitas(data, data["eembc"], "synthetic", tmp_path / folder)
        weights.append(torch.load(tmp_path / folder / "model.pt", weights_only=True))
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_the_firmware_feeds_the_accelerator_each_pixel_exactly(tmp_path):
    """The stub accelerator returns its first 2 inputs as logits: the DUT's softmax then shows which
    values th_load_tensor made of the first pixel bytes (pixel / 256 for the trained model)."""
    binary = build_stub_dut(tmp_path / "dut", task="vww")["performance"]
    folder = tmp_path / "data" / "vww01"
    folder.mkdir(parents=True)
    results = []
    for first in ([0, 255], [200, 3], [17, 99]):
        pixels = np.zeros(27648, np.uint8)
        pixels[:2] = first
        (folder / "000000000001.bin").write_bytes(pixels.tobytes())
        (folder / "y_labels.csv").write_text("000000000001.bin,2,1\n")
        out = tmp_path / f"out{first[0]}"
        with emulated_dut(binary) as url:
            summary = run(url, tmp_path / "data", out, ["accuracy"], provenance.emulated(data="synthetic"))
        record = next(r for r in json.loads((out / "accuracy" / "results.json").read_text()) if "infer" in r)
        logits = np.array(first) / 256.0
        expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        assert np.allclose(record["infer"]["results"], expected, atol=5e-7)
        results.append(summary["accuracy"]["top1"])
    assert results == [100.0, 0.0, 100.0]


def test_the_firmware_maps_an_int8_reference_input_to_pixel_minus_offset(tmp_path):
    """The int8 reference's input is q - zero_point, q = pixel - 128 (as the reference DUT makes it): the
    recipe's defines give the firmware that offset (0 for the official model's zero point -128)."""
    recipe = load_recipe("vww")
    (tmp_path / "input.json").write_text(json.dumps({"scale": 1 / 255, "zero_point": -128}))
    assert recipe.task_defines({"input": tmp_path / "input.json"})["VWW_INPUT_OFFSET"] == 0
    (tmp_path / "input.json").write_text(json.dumps({"scale": 1 / 255, "zero_point": -100}))
    assert recipe.task_defines({"input": tmp_path / "input.json"})["VWW_INPUT_OFFSET"] == 28
    (tmp_path / "eembc" / "vww01").mkdir(parents=True)
    pixels = np.arange(27648) % 256
    (tmp_path / "eembc" / "vww01" / "000000000001.bin").write_bytes(pixels.astype(np.uint8).tobytes())
    (tmp_path / "eembc" / "vww01" / "y_labels.csv").write_text("000000000001.bin,2,0\n")
    k, labels = recipe.external_inputs(tmp_path / "eembc", -128)
    assert (k[0] == pixels).all() and labels.tolist() == [0] and recipe.external_range(-128) == (0, 255)


# A tiny configuration: 2 MobileNet blocks, a few images, a gate any working plumbing passes (learning
# itself is checked by the synthetic-scenes test and the default configuration's gate)
TINY = {"data.synthetic.train_per_class": 60, "data.synthetic.test_per_class": 10, "model.blocks": 2,
        "train.epochs": 2, "model.finetune_epochs": 1, "min_top1.synthetic": 0.05}


@pytest.mark.slow
def test_a_tiny_synthetic_flow_runs_end_to_end(tmp_path):
    """make task=vww board=pynq_z2 on a tiny configuration: synthetic scenes in the real layout, the
    QKeras MobileNet trained with BatchNorm and folded, hls4ml io_stream (bit-identical on every test
    file), the firmware, the runner over the emulated DUT: the DUT scores what the host scored."""
    from pipeline.execute import run_stages
    from pipeline.flow import Flow

    flow = Flow(task="vww", board="pynq_z2", data="synthetic", build_root=tmp_path, overrides=TINY, modes=["accuracy"])
    run_stages(flow)
    data, train = flow.manifest("data")["outputs"], flow.manifest("train")["outputs"]
    convert, run_out = flow.manifest("convert")["outputs"], flow.manifest("run")["outputs"]
    assert data["test_files"] == 20 and data["data_kind"] == "synthetic"
    assert convert["exact_fraction"] == 1.0 and convert["windows_checked"] == 20
    assert abs(run_out["accuracy"]["top1"] - train["host_value"]) < 1e-9  # the DUT runs the very same model
    assert run_out["accuracy"]["files"] == 20 and run_out["provenance"]["data"] == "synthetic"
    # the ReLUs are the convolutions' result types: no layer (and no FIFO) of their own
    assert not [name for name in convert["estimates"]["layers"] if name.startswith("relu")]


@pytest.mark.slow
def test_reference_mobilenet_through_hls4ml_agrees_with_keras(tmp_path):
    """The MLPerf reference MobileNetV1 0.25 (BatchNorms and the input's 1/255 folded, softmax dropped) on
    synthetic scenes: the folded rebuild picks the original's class on every file, and the hls4ml emulation
    the Keras model's on >= 99 % (measured: 200 of 200)."""
    from pipeline.execute import run_stages
    from pipeline.flow import Flow
    from tests.conftest import shared

    shared("models/reference/vww_96.h5")
    flow = Flow(task="vww", board="pynq_z2", model="reference", data="synthetic", build_root=tmp_path,
                overrides={"data.synthetic.train_per_class": 20, "data.synthetic.test_per_class": 50})
    run_stages(flow, stop="convert")
    train, convert = flow.manifest("train")["outputs"], flow.manifest("convert")["outputs"]
    assert train["agreement_with_original"] == 1.0 and train["data_kind"] == "synthetic"
    assert convert["windows_checked"] == 100 and convert["argmax_agreement"] >= 0.99
