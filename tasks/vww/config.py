"""Schema of tasks/vww/task.yaml, validated on load (pure pydantic: no TensorFlow imported)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from common.config import Strict, load_yaml
from frameworks.schema import BrevitasQuant, Gate, Pruning, Quant, RemoteFile, ToolchainSettings, TrainConfig

TASK_YAML = Path(__file__).with_name("task.yaml")
SIDE, CHANNELS = 96, 3  # vww01: 96 x 96 RGB
# MobileNetV1's depthwise-separable blocks at width 1 (pointwise filters, depthwise stride), after its
# 3x3/2 stem of 32 filters: the reference's vww_model.py at alpha 0.25 is this list times 0.25.
MOBILENET_V1_STEM = 32
MOBILENET_V1_BLOCKS: list[tuple[int, int]] = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
                                              (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]


class SyntheticConfig(Strict):
    """Rendered scenes (synthetic.py): train_per_class training and test_per_class test images per class."""

    train_per_class: int = Field(ge=10)
    test_per_class: int = Field(ge=1)
    clutter: tuple[int, int] = (4, 10)  # how many background objects a scene has (min, max)
    noise: float = Field(6.0, ge=0)  # pixel noise, standard deviation in 0..255 units
    jpeg_quality: int = Field(90, ge=50, le=100)  # the real archive's images are JPEG files
    seed: int

    @model_validator(mode="after")
    def _range(self):
        if not 0 <= self.clutter[0] <= self.clutter[1]:
            raise ValueError(f"clutter {list(self.clutter)}: give (min, max) with 0 <= min <= max")
        return self


class DataConfig(Strict):
    real_path: str
    synthetic: SyntheticConfig


class TestsetConfig(Strict):
    official: RemoteFile  # the vww01 y_labels.csv: which images the official 1000 test files are (real data only)


class MobileNetShape(Strict):
    """A MobileNetV1 at `width` (alpha) with its first `blocks` depthwise-separable blocks."""

    width: float = Field(gt=0, le=1)  # alpha: 0.25 is MLPerf Tiny's vww model
    blocks: int = Field(ge=1, le=len(MOBILENET_V1_BLOCKS))

    def channels(self) -> tuple[int, list[tuple[int, int]]]:
        """(stem filters, [(pointwise filters, depthwise stride)]) at this width."""
        scale = lambda c: max(1, int(round(c * self.width)))  # noqa: E731
        return scale(MOBILENET_V1_STEM), [(scale(c), s) for c, s in MOBILENET_V1_BLOCKS[:self.blocks]]

    def final_side(self) -> int:
        side = SIDE // 2  # the stem strides by 2 ('same' padding: ceil)
        for _, stride in MOBILENET_V1_BLOCKS[:self.blocks]:
            side = -(-side // stride)
        return side


class ModelConfig(MobileNetShape):
    """The QKeras MobileNet for hls4ml (model_qkeras.py): no BatchNorm, quantized ReLUs, logits out."""

    # max over the final map (exact in hls4ml; MobileNet's average over 3 x 3, any 3 * 2^k map at 96 x 96, divides by a
    # number that is not a power of two and truncates: not bit-exact), or flatten -> dense
    head: Literal["max", "flatten"]
    input_shift: int = Field(ge=0, le=8)  # the model sees pixel / 2**input_shift (8: 0..255/256, exact)
    weight_quant: Quant
    bias_quant: Quant
    relu_bits: int = Field(ge=2)
    relu_integer: int = Field(ge=0)
    pruning: Pruning = Pruning()  # quantization-aware magnitude pruning (tfmot); sparsity 0: off
    # epochs of training after the BatchNorms are folded into the convolutions (model_qkeras.py), at 1/20 of the rate
    finetune_epochs: int = Field(2, ge=0)


class Augment(Strict):
    flip: bool  # random horizontal flips (the reference trains with them)
    shift: float = Field(ge=0, lt=0.5)  # random translation, as a fraction of the side (the reference: 0.05)


class BrevitasMobileNet(MobileNetShape):
    """The FINN model (model_brevitas.py): the same MobileNet shape with BatchNorm, integer weights and
    activations of `quant`, trained with its own schedule and gated."""

    quant: BrevitasQuant
    train: TrainConfig
    min_top1: Gate

    @model_validator(mode="after")
    def _integers(self):
        if self.quant.weight_bits == 1 or self.quant.act_bits == 1:
            raise ValueError("the FINN MobileNet takes integer weights and activations (>= 2 bits): binary depthwise "
                             "3x3 filters leave nothing to learn")
        return self


class ReferenceConfig(RemoteFile):
    min_top1: float = Field(gt=0, le=1)  # on the real vww01 files only: synthetic figures are not COCO people
    hls4ml: ToolchainSettings  # read and validated by the hls4ml toolchain (toolchains/hls4ml/settings.py)
    int8: RemoteFile | None = None  # the official int8 model, FINN's reference (tasks/reference_int8.py)
    finn: ToolchainSettings | None = None  # read and validated by the FINN toolchain


class VWWTask(Strict):
    name: str
    model_id: str = Field(pattern=r"^[a-z]+\d\d$")
    classes: list[str] = Field(min_length=2, max_length=2)  # in the order of the labels: Keras sorts the folder names
    data: DataConfig
    testset: TestsetConfig
    model: ModelConfig
    augment: Augment
    train: TrainConfig
    min_top1: Gate  # of top-1, as a fraction (0..1)
    hls4ml: ToolchainSettings  # read and validated by the hls4ml toolchain (toolchains/hls4ml/settings.py)
    reference: ReferenceConfig
    brevitas: BrevitasMobileNet
    finn: ToolchainSettings  # read and validated by the FINN toolchain (toolchains/finn/settings.py)

    @model_validator(mode="after")
    def _checks(self):
        if sorted(self.classes) != self.classes:
            raise ValueError(f"classes {self.classes} must be in sorted order: label k is the k-th class folder "
                             f"in sorted order, as Keras' flow_from_directory numbers them (non_person 0, person 1)")
        want = f"ufixed<8,{8 - self.model.input_shift}>"
        if self.hls4ml.get("input") not in (None, want):
            raise ValueError(f"hls4ml.input {self.hls4ml.get('input')}: the model's input is pixel / 2^{self.model.input_shift}, "
                             f"exactly {want}")
        return self

    @property
    def input_bytes(self) -> int:
        return SIDE * SIDE * CHANNELS


def load(path: Path = TASK_YAML, overrides: dict | None = None) -> VWWTask:
    return load_yaml(path, VWWTask, overrides, "task configuration")
