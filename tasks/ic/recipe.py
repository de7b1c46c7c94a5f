"""The ic01 recipe: CIFAR-10 python batches (real, or synthetic shapes in the same format) -> uint8
HWC images -> a QKeras ResNet-8, or the MLPerf reference ResNet-8 (model=reference) -> ic01 test
files, and what the toolchains and the firmware need (the interface: tasks/base.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.jsonio import read_json
from tasks.base import EEMBC_DIR, RecipeBase
from tasks.ic import config as task_config

HERE = Path(__file__).resolve().parent
VALIDATION_FRACTION = 0.1  # of the training batches, held out (the reference validates on the test set)


class Recipe(RecipeBase):
    name = "ic"
    metric = "top-1 %"
    models = ("trained", "reference")
    dataset_name = "CIFAR-10"
    firmware_sources = [HERE / "firmware" / "ic_model.c"]
    data_modules = ["tasks.ic.cifar", "tasks.ic.synthetic", "tasks.ic.testset", "tasks.ic.calibration_set", "tasks.calibration"]
    reference_frameworks = ("qkeras", "brevitas")
    calibrated_frameworks = ("qkeras",)
    origins = {"reference": "MLPerf Tiny reference ResNet-8 ({file}), softmax dropped",
               "trained": "QKeras ResNet-8 trained by this recipe"}

    def load_config(self, overrides: dict | None):
        return task_config.load(overrides=overrides)

    # ---- data -------------------------------------------------------------------------------
    def check_layout(self, root: Path):
        from tasks.ic import cifar

        return cifar.check_layout(root)

    def fingerprint(self, root: Path):
        from tasks.ic import cifar

        return cifar.fingerprint(root)

    def data_settings(self) -> dict:
        from tasks import calibration
        from tasks.ic import calibration_set

        return {"classes": self.cfg.classes, "testset": self.cfg.testset.model_dump(),
                "validation_fraction": VALIDATION_FRACTION, "calibration": self.cfg.reference.calibration.model_dump(),
                "calibration_list": calibration.file_digest(calibration_set.LIST)}

    def generate_synthetic(self, out: Path) -> tuple[Path, str]:
        from tasks.ic import synthetic

        root = out / "cifar-10-batches-py"
        synthetic.generate(self.cfg.data.synthetic, self.cfg.classes, root)
        return root, "synthetic shapes, generated in this stage (cifar-10-batches-py/)"

    def prepare_data(self, root: Path, kind: str, out: Path) -> dict:
        from tasks import calibration
        from tasks.ic import calibration_set, cifar, testset

        sets = cifar.read(root)
        x, y, _ = sets["train"]
        n_val = int(round(len(x) * VALIDATION_FRACTION))
        np.savez(out / "train.npz", x=x[:-n_val], y=y[:-n_val])
        np.savez(out / "validation.npz", x=x[-n_val:], y=y[-n_val:])
        images, labels, names = sets["test"]
        if kind == "real":
            indices = np.load(self.perf_samples_file())
        else:
            indices = testset.choose(labels, len(self.cfg.classes), self.cfg.testset.per_class)
        n_test = testset.export(images, labels, names, indices, len(self.cfg.classes), out / EEMBC_DIR / self.model_id)
        samples, what = calibration_set.choose(sets, kind, np.asarray(indices), self.cfg.reference.calibration)
        calibration.write(out / calibration.FILE, samples, what)
        return {"test_files": n_test, "train_images": int(len(x) - n_val), "validation_images": n_val, "calibration": what,
                "artifacts": {"train": "train.npz", "validation": "validation.npz", "eembc": EEMBC_DIR,
                              "calibration": calibration.FILE}}

    def perf_samples_file(self) -> Path:
        return self.locate(self.cfg.testset.perf_samples)

    # ---- train / import ---------------------------------------------------------------------
    def train_params(self, model: str) -> dict:
        cfg = self.cfg
        if model == "reference":
            return {"reference": cfg.reference.model_dump(exclude={"hls4ml"})}
        return {"model": cfg.model.model_dump(), "augment": cfg.augment.model_dump(), "train": cfg.train.model_dump(),
                "gate": cfg.min_top1.model_dump()}

    def train_qkeras(self, data: dict[str, Path] | None, eembc: Path, data_kind: str, out: Path) -> dict:
        from tasks.ic import train

        assert data is not None, "the trained model needs the data stage"
        return train.train(self.cfg, data, eembc, data_kind, out)

    def import_reference(self, eembc: Path, data_kind: str, out: Path) -> dict:
        from tasks.ic import reference

        return reference.import_model(self.cfg, self.reference_file(), eembc, data_kind, out)

    def calibration_inputs(self, samples: np.ndarray) -> np.ndarray:
        from tasks.ic import reference

        return reference.calibration_inputs(self.cfg, samples)

    def int8_reference(self):
        return self.cfg.reference.int8

    # ---- the FINN model ---------------------------------------------------------------------
    def train_brevitas(self, data: dict[str, Path], eembc: Path, data_kind: str, out: Path) -> dict:
        from tasks.ic import train_brevitas

        return train_brevitas.train(self.cfg, data, eembc, data_kind, out)

    def build_brevitas(self):
        from tasks.ic import model_brevitas

        return model_brevitas.build(self.cfg.brevitas, len(self.cfg.classes))

    def brevitas_inputs(self, eembc: Path, trained: dict[str, Path]) -> np.ndarray:
        """Every test image as the FINN model takes it: the pixel bytes, N x 32 x 32 x 3 (HWC, as the DUT gets them)."""
        from tasks.ic import testset, train_brevitas

        images, _ = testset.read(eembc, self.model_id, self.input_bytes)
        return train_brevitas.to_model_input(images)

    def brevitas_input_frac(self, trained: dict[str, Path]) -> int:
        return 0  # the pixel integers themselves

    # ---- the int8 reference's input (tasks/reference_int8.py) ---------------------------------
    def external_inputs(self, eembc: Path, zero_point: int) -> tuple[np.ndarray, np.ndarray]:
        """(the integers q - zero_point the firmware gives the accelerator, 3072 per file; labels), q being the
        int8 the reference DUT makes of a pixel (pixel - 128; the int8 ResNet-8's input scale is 1): with its
        zero point -128 that is the pixel itself."""
        from tasks.ic import testset

        images, labels = testset.read(eembc, self.model_id, self.input_bytes)
        return images.reshape(len(images), -1).astype(np.int64) - 128 - zero_point, labels

    def external_range(self, zero_point: int) -> tuple[int, int]:
        return -128 - zero_point, 127 - zero_point

    # ---- what toolchains and firmware need ---------------------------------------------------
    @staticmethod
    def input_mapping(trained: dict[str, Path] | None) -> dict:
        """How the accelerator's input relates to a pixel byte p (the train stage records it): p / 2**input_shift
        (8 trained, 0 the Keras reference), or the integer p - 128 - zero_point (the int8 reference's QONNX)."""
        return {"input_shift": 8} if trained is None else read_json(trained["input"])

    @classmethod
    def input_shift(cls, trained: dict[str, Path] | None) -> int:
        """The model sees pixel / 2**input_shift (0 for the int8 reference's integers)."""
        return int(cls.input_mapping(trained).get("input_shift", 0))

    def model_inputs(self, eembc: Path, trained: dict[str, Path]) -> np.ndarray:
        """Every test image as the accelerator receives it: pixel / 2**input_shift, 32 x 32 x 3 (HWC)."""
        from tasks.ic import testset

        images, _ = testset.read(eembc, self.model_id, self.input_bytes)
        return images.astype(np.float32) / (1 << self.input_shift(trained))

    def toolchain_settings(self, flow: str, model: str) -> dict:
        settings = super().toolchain_settings(flow, model)
        m = self.cfg.model
        if flow == "hls4ml" and model != "reference" and m.head == "average":
            # hls4ml gives an average pooling its input's type, truncating the mean; the exact mean of
            # 2^k ufixed<b,i> values needs k more fraction bits (and k more integer bits for the sum).
            k = int(np.log2((32 >> (len(m.filters) - 1)) ** 2))
            pool = {"accum": f"ufixed<{m.relu_bits + 2 * k},{m.relu_integer + k}>",
                    "result": f"ufixed<{m.relu_bits + k},{m.relu_integer}>"}
            settings = {**settings, "layers": {"pool": pool, **settings.get("layers", {})}}
        return settings

    def task_defines(self, trained: dict[str, Path] | None) -> dict[str, int | str]:
        mapping = self.input_mapping(trained)
        offset = 128 + int(mapping["zero_point"]) if "zero_point" in mapping else 0  # the int8 reference: p - offset
        return {"TASK_CLASSES": len(self.cfg.classes), "IC_INPUT_SHIFT": self.input_shift(trained), "IC_INPUT_OFFSET": offset}

    def stub_accelerator(self) -> dict[str, int]:
        """A stand-in for protocol tests: the first 10 pixels / 256 come back as logits."""
        return {"n_in": self.input_bytes, "n_out": len(self.cfg.classes), "in_width": 16, "in_frac": 8,
                "out_width": 16, "out_frac": 8}
