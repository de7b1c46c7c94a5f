"""The kws01 recipe: Speech Commands (real, or synthetic speech in the same folder layout) -> the
reference MFCC front end -> a QKeras DS-CNN, or the MLPerf reference DS-CNN (model=reference) ->
kws01 test files, and what the toolchains and the firmware need (the interface: tasks/base.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tasks.base import EEMBC_DIR, RecipeBase
from tasks.kws import config as task_config

HERE = Path(__file__).resolve().parent


class Recipe(RecipeBase):
    name = "kws"
    metric = "top-1 %"
    models = ("trained", "reference")
    dataset_name = "Speech Commands v2"
    firmware_sources = [HERE / "firmware" / "kws_model.c"]
    data_modules = ["tasks.kws.speech_commands", "tasks.kws.synthetic", "tasks.kws.features", "tasks.kws.testset",
                    "tasks.kws.calibration_set", "tasks.calibration"]
    origins = {"reference": "MLPerf Tiny reference DS-CNN ({file}), rebuilt in Keras",
               "trained": "QKeras DS-CNN trained by this recipe"}
    imports_models = True
    reference_frameworks = ("qkeras", "brevitas")
    calibrated_frameworks = ("qkeras",)

    def load_config(self, overrides: dict | None):
        return task_config.load(overrides=overrides)

    # ---- data -------------------------------------------------------------------------------
    def check_layout(self, root: Path):
        from tasks.kws import speech_commands

        return speech_commands.check_layout(root)

    def fingerprint(self, root: Path):
        from tasks.kws import speech_commands

        return speech_commands.fingerprint(root)

    def data_settings(self) -> dict:
        return {"features": self.cfg.features.model_dump(), "input": self.cfg.input.model_dump(),
                "mix": self.cfg.training_mix.model_dump(), "classes": self.cfg.classes,
                "calibration": self.cfg.reference.calibration.model_dump()}

    def generate_synthetic(self, out: Path) -> tuple[Path, str]:
        from tasks.kws import synthetic

        root = out / "speech_commands"
        synthetic.generate(self.cfg.data.synthetic, self.cfg.classes, self.cfg.features.sample_rate, root)
        return root, "synthetic speech (espeak-ng), generated in this stage (speech_commands/)"

    def prepare_data(self, root: Path, kind: str, out: Path) -> dict:
        from tasks import calibration
        from tasks.kws import calibration_set, speech_commands, testset

        sets = speech_commands.features(root, self.cfg, out)
        n_test = testset.export(sets["test"][0], sets["test"][1], self.cfg.classes, out / EEMBC_DIR / self.model_id,
                                self.cfg.input)
        samples, what = calibration_set.choose(sets, kind, self.cfg.reference.calibration)
        calibration.write(out / calibration.FILE, samples, what)
        return {"test_files": n_test, **{f"{name}_clips": int(len(y)) for name, (_, y) in sets.items()},
                "calibration": what,
                "artifacts": {"train": "train.npz", "validation": "validation.npz", "eembc": EEMBC_DIR,
                              "calibration": calibration.FILE}}

    # ---- train / import ---------------------------------------------------------------------
    def train_params(self, model: str) -> dict:
        cfg = self.cfg
        if model == "reference":
            return {"reference": cfg.reference.model_dump(exclude={"hls4ml"}), "input": cfg.input.model_dump()}
        return {"model": cfg.model.model_dump(), "train": cfg.train.model_dump(), "gate": cfg.min_top1.model_dump(),
                "input": cfg.input.model_dump()}

    def train_qkeras(self, data: dict[str, Path] | None, eembc: Path, data_kind: str, out: Path) -> dict:
        from tasks.kws import train

        assert data is not None, "the trained model needs the data stage"
        return train.train(self.cfg, data, eembc, data_kind, out)

    def import_reference(self, eembc: Path, data_kind: str, out: Path) -> dict:
        from tasks.kws import reference

        return reference.import_model(self.cfg, self.reference_file(), eembc, data_kind, out)

    def calibration_inputs(self, samples: np.ndarray) -> np.ndarray:
        from tasks.kws import reference

        return reference.calibration_inputs(self.cfg, samples)

    # ---- the FINN model ---------------------------------------------------------------------
    def train_brevitas(self, data: dict[str, Path], eembc: Path, data_kind: str, out: Path) -> dict:
        from tasks.kws import train_brevitas

        return train_brevitas.train(self.cfg, data, eembc, data_kind, out)

    def build_brevitas(self):
        from tasks.kws import model_brevitas

        return model_brevitas.build(self.cfg.brevitas, self.input_bytes, len(self.cfg.classes))

    def brevitas_inputs(self, eembc: Path, trained: dict[str, Path]) -> np.ndarray:
        """Every test file as the FINN model takes it: the integers int8 - zero_point, 490 per file."""
        return self.model_inputs(eembc, trained).reshape(-1, self.input_bytes)

    def brevitas_input_frac(self, trained: dict[str, Path]) -> int:
        return 0  # the integers themselves

    # ---- a QONNX model brought from elsewhere (tasks/imported_model.py) -----------------------
    def external_inputs(self, eembc: Path, zero_point: int) -> tuple[np.ndarray, np.ndarray]:
        """(the integers int8 - zero_point the firmware gives the accelerator, 490 per file; labels)."""
        from tasks.kws import testset

        q, labels = testset.read(eembc, self.model_id, self.input_bytes)
        return q.astype(np.int64) - zero_point, labels

    def external_range(self, zero_point: int) -> tuple[int, int]:
        return -128 - zero_point, 127 - zero_point

    # ---- what toolchains and firmware need ---------------------------------------------------
    def model_inputs(self, eembc: Path, trained: dict[str, Path]) -> np.ndarray:
        """Every test file as the accelerator receives it: the integers int8 - zero_point, 49 x 10 x 1."""
        from tasks.kws import testset

        q, _ = testset.read(eembc, self.model_id, self.input_bytes)
        f = self.cfg.features
        return (q.astype(np.float32) - self.cfg.input.zero_point).reshape(-1, f.frames, f.coefficients, 1)

    def task_defines(self, trained: dict[str, Path] | None) -> dict[str, int | str]:
        zero_point = self.cfg.input.zero_point
        if trained and "qonnx" in trained:  # an imported model: the zero point its test files were declared with
            zero_point = json.loads(trained["input"].read_text())["zero_point"]
        return {"TASK_CLASSES": len(self.cfg.classes), "KWS_INPUT_ZERO_POINT": zero_point}

    def int8_reference(self):
        return self.cfg.reference.int8

    def stub_accelerator(self) -> dict[str, int]:
        """A stand-in for protocol tests: the first 12 input integers come back as logits."""
        return {"n_in": self.input_bytes, "n_out": len(self.cfg.classes), "in_width": 16, "in_frac": 0,
                "out_width": 16, "out_frac": 0}
