"""Schema of tasks/ad/task.yaml, validated on load."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tasks.ad.features import FeatureConfig
from tasks.ad.model_qkeras import ModelConfig

TASK_YAML = Path(__file__).with_name("task.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SyntheticConfig(_Strict):
    machine_ids: list[int] = Field(min_length=1)
    train_per_id: int = Field(ge=1)
    test_normal_per_id: int = Field(ge=1)
    test_anomaly_per_id: int = Field(ge=1)
    seconds: float = Field(ge=8.0)  # the front end keeps frames 50..249: about 8 s at 16 kHz
    seed: int


class DataConfig(_Strict):
    real_path: str
    synthetic: SyntheticConfig


class TrainConfig(_Strict):
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    learning_rate: float = Field(gt=0)
    seed: int = 0


class ADTask(_Strict):
    name: str
    model_id: str
    data: DataConfig
    features: FeatureConfig
    model: ModelConfig
    train: TrainConfig
    min_auc: dict[str, float]


def load(path: Path = TASK_YAML, overrides: dict | None = None) -> ADTask:
    raw = yaml.safe_load(path.read_text())
    for dotted, value in (overrides or {}).items():
        node = raw
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    try:
        return ADTask.model_validate(raw)
    except ValidationError as e:
        raise SystemExit(f"{path}: invalid task configuration:\n{e}") from None
