"""The recipe interface and what every recipe does the same way. A recipe (tasks/<name>/recipe.py,
`Recipe(RecipeBase)`) turns a dataset into a trained model and tells the toolchains and the firmware
what they need; the pipeline calls exactly the members declared here.

The skeleton is here (the data stage: real or synthetic data, the EEMBC export and its SYNTHETIC
mark; the train stage's dispatch between training and importing a reference model; the Brevitas
model's loading; the firmware's common defines; the toolchains' task.yaml sections); the task's
folder fills in the hooks marked abstract."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from common.errors import ConfigError
from common.paths import SHARED, cache_root
from tasks import SYNTHETIC_MARK

EEMBC_DIR = "eembc"  # <data stage>/eembc/<model id>/{*.bin, y_labels.csv}: the runner's dataset path


class RecipeBase(ABC):
    #: the task's folder name (task=<name>)
    name: ClassVar[str]
    #: the task's metric as reports name it ("AUC", "top-1 %")
    metric: ClassVar[str]
    #: the models it offers: "trained" (trained by the recipe) and, where there is one, "reference"
    models: ClassVar[tuple[str, ...]] = ("trained",)
    #: what the real dataset is called in messages ("Speech Commands v2")
    dataset_name: ClassVar[str]
    #: the task's C sources of th_load_tensor / th_results (tasks/<name>/firmware/)
    firmware_sources: ClassVar[list[Path]]
    #: the modules the data stage runs besides the recipe (its key follows them)
    data_modules: ClassVar[list[str]]
    #: where the models come from, for reports ({file}: the reference model's file name)
    origins: ClassVar[dict[str, str]]
    #: whether a QONNX model trained elsewhere can run on this task's test files (external_inputs)
    imports_models: ClassVar[bool] = False
    #: which frameworks take the task's model=reference: "qkeras" (the float Keras reference, for hls4ml),
    #: "brevitas" (the official int8 model, for FINN: int8_reference)
    reference_frameworks: ClassVar[tuple[str, ...]] = ()
    #: which of those take the reference's post-training types from a calibration set (tasks/calibration.py)
    #: that the data stage picks: for them the data stage runs even with a test folder of its own (testset=)
    calibrated_frameworks: ClassVar[tuple[str, ...]] = ()

    def __init__(self, overrides: dict | None = None):
        self.cfg = self.load_config(overrides)
        self.model_id: str = self.cfg.model_id
        self.input_bytes: int = self.cfg.input_bytes  # the DUT's db buffer: one test input

    @abstractmethod
    def load_config(self, overrides: dict | None) -> Any:
        """The task.yaml, validated (with `--set` overrides)."""

    @property
    def sources(self) -> dict[str, dict[str, list[str]]]:
        """The code each stage runs (modules are followed through their project imports) and, for the
        firmware, its C sources: what invalidates a stage's result, and nothing else."""
        t = f"tasks.{self.name}"
        return {
            "data": {"modules": [f"{t}.recipe", *self.data_modules]},
            "trained": {"modules": [f"{t}.train", f"{t}.model_qkeras"]},
            "reference": {"modules": [f"{t}.reference", f"{t}.testset"]},
            "reference_int8": {"modules": ["tasks.reference_int8", f"{t}.recipe"]},
            "brevitas": {"modules": [f"{t}.train_brevitas", f"{t}.model_brevitas", "frameworks.brevitas_qat"]},
            "firmware": {"files": [f"tasks/{self.name}/firmware", "tasks/firmware"]},  # tasks/firmware: shared C
        }

    def model_origin(self, model: str, framework: str = "qkeras") -> str:
        if model == "reference" and framework == "brevitas":
            remote = self.int8_reference()
            assert remote is not None  # Flow refuses a FINN reference a task does not have
            return f"MLPerf Tiny int8 reference ({remote.file}), post-training quantized by MLPerf, through QONNX"
        return self.origins[model].format(file=self.cfg.reference.file if model == "reference" else "")

    # ---- data -------------------------------------------------------------------------------
    def resolve_data(self, data: str) -> tuple[str, Path | None]:
        """('synthetic', None) or ('real', folder) for data=auto|synthetic|PATH (tasks.resolve_data)."""
        from tasks import resolve_data

        return resolve_data(data, self.cfg.data.real_path, self.dataset_name, self.check_layout)

    @abstractmethod
    def check_layout(self, root: Path) -> object:
        """Raise a DatasetError naming what is missing when `root` is not the real dataset's layout."""

    @abstractmethod
    def fingerprint(self, root: Path) -> object:
        """What a real dataset is keyed by: its content, not only its path."""

    @abstractmethod
    def data_settings(self) -> dict:
        """The task.yaml values the data stage depends on (besides the synthetic generator's)."""

    def data_params(self, kind: str, real_path: Path | None) -> dict:
        params = {"kind": kind, **self.data_settings()}
        if kind == "synthetic":
            params["synthetic"] = self.cfg.data.synthetic.model_dump()
        else:
            assert real_path is not None  # resolve_data gives a folder with "real"
            params["path"] = str(real_path)
            params["content"] = self.fingerprint(real_path)
        return params

    @abstractmethod
    def generate_synthetic(self, out: Path) -> tuple[Path, str]:
        """Write the synthetic dataset, in the real one's on-disk format, under `out`: (its root, what it is)."""

    @abstractmethod
    def prepare_data(self, root: Path, kind: str, out: Path) -> dict:
        """From the dataset at `root`: the training files and the EEMBC test folder out/eembc/<model id>/;
        returns the stage's outputs (counts and `artifacts`, with "eembc": EEMBC_DIR)."""

    def data(self, kind: str, real_path: Path | None, out: Path) -> dict:
        if kind == "synthetic":
            root, source = self.generate_synthetic(out)
        else:
            assert real_path is not None  # resolve_data gives a folder with "real"
            root, source = real_path, str(real_path)
        outputs = self.prepare_data(root, kind, out)
        if kind == "synthetic":
            (out / EEMBC_DIR / self.model_id / SYNTHETIC_MARK).write_text(f"generated by tasks/{self.name}/synthetic.py\n")
        return {"data_kind": kind, "source": source, **outputs}

    # ---- train / import ---------------------------------------------------------------------
    @abstractmethod
    def train_params(self, model: str) -> dict:
        """The task.yaml values the train stage depends on for `model`."""

    def train(self, model: str, data: dict[str, Path] | None, eembc: Path, data_kind: str, out: Path) -> dict:
        """Train the QKeras model, or import the reference model; gated, returns metrics.json's content."""
        if model == "reference":
            metrics = self.import_reference(eembc, data_kind, out)
            calibration = self.reference_calibration(data)
            if calibration is None:
                return metrics
            from common.jsonio import write_json
            from tasks import calibration as cal

            inputs, what = calibration
            cal.write(out / cal.FILE, inputs, what)
            metrics = {**metrics, "calibration": what, "artifacts": {**metrics.get("artifacts", {}), "calibration": cal.FILE}}
            write_json(out / "metrics.json", metrics)
            return metrics
        return self.train_qkeras(data, eembc, data_kind, out)

    @abstractmethod
    def train_qkeras(self, data: dict[str, Path] | None, eembc: Path, data_kind: str, out: Path) -> dict:
        """Train the task's QKeras model on the data stage's files and gate it on the test files."""

    def import_reference(self, eembc: Path, data_kind: str, out: Path) -> dict:
        raise ConfigError(f"task {self.name} has no reference model")

    def reference_calibration(self, data: dict[str, Path] | None) -> tuple[np.ndarray, dict] | None:
        """The reference's calibration inputs as the accelerator receives them, and what they are (their
        record: source, count, real or synthetic), from the data stage's calibration set; None where the
        task's reference takes none or the data stage made none."""
        if not self.calibrated_frameworks or data is None or "calibration" not in data:
            return None
        from tasks import calibration

        samples, what = calibration.read(data["calibration"])
        return self.calibration_inputs(samples), what

    def calibration(self, trained: dict[str, Path]) -> tuple[np.ndarray, dict] | None:
        """The train stage's calibration inputs (as the accelerator receives them) and their record, for a
        toolchain's calibration pass; None where the train stage wrote none."""
        if "calibration" not in trained:
            return None
        from tasks import calibration

        return calibration.read(trained["calibration"])

    def calibration_inputs(self, samples: np.ndarray) -> np.ndarray:
        """The data stage's calibration samples (in the data's own encoding) as the reference model's inputs."""
        raise ConfigError(f"task {self.name} has no calibration set for its reference")

    def reference_file(self) -> Path:
        return self.locate(self.cfg.reference)

    def int8_reference(self) -> Any:
        """The official int8 TF Lite model FINN takes for model=reference (a RemoteFile), or None."""
        return None

    def reference_target(self) -> float:
        """The closed-division quality target of the reference on real data, in the task's metric's units."""
        return 100 * self.cfg.reference.min_top1

    def score_reference_outputs(self, eembc: Path, outputs: np.ndarray) -> float:
        """The task's metric from a reference's outputs on every test input (a classifier: top-1 %)."""
        _, labels = self.external_inputs(eembc, 0)
        return 100 * float(np.mean(np.asarray(outputs).argmax(1) == labels))

    def import_int8_reference(self, eembc: Path, data_kind: str, out: Path) -> dict:
        """The train stage of model=reference for FINN: tasks/reference_int8.py on the int8 model."""
        from tasks.reference_int8 import import_int8_reference

        remote = self.int8_reference()
        if remote is None:
            raise ConfigError(f"task {self.name} has no int8 reference model for FINN (task.yaml reference.int8)")
        return import_int8_reference(self, self.locate(remote), eembc, data_kind, out)

    def load_model(self, trained: dict[str, Path]) -> Any:
        """The trained (or imported) Keras model, for hls4ml."""
        from frameworks.keras2 import load_qkeras_model

        return load_qkeras_model(trained["model"])

    # ---- the FINN model (Brevitas, trained on the same data stage; the FINN flow exports it) -------
    def brevitas_params(self) -> dict:
        return self.cfg.brevitas.model_dump()

    @abstractmethod
    def train_brevitas(self, data: dict[str, Path], eembc: Path, data_kind: str, out: Path) -> dict:
        """Train the task's Brevitas model (quantization-aware) and gate it."""

    @abstractmethod
    def build_brevitas(self) -> Any:
        """The Brevitas model as task.yaml describes it, untrained."""

    def load_brevitas(self, trained: dict[str, Path]) -> Any:
        from frameworks import brevitas_qat

        return brevitas_qat.load(self.build_brevitas(), trained["model"])

    @abstractmethod
    def brevitas_inputs(self, eembc: Path, trained: dict[str, Path]) -> np.ndarray:
        """Every test input as the FINN model takes it: the integers the firmware gives the accelerator."""

    @abstractmethod
    def brevitas_input_frac(self, trained: dict[str, Path]) -> int:
        """Fraction bits of those integers as model units (the firmware's ACCEL_IN_FRAC)."""

    # ---- a QONNX model brought from elsewhere (imports_models) -------------------------------
    def external_inputs(self, eembc: Path, zero_point: int) -> tuple[np.ndarray, np.ndarray]:
        """(the integers k the firmware gives the accelerator for each test file; labels)."""
        raise ConfigError(f"task {self.name} does not take a model file")

    def external_range(self, zero_point: int) -> tuple[int, int]:
        """The range of those integers."""
        raise ConfigError(f"task {self.name} does not take a model file")

    def quantized_inputs(self, eembc: Path, scale: float, zero_point: int) -> np.ndarray:
        """The integers q - zero_point the firmware gives an int8-input model for every test input, q being
        the test input quantized with (scale, zero_point) as the firmware does it. Test files that are
        int8 already (kws01) need no scale."""
        return self.external_inputs(eembc, zero_point)[0]

    # ---- what toolchains and firmware need ---------------------------------------------------
    @abstractmethod
    def model_inputs(self, eembc: Path, trained: dict[str, Path]) -> np.ndarray:
        """Every test input as the accelerator receives it (the toolchains' checks run on these)."""

    def toolchain_settings(self, flow: str, model: str) -> dict:
        """The task.yaml section a toolchain reads (`<flow>:`, or `reference.<flow>:` for the reference
        model), as data: the toolchain validates it against its own schema."""
        section = self.cfg.reference if model == "reference" else self.cfg
        return dict(getattr(section, flow, None) or {})

    def toolchain_settings_where(self, flow: str, model: str) -> str:
        """Where that section is, for messages."""
        return f"tasks/{self.name}/task.yaml {'reference.' if model == 'reference' else ''}{flow}"

    def firmware_defines(self, trained: dict[str, Path] | None) -> dict[str, int | str]:
        """The task's parameters for its firmware (task_model.h); `trained` is None for a stub build."""
        return {"TASK_MODEL_ID": f'"{self.model_id}"', "TASK_INPUT_BYTES": self.input_bytes, **self.task_defines(trained),
                **self._int8_logits(trained)}

    def _int8_logits(self, trained: dict[str, Path] | None) -> dict[str, int | str]:
        """An int8 TF Lite reference classifier (tasks/reference_int8.py): its logits' int8 quantization, so
        the firmware (tasks/firmware/classifier.h) reports the interpreter's int8 logits, ties between
        classes included, rather than the float ones the accelerator's graph ends at."""
        if not trained or "interpreter" not in trained or self.metric != "top-1 %":
            return {}
        output = json.loads(trained["input"].read_text())["output"]
        return {"TASK_OUTPUT_SCALE": f"{output['scale']!r}f", "TASK_OUTPUT_ZERO_POINT": int(output["zero_point"])}

    @abstractmethod
    def task_defines(self, trained: dict[str, Path] | None) -> dict[str, int | str]:
        """The firmware parameters only this task has (its input mapping, its number of classes)."""

    @abstractmethod
    def stub_accelerator(self) -> dict[str, int]:
        """I/O words of a stand-in accelerator for the protocol tests (write_accel_model's arguments)."""

    @staticmethod
    def locate(remote) -> Path:
        """A file of the MLPerf Tiny repository (remote: file, url, sha256): from the reference models
        beside the checkout (common.paths.SHARED) or the download cache, else downloaded into the cache."""
        from common.download import locate

        return locate(remote.file, [SHARED / "models" / "reference", cache_root() / "models"], remote.url,
                      cache_root() / "models", remote.sha256)
