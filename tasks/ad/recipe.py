"""The ad01 recipe: what the pipeline's data and train stages do for this task, and what the
toolchain and firmware stages need from it (model inputs, firmware sources and parameters).

Stages hand artifacts to each other by name: a stage's outputs name its files relative to its own
folder, and the pipeline passes the next stage a {name: path} mapping read from that manifest."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from common.jsonio import read_json
from tasks.ad import config as task_config
from tasks.ad.input_map import InputMap

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
EEMBC_DIR = "eembc"  # <data stage>/eembc/ad01/{*.bin, y_labels.csv}: the runner's dataset path


def dataset_fingerprint(root: Path) -> list[tuple[str, int, int]]:
    """(relative path, size, mtime) of every WAV: a real dataset is keyed by its content, not its path."""
    return sorted((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*.wav"))


class Recipe:
    name = "ad"
    metric = "AUC"
    firmware_sources = [HERE / "firmware" / "ad_model.c"]
    # The code each stage runs (modules are followed through their project imports) and, for the
    # firmware, its C sources: what invalidates a stage's result, and nothing else.
    sources = {
        "data": {"modules": ["tasks.ad.recipe", "tasks.ad.dataset", "tasks.ad.synthetic"]},
        "train": {"modules": ["tasks.ad.train", "tasks.ad.model_qkeras"]},
        "firmware": {"files": ["tasks/ad/firmware"]},
    }

    def __init__(self, overrides: dict | None = None):
        self.cfg = task_config.load(overrides=overrides)
        self.model_id = self.cfg.model_id
        self.input_bytes = self.cfg.window_bytes  # the DUT's db buffer size
        self.model_origin = "QKeras autoencoder trained by this recipe"

    # ---- data -------------------------------------------------------------------------------
    def resolve_data(self, data: str) -> tuple[str, Path | None]:
        """('synthetic', None) or ('real', folder) for data=auto|synthetic|PATH."""
        from tasks.ad import dataset

        if data == "synthetic":
            return "synthetic", None
        if data == "auto":
            real = Path(self.cfg.data.real_path).expanduser()
            if real.is_dir():
                return "real", real
            log.warning(
                "\n%s\n  data=auto: no real ToyCar dataset at %s\n  USING SYNTHETIC DATA: results are not"
                " comparable with MLPerf Tiny and are never exported as a submission.\n%s",
                "!" * 78, real, "!" * 78,
            )
            return "synthetic", None
        path = Path(data).expanduser().resolve()
        dataset.check_layout(path)  # fail now, before any stage runs, with a clear message
        return "real", path

    def data_params(self, kind: str, real_path: Path | None) -> dict:
        params = {"kind": kind, "features": self.cfg.features.model_dump(),
                  "window_bytes": self.cfg.window_bytes, "stride_bytes": self.cfg.stride_bytes}
        if kind == "synthetic":
            params["synthetic"] = self.cfg.data.synthetic.model_dump()
        else:
            params["path"] = str(real_path)
            params["content"] = dataset_fingerprint(real_path)
        return params

    def data(self, kind: str, real_path: Path | None, out: Path) -> dict:
        from tasks.ad import dataset, synthetic

        if kind == "synthetic":
            root = out / "ToyCar"
            synthetic.generate(synthetic.SyntheticSpec(**self.cfg.data.synthetic.model_dump()), root)
            source = "synthetic ToyCar, generated in this stage (ToyCar/)"
        else:
            root, source = real_path, str(real_path)
        train, tests = dataset.check_layout(root)
        windows = dataset.train_windows(train, self.cfg.features)
        np.save(out / "train_windows.npy", windows)
        n_test = dataset.export_eembc(tests, self.cfg.features, out / EEMBC_DIR / self.model_id,
                                      self.cfg.window_bytes, self.cfg.stride_bytes)
        return {
            "data_kind": kind,
            "source": source,
            "train_files": len(train),
            "train_windows": int(windows.shape[0]),
            "test_files": n_test,
            "artifacts": {"train_windows": "train_windows.npy", "eembc": EEMBC_DIR},
        }

    def test_files(self, data: dict[str, Path]):
        from tasks.ad import dataset

        return dataset.read_eembc(data["eembc"] / self.model_id)

    # ---- train ------------------------------------------------------------------------------
    def train(self, data: dict[str, Path], data_kind: str, out: Path) -> dict:
        from tasks.ad import train

        return train.train(self.cfg, data["train_windows"], self.test_files(data), data_kind, out)

    def load_model(self, trained: dict[str, Path]):
        from tasks.ad import model_qkeras
        from toolchains.keras2 import keras

        return keras.models.load_model(trained["model"], custom_objects=model_qkeras.custom_objects(), compile=False)

    def input_map(self, trained: dict[str, Path]) -> InputMap:
        return InputMap.model_validate(read_json(trained["input_map"]))

    # ---- what toolchains and firmware need ---------------------------------------------------
    def model_inputs(self, data: dict[str, Path], trained: dict[str, Path]) -> np.ndarray:
        """Every test window as the accelerator receives it (on the input grid)."""
        windows = np.concatenate([f.windows for f in self.test_files(data)])
        return self.input_map(trained).to_model(windows)

    def firmware_defines(self, trained: dict[str, Path] | None) -> dict[str, int | str]:
        """The task's parameters for tasks/ad/firmware (model id and input geometry from task.yaml,
        the input map from training; a stub build without a trained model maps x to itself)."""
        m = self.input_map(trained) if trained else InputMap(offset=0, scale_log2=0, width=16, frac=8)
        return {
            "TASK_MODEL_ID": f'"{self.model_id}"',
            "TASK_INPUT_VALUES": self.cfg.model.inputs,
            "TASK_INPUT_BYTES": self.cfg.window_bytes,
            "AD_INPUT_OFFSET": m.offset,
            "AD_INPUT_SCALE_LOG2": m.scale_log2,
        }

    def stub_accelerator(self) -> dict[str, int]:
        """I/O words of a stand-in accelerator for protocol tests: an identity on a coarse input grid
        (2 fractional bits), so each window's score is its own quantization error, not zero."""
        return {"n_in": self.cfg.model.inputs, "n_out": self.cfg.model.inputs, "in_width": 16, "in_frac": 2,
                "out_width": 16, "out_frac": 2}

    def score_windows(self, windows: np.ndarray, outputs: np.ndarray, trained: dict[str, Path]) -> np.ndarray:
        """Per-window scores the firmware prints, from the accelerator's outputs (for checks)."""
        from tasks.ad.input_map import scores

        return scores(windows, outputs, self.input_map(trained))
