"""The ad01 recipe: what the pipeline's data and train stages do for this task, and what the
toolchain and firmware stages need from it (model inputs, firmware sources and parameters)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from pipeline.artifacts import read_json, write_json
from tasks.ad import config as task_config
from tasks.ad import dataset, synthetic
from tasks.ad.input_map import InputMap, scores

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
EEMBC_DIR = "eembc"  # <data stage>/eembc/ad01/{*.bin, y_labels.csv}: the runner's dataset path


class Recipe:
    name = "ad"
    metric = "AUC"
    window_bytes = dataset.WINDOW_BYTES  # the DUT's db buffer size
    firmware_sources = [HERE / "firmware" / "ad_model.c"]
    # Source files (relative to the repository) whose change invalidates a stage's result.
    sources = {
        "data": ["tasks/ad/dataset.py", "tasks/ad/synthetic.py", "tasks/ad/features.py"],
        "train": ["tasks/ad", "toolchains/keras2.py"],
        "firmware": ["tasks/ad/firmware"],
    }

    def __init__(self, overrides: dict | None = None):
        self.cfg = task_config.load(overrides=overrides)
        self.model_id = self.cfg.model_id

    # ---- data -------------------------------------------------------------------------------
    def resolve_data(self, data: str) -> tuple[str, Path | None]:
        """('synthetic', None) or ('real', folder) for data=auto|synthetic|PATH."""
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

    def data(self, kind: str, real_path: Path | None, out: Path) -> dict:
        if kind == "synthetic":
            root = out / "ToyCar"
            synthetic.generate(synthetic.SyntheticSpec(**self.cfg.data.synthetic.model_dump()), root)
        else:
            root = real_path
        train, tests = dataset.check_layout(root)
        windows = dataset.train_windows(train, self.cfg.features)
        np.save(out / "train_windows.npy", windows)
        n_test = dataset.export_eembc(tests, self.cfg.features, out / EEMBC_DIR / self.model_id)
        return {
            "data_kind": kind,
            "source": str(root),
            "train_files": len(train),
            "train_windows": int(windows.shape[0]),
            "test_files": n_test,
            "eembc_dir": f"{EEMBC_DIR}",
        }

    def test_files(self, data_dir: Path) -> list[dataset.LabelledFile]:
        return dataset.read_eembc(data_dir / EEMBC_DIR / self.model_id)

    # ---- train ------------------------------------------------------------------------------
    def train(self, data_dir: Path, data_kind: str, out: Path) -> dict:
        from toolchains.keras2 import keras, tf  # first: sets up Keras 2 for everything below

        from tqdm.keras import TqdmCallback

        from tasks.ad import model_qkeras

        train = np.load(data_dir / "train_windows.npy")
        q = self.cfg.model.input_quant
        input_map = InputMap.fit(train, width=q.bits, integer=q.integer)
        if input_map.shift < 0:
            raise SystemExit(f"input quantizer {q} is too coarse for the feature range (shift {input_map.shift} < 0)")
        write_json(out / "input_map.json", input_map.model_dump())
        x = input_map.to_model(train)

        tf.keras.utils.set_random_seed(self.cfg.train.seed)
        model = model_qkeras.build(self.cfg.model)
        model.compile(keras.optimizers.Adam(self.cfg.train.learning_rate), loss="mse")
        history = model.fit(
            x, x, batch_size=self.cfg.train.batch_size, epochs=self.cfg.train.epochs, shuffle=True, verbose=0,
            callbacks=[TqdmCallback(verbose=0, desc="train")],
        )
        model.save(out / "model.h5")

        auc = self.auc(lambda v: model.predict(v, batch_size=4096, verbose=0), self.test_files(data_dir), input_map)
        gate = self.cfg.min_auc.get(data_kind)
        metrics = {
            "metric": "AUC",
            "auc_qkeras": auc,
            "final_loss": float(history.history["loss"][-1]),
            "data_kind": data_kind,
            "min_auc": gate,
            "evaluated_on": "host, QKeras model (float emulation of the quantized graph)",
        }
        write_json(out / "metrics.json", metrics)
        if gate is not None and auc < gate:
            raise SystemExit(f"train gate failed: AUC {auc:.4f} < {gate} on {data_kind} data (see {out}/metrics.json)")
        return metrics

    def load_model(self, train_dir: Path):
        from tasks.ad import model_qkeras
        from toolchains.keras2 import keras

        return keras.models.load_model(train_dir / "model.h5", custom_objects=model_qkeras.custom_objects(), compile=False)

    def input_map(self, train_dir: Path) -> InputMap:
        return InputMap.model_validate(read_json(train_dir / "input_map.json"))

    # ---- what toolchains and firmware need ---------------------------------------------------
    def model_inputs(self, data_dir: Path, train_dir: Path) -> np.ndarray:
        """Every test window as the accelerator receives it (on the input grid)."""
        windows = np.concatenate([f.windows for f in self.test_files(data_dir)])
        return self.input_map(train_dir).to_model(windows)

    def firmware_defines(self, train_dir: Path) -> dict[str, int]:
        m = self.input_map(train_dir)
        return {"AD_INPUT_OFFSET": m.offset, "AD_INPUT_SCALE_LOG2": m.scale_log2}

    def window_scores(self, predict, windows: np.ndarray, input_map: InputMap) -> np.ndarray:
        return scores(windows, predict(input_map.to_model(windows)), input_map)

    def auc(self, predict, files: list[dataset.LabelledFile], input_map: InputMap) -> float:
        """AUC over per-file mean window scores (the reference and MLC runner definition)."""
        per_file = [float(np.mean(self.window_scores(predict, f.windows, input_map))) for f in files]
        return float(roc_auc_score([f.label for f in files], per_file))
