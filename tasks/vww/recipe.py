"""The vww01 recipe: the visual wake words folders (the reference's prebuilt vw_coco2014_96, or synthetic
scenes in the same layout) -> uint8 HWC images -> a QKeras MobileNetV1, or the MLPerf reference
MobileNetV1 0.25 (model=reference: float Keras for hls4ml, the official int8 TF Lite model for FINN) ->
vww01 test files, and what the toolchains and the firmware need (the interface: tasks/base.py)."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import numpy as np

from common.jsonio import read_json
from tasks.base import EEMBC_DIR, RecipeBase
from tasks.vww import config as task_config

HERE = Path(__file__).resolve().parent
VALIDATION_FRACTION = 0.1  # of each class's training images, the first in name order (Keras' validation_split)
TEST_SPLIT = "val2014"  # synthetic data: the images named COCO_val2014_* are the test files


def relu_types(m: task_config.ModelConfig) -> dict[str, dict[str, str]]:
    """Each convolution's result type is its ReLU (model_qkeras.py: an unsigned quantized_bits, which hls4ml 1.3
    maps to a signed, truncating, wrapping fixed): ufixed<relu_bits, relu_integer>, rounding half to even as
    QKeras' tf.round (RND_CONV) and saturating (a negative sum is 0, a large one the maximum), cast from the
    exact accumulator. The activation layer given the same type is then a no-op hls4ml removes, so no
    FIFO of the wide sums (20 to 22 bits) and none of the ReLU's own: every io_stream FIFO is as deep as its
    tensor (48 x 48 packets after the stem), and their widths are most of a design's BRAM."""
    relu = {"result": f"ufixed<{m.relu_bits},{m.relu_integer},RND_CONV,SAT>"}
    # conv0 also has a linear activation layer with a type of its own in hls4ml's config (fixed<16,6>)
    return {"conv0": relu, "conv0_linear": relu, "dw[0-9]*": relu, "pw[0-9]*": relu, "relu_*": relu}


def layer_names(blocks: int) -> list[str]:
    """The QKeras MobileNet's layer names hls4ml's config has (model_qkeras.py) with `blocks` blocks."""
    return ["conv0", *(f"{kind}{i}" for i in range(1, blocks + 1) for kind in ("dw", "pw")), "logits"]


def kept_layer_patterns(layers: dict, blocks: int) -> dict:
    """task.yaml's hls4ml layer settings (reuse factors per block, for all 13) without the patterns that name only
    blocks a model with fewer `blocks` does not have (e.g. the tests' 2-block model); a pattern that names no layer
    of the 13-block model either stays, and hls4ml's settings refuse it as a typo."""
    have, full = layer_names(blocks), layer_names(len(task_config.MOBILENET_V1_BLOCKS))
    return {p: keys for p, keys in layers.items()
            if any(fnmatch.fnmatchcase(n, p) for n in have) or not any(fnmatch.fnmatchcase(n, p) for n in full)}


