"""The ad01 recipe: DCASE 2020 task 2 ToyCar (real, or synthetic in the same folder layout) -> the
reference log-mel front end -> a QKeras dense autoencoder -> ad01 test files (one per WAV, windows
the DUT scores), and what the toolchains and the firmware need (the interface: tasks/base.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.jsonio import read_json
from tasks.ad import config as task_config
from tasks.ad.input_map import InputMap
from tasks.base import EEMBC_DIR, RecipeBase

HERE = Path(__file__).resolve().parent


def dataset_fingerprint(root: Path) -> list[tuple[str, int, int]]:
    """(relative path, size, mtime) of every WAV: a real dataset is keyed by its content, not its path."""
    return sorted((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*.wav"))


class Recipe(RecipeBase):
    name = "ad"
    metric = "AUC"
    models = ("trained", "reference")
    reference_frameworks = ("qkeras", "brevitas")
    calibrated_frameworks = ("qkeras",)
    dataset_name = "ToyCar dataset"
    firmware_sources = [HERE / "firmware" / "ad_model.c"]
    data_modules = ["tasks.ad.dataset", "tasks.ad.synthetic", "tasks.ad.calibration_set", "tasks.calibration"]
    origins = {"trained": "QKeras autoencoder trained by this recipe",
               "reference": "MLPerf Tiny float autoencoder ({file}), post-training types"}

    def load_config(self, overrides: dict | None):
        return task_config.load(overrides=overrides)

    # ---- data -------------------------------------------------------------------------------
    def check_layout(self, root: Path):
        from tasks.ad import dataset

        return dataset.check_layout(root)

    def fingerprint(self, root: Path):
        return dataset_fingerprint(root)

    def data_settings(self) -> dict:
        from tasks import calibration
        from tasks.ad import calibration_set

        return {"features": self.cfg.features.model_dump(), "window_bytes": self.cfg.window_bytes,
                "stride_bytes": self.cfg.stride_bytes, "calibration": self.cfg.reference.calibration.model_dump(),
                "calibration_list": calibration.file_digest(calibration_set.LIST)}

    def generate_synthetic(self, out: Path) -> tuple[Path, str]:
        from tasks.ad import synthetic

        root = out / "ToyCar"
        synthetic.generate(synthetic.SyntheticSpec(**self.cfg.data.synthetic.model_dump()), root)
        return root, "synthetic ToyCar, generated in this stage (ToyCar/)"

    def prepare_data(self, root: Path, kind: str, out: Path) -> dict:
        from tasks import calibration
        from tasks.ad import calibration_set, dataset

        train, tests = dataset.check_layout(root)
        parts = dataset.file_windows(train, self.cfg.features)
        windows = np.concatenate(parts)
        np.save(out / "train_windows.npy", windows)
        samples, what = calibration_set.choose(train, parts, kind, self.cfg.reference.calibration)
        calibration.write(out / calibration.FILE, samples, what)
        n_test = dataset.export_eembc(tests, self.cfg.features, out / EEMBC_DIR / self.model_id,
                                      self.cfg.window_bytes, self.cfg.stride_bytes)
        return {"train_files": len(train), "train_windows": int(windows.shape[0]), "test_files": n_test,
                "calibration": what,
                "artifacts": {"train_windows": "train_windows.npy", "eembc": EEMBC_DIR, "calibration": calibration.FILE}}

    def test_files(self, eembc: Path):
        from tasks.ad import dataset

        return dataset.read_eembc(eembc / self.model_id)

    # ---- train ------------------------------------------------------------------------------
    def train_params(self, model: str) -> dict:
        cfg = self.cfg
        if model == "reference":
            return {"reference": cfg.reference.model_dump(exclude={"hls4ml", "finn", "int8"})}
        return {"model": cfg.model.model_dump(), "train": cfg.train.model_dump(), "gate": cfg.min_auc.model_dump()}

    def train_qkeras(self, data: dict[str, Path] | None, eembc: Path, data_kind: str, out: Path) -> dict:
        from tasks.ad import train

        assert data is not None, "the trained model needs the data stage"
        return train.train(self.cfg, data["train_windows"], self.test_files(eembc), data_kind, out)

    def import_reference(self, eembc: Path, data_kind: str, out: Path) -> dict:
        from tasks.ad import reference

        return reference.import_model(self.cfg, self.reference_file(), self.test_files(eembc), data_kind, out)

    def calibration_inputs(self, samples: np.ndarray) -> np.ndarray:
        """Float dB windows on the reference's input grid (its input map: offset 0, scale 2^0)."""
        r = self.cfg.reference
        return InputMap(offset=0, scale_log2=0, width=r.input_width, frac=r.input_frac).to_model(samples)

    @property
    def sources(self) -> dict[str, dict[str, list[str]]]:
        return {**super().sources, "reference": {"modules": ["tasks.ad.reference", "tasks.ad.recipe"]}}

    def input_map(self, trained: dict[str, Path]) -> InputMap:
        return InputMap.model_validate(read_json(trained["input_map"]))

    # ---- the FINN model ---------------------------------------------------------------------
    def train_brevitas(self, data: dict[str, Path], eembc: Path, data_kind: str, out: Path) -> dict:
        from tasks.ad import train_brevitas

        return train_brevitas.train(self.cfg, data["train_windows"], self.test_files(eembc), data_kind, out)

    def build_brevitas(self):
        from tasks.ad import model_brevitas

        return model_brevitas.build(self.cfg.brevitas, self.cfg.model.inputs)

    def brevitas_inputs(self, eembc: Path, trained: dict[str, Path]) -> np.ndarray:
        """Every test window as the FINN model takes it: the input map's integers (the accelerator's raw words)."""
        windows = np.concatenate([f.windows for f in self.test_files(eembc)])
        return self.input_map(trained).to_raw(windows).astype(np.float32)

    def brevitas_input_frac(self, trained: dict[str, Path]) -> int:
        return self.input_map(trained).frac

    # ---- what toolchains and firmware need ---------------------------------------------------
    def model_inputs(self, eembc: Path, trained: dict[str, Path]) -> np.ndarray:
        """Every test window as the accelerator receives it (on the input grid)."""
        windows = np.concatenate([f.windows for f in self.test_files(eembc)])
        return self.input_map(trained).to_model(windows)

    def task_defines(self, trained: dict[str, Path] | None) -> dict[str, int | str]:
        """The input geometry from task.yaml and the input map from training (a stub build without a
        trained model maps x to itself); for the int8 reference its input and output quantization."""
        if trained and "qonnx" in trained:
            declared = read_json(trained["input"])
            return {"TASK_INPUT_VALUES": self.cfg.model.inputs, "AD_INT8": 1,
                    "AD_INPUT_SCALE": f"{declared['scale']!r}f", "AD_INPUT_ZERO_POINT": declared["zero_point"],
                    "AD_OUTPUT_SCALE": f"{declared['output']['scale']!r}f",
                    "AD_OUTPUT_ZERO_POINT": declared["output"]["zero_point"]}
        m = self.input_map(trained) if trained else InputMap(offset=0, scale_log2=0, width=16, frac=8)
        return {"TASK_INPUT_VALUES": self.cfg.model.inputs, "AD_INPUT_OFFSET": m.offset, "AD_INPUT_SCALE_LOG2": m.scale_log2}

    # ---- the int8 reference (tasks/reference_int8.py) ----------------------------------------
    def int8_reference(self):
        return self.cfg.reference.int8

    def reference_target(self) -> float:
        return self.cfg.reference.min_auc

    def external_range(self, zero_point: int) -> tuple[int, int]:
        return -128 - zero_point, 127 - zero_point

    def quantized_inputs(self, eembc: Path, scale: float, zero_point: int) -> np.ndarray:
        """Every test window quantized as the firmware does it (tasks/ad/firmware/ad_model.c, TF Lite's
        Quantize): q = clip(round(x / scale) + zero_point, -128, 127), x / scale in float32, halves away
        from zero; returns q - zero_point."""
        windows = np.concatenate([f.windows for f in self.test_files(eembc)]).astype(np.float32)
        ratio = windows / np.float32(scale)
        whole = np.trunc(ratio)  # ratio - whole is exact: C's roundf without a float32 rounding of |ratio| + 0.5
        rounded = whole + np.sign(ratio) * (np.abs(ratio - whole) >= 0.5)
        q = np.clip(rounded + zero_point, -128, 127)
        return q.astype(np.int64) - zero_point

    def score_reference_outputs(self, eembc: Path, outputs: np.ndarray) -> float:
        """AUC over files of the mean window score: the squared error between each float window and the
        reference's reconstruction of it (float, or int8 dequantized), as the firmware computes it."""
        from sklearn.metrics import roc_auc_score

        files = self.test_files(eembc)
        windows = np.concatenate([f.windows for f in files]).astype(np.float64)
        per_window = np.mean((np.asarray(outputs, np.float64) - windows) ** 2, axis=1)
        starts = np.cumsum([0] + [len(f.windows) for f in files])
        per_file = [float(np.mean(per_window[a:b])) for a, b in zip(starts[:-1], starts[1:])]
        return float(roc_auc_score([f.label for f in files], per_file))

    def stub_accelerator(self) -> dict[str, int]:
        """I/O words of a stand-in accelerator for protocol tests: an identity on a coarse input grid
        (2 fractional bits), so each window's score is its own quantization error, not zero."""
        return {"n_in": self.cfg.model.inputs, "n_out": self.cfg.model.inputs, "in_width": 16, "in_frac": 2,
                "out_width": 16, "out_frac": 2}

    def score_windows(self, windows: np.ndarray, outputs: np.ndarray, trained: dict[str, Path]) -> np.ndarray:
        """Per-window scores the firmware prints, from the accelerator's outputs (for checks)."""
        from tasks.ad.input_map import scores

        return scores(windows, outputs, self.input_map(trained))
