"""Schema of tasks/ic/task.yaml, validated on load (pure pydantic: no TensorFlow imported)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from common.config import Strict, load_yaml
from frameworks.schema import BrevitasQuant, Gate, Pruning, Quant, ToolchainSettings, TrainConfig
from tasks.calibration import CalibrationConfig

TASK_YAML = Path(__file__).with_name("task.yaml")


class SyntheticConfig(Strict):
    images_per_batch: int = Field(ge=10)  # CIFAR-10 has 10 000; five training batches and one test batch
    noise: float = Field(ge=0)  # pixel noise, standard deviation in 0..255 units
    seed: int


class DataConfig(Strict):
    real_path: str
    synthetic: SyntheticConfig


class RemoteFile(Strict):
    """A file of the MLPerf Tiny repository: searched in ../shared/models/reference and the cache, else downloaded."""

    file: str
    sha256: str | None
    url: str


class TestsetConfig(Strict):
    per_class: int = Field(ge=1)  # ic01: 20 test images per class
    perf_samples: RemoteFile  # which CIFAR-10 test images ic01 holds (real data only)


class ModelConfig(Strict):
    filters: list[int] = Field(min_length=1)  # one residual stack per entry; the first conv has filters[0]
    skip: bool  # residual connections (ResNet-8); False: a plain chain, as the published RN07/RN08
    head: Literal["average", "flatten"]
    input_shift: int = Field(ge=0, le=8)  # the model sees pixel / 2**input_shift (8: 0..255/256, exact)
    weight_quant: Quant
    bias_quant: Quant
    relu_bits: int = Field(ge=2)
    relu_integer: int = Field(ge=0)
    pruning: Pruning = Pruning()  # quantization-aware magnitude pruning (tfmot); sparsity 0: off


class Augment(Strict):
    flip: bool  # random horizontal flips
    shift: float = Field(ge=0, lt=0.5)  # random translation, as a fraction of the side


class BrevitasCNV(Strict):
    """The FINN model (model_brevitas.py): conv widths, where the 2x2 poolings go, fully connected
    widths, bit widths, training and its gate."""

    conv: list[int] = Field(min_length=1)
    pool_after: list[int]  # indices into conv
    fc: list[int]
    quant: BrevitasQuant
    train: TrainConfig
    min_top1: Gate

    @model_validator(mode="after")
    def _fits_32x32(self):
        side = 32
        for i in range(len(self.conv)):
            side -= 2
            if i in self.pool_after:
                side //= 2
            if side < 1:
                raise ValueError(f"conv/pool_after shrink the 32 x 32 image to nothing at conv {i}")
        return self


class ReferenceConfig(RemoteFile):
    input_shift: Literal[0] = 0  # the reference takes raw pixels 0..255 (its first BatchNorm normalises them)
    min_top1: float = Field(gt=0, le=1)  # on real CIFAR-10 test files only: synthetic shapes are not its classes
    calibration: CalibrationConfig  # the set its post-training types are calibrated on (tasks/calibration.py)
    hls4ml: ToolchainSettings  # read and validated by the hls4ml toolchain (toolchains/hls4ml/settings.py)
    int8: RemoteFile | None = None  # the official int8 model, FINN's reference (tasks/reference_int8.py)
    finn: ToolchainSettings | None = None  # read and validated by the FINN toolchain


class ICTask(Strict):
    name: str
    model_id: str = Field(pattern=r"^[a-z]+\d\d$")
    classes: list[str] = Field(min_length=2)
    data: DataConfig
    testset: TestsetConfig
    model: ModelConfig
    augment: Augment
    train: TrainConfig
    min_top1: Gate  # of top-1, as a fraction (0..1)
    hls4ml: ToolchainSettings  # read and validated by the hls4ml toolchain (toolchains/hls4ml/settings.py)
    reference: ReferenceConfig
    brevitas: BrevitasCNV
    finn: ToolchainSettings  # read and validated by the FINN toolchain (toolchains/finn/settings.py)

    @model_validator(mode="after")
    def _input_type_holds_pixels(self):
        want = f"ufixed<8,{8 - self.model.input_shift}>"
        if self.hls4ml.get("input") not in (None, want):
            raise ValueError(f"hls4ml.input {self.hls4ml.get('input')}: the model's input is pixel / 2^{self.model.input_shift}, "
                             f"exactly {want}")
        return self

    @property
    def input_bytes(self) -> int:
        return 32 * 32 * 3


def load(path: Path = TASK_YAML, overrides: dict | None = None) -> ICTask:
    return load_yaml(path, ICTask, overrides, "task configuration")
