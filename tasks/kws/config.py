"""Schema of tasks/kws/task.yaml, validated on load (pure pydantic: no TensorFlow imported)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from common.config import Strict, load_yaml
from frameworks.schema import BrevitasQuant, Gate, Pruning, Quant, RemoteFile, ToolchainSettings, TrainConfig
from tasks.calibration import CalibrationConfig

TASK_YAML = Path(__file__).with_name("task.yaml")


class InputEncoding(Strict):
    """int8 = trunc(x / scale + zero_point): how a kws01 .bin file encodes the MFCC features."""

    scale: float = Field(gt=0)
    zero_point: int = Field(ge=-128, le=127)


class SyntheticConfig(Strict):
    utterances_per_word: int = Field(ge=4)
    unknown_words: list[str] = Field(min_length=1)
    voices: list[str] = Field(min_length=1)
    noise_clips: int = Field(ge=1)
    test_fraction: float = Field(gt=0, lt=1)
    seed: int


class DataConfig(Strict):
    real_path: str
    synthetic: SyntheticConfig


class FeatureConfig(Strict):
    """The reference MFCC front end (docs/mlperf-tiny.md 1.3); the defaults are the reference's."""

    sample_rate: int = 16000
    clip_samples: int = 16000
    window_samples: int = Field(480, gt=0)
    stride_samples: int = Field(320, gt=0)
    mel_bins: int = Field(40, gt=0)
    lower_hz: float = Field(20.0, ge=0)
    upper_hz: float = Field(4000.0, gt=0)
    coefficients: int = Field(10, gt=0)

    @model_validator(mode="after")
    def _consistent(self):
        if self.upper_hz > self.sample_rate / 2:
            raise ValueError(f"upper_hz={self.upper_hz} is above the Nyquist frequency {self.sample_rate / 2}")
        if self.coefficients > self.mel_bins:
            raise ValueError(f"coefficients={self.coefficients} exceeds mel_bins={self.mel_bins}")
        if self.window_samples > self.clip_samples:
            raise ValueError("window_samples exceeds clip_samples")
        return self

    @property
    def frames(self) -> int:
        return 1 + (self.clip_samples - self.window_samples) // self.stride_samples


class TrainingMix(Strict):
    silence_percent: float = Field(ge=0)
    unknown_percent: float = Field(ge=0)
    background_frequency: float = Field(ge=0, le=1)
    background_volume: float = Field(ge=0)




class ModelConfig(Strict):
    filters: int = Field(gt=0)
    head: Literal["flatten", "average"]  # average: the reference's pooling (hls4ml then agrees by argmax only)
    blocks: int = Field(ge=1)
    first_kernel: tuple[int, int]
    input_quant: Quant
    first_weight_quant: Quant
    weight_quant: Quant
    bias_quant: Quant
    relu_bits: int = Field(ge=2)
    relu_integer: int = Field(ge=0)
    pruning: Pruning = Pruning()  # quantization-aware magnitude pruning (tfmot); sparsity 0: off






class BrevitasMLP(Strict):
    """The FINN model (model_brevitas.py): hidden widths, dropout, bit widths, training and its gate."""

    hidden: list[int] = Field(min_length=1)
    dropout: float = Field(ge=0, lt=1)
    quant: BrevitasQuant
    train: TrainConfig
    min_top1: Gate


class ReferenceConfig(Strict):
    file: str
    sha256: str | None
    url: str
    min_top1: float = Field(gt=0, le=1)
    calibration: CalibrationConfig  # the set its post-training types are calibrated on (tasks/calibration.py)
    hls4ml: ToolchainSettings  # read and validated by the hls4ml toolchain (toolchains/hls4ml/settings.py)
    int8: RemoteFile | None = None  # the official int8 model, FINN's reference (tasks/reference_int8.py)
    finn: ToolchainSettings | None = None  # read and validated by the FINN toolchain


class KWSTask(Strict):
    name: str
    model_id: str = Field(pattern=r"^[a-z]+\d\d$")
    classes: list[str] = Field(min_length=2)
    input: InputEncoding
    data: DataConfig
    features: FeatureConfig
    training_mix: TrainingMix
    model: ModelConfig
    train: TrainConfig
    min_top1: Gate  # of top-1, as a fraction (0..1)
    hls4ml: ToolchainSettings  # read and validated by the hls4ml toolchain (toolchains/hls4ml/settings.py)
    reference: ReferenceConfig
    brevitas: BrevitasMLP
    finn: ToolchainSettings  # read and validated by the FINN toolchain (toolchains/finn/settings.py)

    @model_validator(mode="after")
    def _model_fits_input(self):
        lo, hi = -128 - self.input.zero_point, 127 - self.input.zero_point
        q = self.model.input_quant
        if q.bits - 1 - q.integer != 0 or not (-(2 ** q.integer) <= lo and hi <= 2 ** q.integer - 1):
            raise ValueError(f"model.input_quant {q.bits},{q.integer} must hold the integers int8 - zero_point "
                             f"({lo}..{hi}) exactly: integer step, enough integer bits")
        return self

    @property
    def input_bytes(self) -> int:
        return self.features.frames * self.features.coefficients


def load(path: Path = TASK_YAML, overrides: dict | None = None) -> KWSTask:
    return load_yaml(path, KWSTask, overrides, "task configuration")
