"""Schema of tasks/ad/task.yaml, validated on load (pure pydantic: validating imports no TensorFlow
and no audio library). Cross-field rules keep the front end, the model and the firmware consistent."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from common.config import Strict, load_yaml
from frameworks.schema import BrevitasQuant, Gate, Pruning, Quant, RemoteFile, ToolchainSettings, TrainConfig
from tasks.calibration import CalibrationConfig

TASK_YAML = Path(__file__).with_name("task.yaml")
FLOAT_BYTES = 4  # an ad01 window is float32 little-endian (docs/mlperf-tiny.md 1.6)


class SyntheticConfig(Strict):
    machine_ids: list[int] = Field(min_length=1)
    train_per_id: int = Field(ge=1)
    test_normal_per_id: int = Field(ge=1)
    test_anomaly_per_id: int = Field(ge=1)
    seconds: float = Field(ge=8.0)  # the front end keeps frames 50..249: about 8 s at 16 kHz
    seed: int


class DataConfig(Strict):
    real_path: str
    synthetic: SyntheticConfig


class FeatureConfig(Strict):
    """The reference log-mel front end (docs/mlperf-tiny.md 1.6); the defaults are the reference's."""

    n_fft: int = Field(1024, gt=0)
    hop_length: int = Field(512, gt=0)
    n_mels: int = Field(128, gt=0)
    power: float = Field(2.0, gt=0)
    frames: int = Field(5, gt=0)
    first_frame: int = Field(50, ge=0)
    last_frame: int = Field(250, gt=0)

    @model_validator(mode="after")
    def _frames_fit(self):
        if self.last_frame - self.first_frame < self.frames:
            raise ValueError(f"first_frame..last_frame ({self.first_frame}..{self.last_frame}) "
                             f"holds fewer than frames={self.frames} frames")
        return self

    @property
    def kept_frames(self) -> int:
        return self.last_frame - self.first_frame

    @property
    def windows_per_file(self) -> int:
        return self.kept_frames - self.frames + 1




class ModelConfig(Strict):
    inputs: int = Field(640, gt=0)
    hidden: list[int] = Field([64, 64, 8, 64, 64], min_length=1)
    input_quant: Quant = Quant(bits=16, integer=8)
    weight_quant: Quant = Quant(bits=8, integer=0)
    bias_quant: Quant = Quant(bits=8, integer=3)
    output_bias_quant: Quant = Quant(bits=16, integer=8)
    relu_bits: int = Field(8, ge=2)
    relu_integer: int = Field(5, ge=0)
    pruning: Pruning = Pruning()  # quantization-aware magnitude pruning (tfmot); sparsity 0: off

    @model_validator(mode="after")
    def _widths(self):
        if any(w <= 0 for w in self.hidden):
            raise ValueError(f"hidden widths must be > 0, got {self.hidden}")
        return self






class BrevitasMLP(Strict):
    """The FINN model (model_brevitas.py): hidden widths, the integer input's width, bit widths,
    training and its gate."""

    hidden: list[int] = Field(min_length=1)
    input_quant: Quant  # the input map's integers: bits wide, `integer` bits of (x - offset) * 2^scale
    quant: BrevitasQuant
    train: TrainConfig
    min_auc: Gate


class ReferenceConfig(RemoteFile):
    """model=reference: the float autoencoder (file: hls4ml, post-training types) and the official int8 one (FINN)."""

    input_width: int = Field(ge=8, le=32)  # the float model's input type on the accelerator (the firmware's words)
    input_frac: int = Field(ge=0)
    int8: RemoteFile
    min_auc: float = Field(gt=0, le=1)  # the closed-division target on real data
    calibration: CalibrationConfig  # the set its post-training types are calibrated on (tasks/calibration.py)
    hls4ml: ToolchainSettings  # read and validated by the hls4ml toolchain
    finn: ToolchainSettings  # read and validated by the FINN toolchain


class ADTask(Strict):
    name: str
    model_id: str = Field(pattern=r"^[a-z]+\d\d$")
    data: DataConfig
    features: FeatureConfig
    model: ModelConfig
    train: TrainConfig
    min_auc: Gate  # of the AUC
    brevitas: BrevitasMLP
    finn: ToolchainSettings  # read and validated by the FINN toolchain (toolchains/finn/settings.py)
    reference: ReferenceConfig

    @model_validator(mode="after")
    def _model_matches_features(self):
        window = self.features.frames * self.features.n_mels
        if self.model.inputs != window:
            raise ValueError(
                f"model.inputs={self.model.inputs} must equal features.frames x features.n_mels = "
                f"{self.features.frames} x {self.features.n_mels} = {window}"
            )
        return self

    @property
    def input_bytes(self) -> int:
        """The DUT's db buffer size: one window."""
        return self.window_bytes

    @property
    def window_bytes(self) -> int:
        """One `db` input: a window of float32 values (the DUT's input buffer size)."""
        return self.model.inputs * FLOAT_BYTES

    @property
    def stride_bytes(self) -> int:
        """Consecutive windows start one frame apart."""
        return self.features.n_mels * FLOAT_BYTES


def load(path: Path = TASK_YAML, overrides: dict | None = None) -> ADTask:
    return load_yaml(path, ADTask, overrides, "task configuration")