class Recipe(RecipeBase):
    name = "vww"
    metric = "top-1 %"
    models = ("trained", "reference")
    dataset_name = "visual wake words (vw_coco2014_96)"
    firmware_sources = [HERE / "firmware" / "vww_model.c"]
    data_modules = ["tasks.vww.folders", "tasks.vww.synthetic", "tasks.vww.testset"]
    reference_frameworks = ("qkeras", "brevitas")
    origins = {"reference": "MLPerf Tiny reference MobileNetV1 0.25 ({file}), BatchNorm folded, softmax dropped",
               "trained": "QKeras MobileNetV1 trained by this recipe"}
    imports_models = True

    def load_config(self, overrides: dict | None):
        return task_config.load(overrides=overrides)

    # ---- data -------------------------------------------------------------------------------
    def check_layout(self, root: Path):
        from tasks.vww import folders

        return folders.check_layout(root, self.cfg.classes)

    def fingerprint(self, root: Path):
        from tasks.vww import folders

        return folders.fingerprint(root, self.cfg.classes)

    def data_settings(self) -> dict:
        return {"classes": self.cfg.classes, "testset": self.cfg.testset.model_dump(),
                "validation_fraction": VALIDATION_FRACTION}

    def generate_synthetic(self, out: Path) -> tuple[Path, str]:
        from tasks.vww import synthetic

        root = out / "vw_coco2014_96"
        synthetic.generate(self.cfg.data.synthetic, self.cfg.classes, root)
        return root, "synthetic scenes with and without rendered figures, generated in this stage (vw_coco2014_96/)"

    def prepare_data(self, root: Path, kind: str, out: Path) -> dict:
        from tasks.vww import folders, testset

        paths, labels = folders.listing(root, self.cfg.classes)
        ids = [folders.image_id(p) for p in paths]
        if kind == "real":
            wanted = testset.read_official(self.official_list())
        else:
            wanted = [(i, int(k)) for p, i, k in zip(paths, ids, labels) if TEST_SPLIT in p.name]
        test = testset.select(ids, labels, wanted, str(root))
        rest = np.setdiff1d(np.arange(len(paths)), test)  # the test images are never trained on
        validation = np.concatenate([c[:int(round(len(c) * VALIDATION_FRACTION))]
                                     for c in (rest[labels[rest] == k] for k in range(len(self.cfg.classes)))])
        train = np.setdiff1d(rest, validation)
        images = folders.load_all(paths)
        np.savez(out / "train.npz", x=images[train], y=labels[train])
        np.savez(out / "validation.npz", x=images[validation], y=labels[validation])
        n_test = testset.export(images[test], labels[test], [ids[i] for i in test], out / EEMBC_DIR / self.model_id)
        return {"test_files": n_test, "train_images": int(len(train)), "validation_images": int(len(validation)),
                "artifacts": {"train": "train.npz", "validation": "validation.npz", "eembc": EEMBC_DIR}}

    def official_list(self) -> Path:
        return self.locate(self.cfg.testset.official)

    # ---- train / import ---------------------------------------------------------------------
    def train_params(self, model: str) -> dict:
        cfg = self.cfg
        if model == "reference":
            return {"reference": cfg.reference.model_dump(exclude={"hls4ml", "int8", "finn"})}
        return {"model": cfg.model.model_dump(), "augment": cfg.augment.model_dump(), "train": cfg.train.model_dump(),
                "gate": cfg.min_top1.model_dump()}

    def train_qkeras(self, data: dict[str, Path] | None, eembc: Path, data_kind: str, out: Path) -> dict:
        from tasks.vww import train

        assert data is not None, "the trained model needs the data stage"
        return train.train(self.cfg, data, eembc, data_kind, out)

    def import_reference(self, eembc: Path, data_kind: str, out: Path) -> dict:
        from tasks.vww import reference

        return reference.import_model(self.cfg, self.reference_file(), eembc, data_kind, out)

    def int8_reference(self):
        return self.cfg.reference.int8

    # ---- the FINN model ---------------------------------------------------------------------
    def brevitas_params(self) -> dict:
        return {**self.cfg.brevitas.model_dump(), "augment": self.cfg.augment.model_dump()}

    def train_brevitas(self, data: dict[str, Path], eembc: Path, data_kind: str, out: Path) -> dict:
        from tasks.vww import train_brevitas

        return train_brevitas.train(self.cfg, data, eembc, data_kind, out)

    def build_brevitas(self):
        from tasks.vww import model_brevitas

        return model_brevitas.build(self.cfg.brevitas, len(self.cfg.classes))

    def brevitas_inputs(self, eembc: Path, trained: dict[str, Path]) -> np.ndarray:
        """Every test image as the FINN model takes it: the pixel bytes, N x 96 x 96 x 3 (HWC, as the DUT gets them)."""
        from tasks.vww import testset, train_brevitas

        images, _ = testset.read(eembc, self.model_id, self.input_bytes)
        return train_brevitas.to_model_input(images)

    def brevitas_input_frac(self, trained: dict[str, Path]) -> int:
        return 0  # the pixel integers themselves

    # ---- a QONNX model with an int8 input, as the reference's (tasks/imported_model.py, reference_int8.py) ----
    def external_inputs(self, eembc: Path, zero_point: int) -> tuple[np.ndarray, np.ndarray]:
        """(the integers q - zero_point the firmware gives the accelerator, 27 648 per file; labels), q being the
        int8 the reference DUT makes of a pixel (pixel - 128, submitter_implemented.cpp): with the int8 reference's
        zero point -128 that is the pixel itself."""
        from tasks.vww import testset

        images, labels = testset.read(eembc, self.model_id, self.input_bytes)
        return images.reshape(len(images), -1).astype(np.int64) - 128 - zero_point, labels

    def external_range(self, zero_point: int) -> tuple[int, int]:
        return -128 - zero_point, 127 - zero_point

    # ---- what toolchains and firmware need ---------------------------------------------------
    @staticmethod
    def input_mapping(trained: dict[str, Path] | None) -> dict:
        """How the accelerator's input relates to a pixel byte p (the train stage records it): p / 2**input_shift
        (the QKeras and reference Keras models), or the integer p - 128 - zero_point (an int8-input QONNX model)."""
        if trained is None:
            return {"input_shift": 8}
        return read_json(trained["input"])

    def model_inputs(self, eembc: Path, trained: dict[str, Path]) -> np.ndarray:
        """Every test image as the accelerator receives it: pixel / 2**input_shift, 96 x 96 x 3 (HWC)."""
        from tasks.vww import testset

        images, _ = testset.read(eembc, self.model_id, self.input_bytes)
        return images.astype(np.float32) / (1 << int(self.input_mapping(trained)["input_shift"]))

    def toolchain_settings(self, flow: str, model: str) -> dict:
        settings = super().toolchain_settings(flow, model)
        if flow == "hls4ml" and model == "trained":  # task.yaml's own layer types win over these
            layers = relu_types(self.cfg.model)
            for pattern, keys in kept_layer_patterns(settings.get("layers", {}), self.cfg.model.blocks).items():
                layers[pattern] = {**layers.get(pattern, {}), **keys}
            settings = {**settings, "layers": layers}
        return settings

    def task_defines(self, trained: dict[str, Path] | None) -> dict[str, int | str]:
        mapping = self.input_mapping(trained)
        if "zero_point" in mapping:  # an int8-input QONNX model (the int8 reference): the integers p - 128 - zero point
            return {"TASK_CLASSES": len(self.cfg.classes), "VWW_INPUT_SHIFT": 0,
                    "VWW_INPUT_OFFSET": 128 + int(mapping["zero_point"])}
        return {"TASK_CLASSES": len(self.cfg.classes), "VWW_INPUT_SHIFT": int(mapping["input_shift"]), "VWW_INPUT_OFFSET": 0}

    def stub_accelerator(self) -> dict[str, int]:
        """A stand-in for protocol tests: the first 2 pixels / 256 come back as logits."""
        return {"n_in": self.input_bytes, "n_out": len(self.cfg.classes), "in_width": 16, "in_frac": 8,
                "out_width": 16, "out_frac": 8}
