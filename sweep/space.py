"""A sweep's design space (tasks/<task>/sweep.yaml), validated on load: the task.yaml values a trial
varies (dotted keys, exactly as `--set` takes them), per flow, and how they are searched.

    task: kws
    fixed: {train.epochs: 30}               # task.yaml overrides every trial of every flow takes
    search: {method: grid | random | model, trials: 12, seed: 0}
    stop: convert                           # the last stage of a trial: train | convert | build | run | report
    vendor: false                           # build with the vendor tools, on nodes with the `vivado` resource
    flows:
      finn:
        objectives: [accuracy, latency_us, lut]
        fixed: {...}                        # overrides this flow's trials take
        parameters:
          brevitas.quant.weight_bits: {values: [2, 3, 4]}
          finn.target_fps: {low: 20000, high: 400000, log: true, integer: true}

A value list is searched by every method; a range (low/high) only by random and model. Every value
(a range: its bounds) is checked against the task's own schema before any trial runs, and each
parameter must change what some stage of the flow is keyed by: a key the flow never reads would
make trials that differ only in name."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from common.config import Strict, load_yaml
from common.errors import ConfigError, HarnessError
from pipeline.layout import STAGES

# What a trial can be judged by, and which way is better (sweep/trial.py measures them; every one is
# a host figure of the trained model or a modeled board figure: see OBJECTIVE_WHAT).
OBJECTIVES: dict[str, Literal["max", "min"]] = {
    "accuracy": "max", "latency_us": "min", "lut": "min", "ff": "min", "bram18": "min", "dsp": "min", "weight_kbit": "min"}
OBJECTIVE_WHAT = {
    "accuracy": "the task's metric of the trained model on the test files (host)",
    "latency_us": "modeled latency per inference on the board (the toolchain's latency model + call overhead)",
    "lut": "LUT, the toolchain's estimate (modeled, not synthesised)",
    "ff": "FF, the toolchain's estimate (modeled, not synthesised)",
    "bram18": "BRAM18, the toolchain's estimate (modeled, not synthesised)",
    "dsp": "DSP, the toolchain's estimate (modeled, not synthesised)",
    "weight_kbit": "nonzero quantized weights and biases x their bits, in kbit (modeled model size)",
}
LAST_STAGES = STAGES[1:]  # a trial runs from data to one of these


class Parameter(Strict):
    """One task.yaml value a trial varies: a list of values, or a numeric range."""

    values: list[Any] | None = Field(None, min_length=1)
    low: float | None = None
    high: float | None = None
    log: bool = False  # a range sampled on a log scale
    integer: bool = False  # a range of whole numbers

    @model_validator(mode="after")
    def _one_kind(self):
        ranged = self.low is not None or self.high is not None
        if (self.values is None) == (not ranged):
            raise ValueError("give either values: [...] or a range low:/high:")
        if ranged:
            if self.low is None or self.high is None or not self.low < self.high:
                raise ValueError(f"a range needs low < high, got low={self.low} high={self.high}")
            if self.log and self.low <= 0:
                raise ValueError(f"a log range needs low > 0, got {self.low}")
        elif self.log or self.integer:
            raise ValueError("log/integer describe a range (low/high), not a list of values")
        elif len({canonical(v) for v in self.values or []}) != len(self.values or []):
            raise ValueError(f"values repeat: {self.values}")
        return self

    @property
    def is_range(self) -> bool:
        return self.values is None

    def bounds(self) -> list[Any]:
        """The values checked on load: every listed value, or a range's two ends."""
        if self.values is not None:
            return list(self.values)
        assert self.low is not None and self.high is not None
        return [round(self.low), round(self.high)] if self.integer else [self.low, self.high]


class FlowSpace(Strict):
    objectives: list[str] = Field(min_length=2)
    fixed: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, Parameter] = Field(min_length=1)

    @model_validator(mode="after")
    def _known_objectives(self):
        unknown = [o for o in self.objectives if o not in OBJECTIVES]
        if unknown:
            raise ValueError(f"unknown objective(s) {unknown}: choose from {', '.join(OBJECTIVES)}")
        if len(set(self.objectives)) != len(self.objectives):
            raise ValueError(f"objectives repeat: {self.objectives}")
        both = sorted(set(self.fixed) & set(self.parameters))
        if both:
            raise ValueError(f"{both} both fixed and varied")
        return self


class SearchSettings(Strict):
    method: Literal["grid", "random", "model"] = "grid"
    trials: int | None = Field(None, ge=1)  # None: the whole grid (grid), else required
    seed: int = 0
    startup: int = Field(4, ge=1)  # model: random trials before the model proposes


class RunSettings(Strict):
    """How the run stage runs when a trial goes that far (stop: run or report): as `make` takes it."""

    dut: Literal["emulated", "qemu"] = "emulated"
    timing: Literal["host", "modeled"] = "modeled"
    modes: list[Literal["performance", "accuracy", "energy"]] = ["performance", "accuracy"]  # pydantic copies defaults
    iterations: int | None = Field(None, ge=1)


class SweepSpace(Strict):
    task: str
    fixed: dict[str, Any] = Field(default_factory=dict)
    search: SearchSettings = Field(default_factory=lambda: SearchSettings.model_validate({}))
    stop: Literal["train", "convert", "build", "run", "report"] = "convert"
    vendor: bool = False
    cpus_per_trial: float = Field(1.0, gt=0)
    run: RunSettings = Field(default_factory=lambda: RunSettings.model_validate({}))
    flows: dict[str, FlowSpace] = Field(min_length=1)

    @model_validator(mode="after")
    def _vendor_needs_build(self):
        if self.vendor and STAGES.index(self.stop) < STAGES.index("build"):
            raise ValueError(f"vendor: true runs in the build stage: stop must be build or later, not {self.stop}")
        return self


def canonical(value: Any) -> str:
    """A value as one compact token: the journal's and the digest's form, and what `--set` reads back."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class Space:
    """A sweep space for one task, flow and board, checked against the task and the flow."""

    def __init__(self, path: Path, task: str, flow: str, board: str, data: str = "auto"):
        self.path = Path(path)
        self.spec = load_yaml(self.path, SweepSpace, what="sweep space")
        if self.spec.task != task:
            raise ConfigError(f"{self.path}: a sweep space for task {self.spec.task}, not task={task}")
        if flow not in self.spec.flows:
            raise ConfigError(f"{self.path}: no flows.{flow} section (it has {', '.join(self.spec.flows)})")
        self.task, self.flow, self.board, self.data = task, flow, board, data
        self.flow_space = self.spec.flows[flow]
        self.parameters = self.flow_space.parameters
        self.objectives = self.flow_space.objectives
        self.fixed = {**self.spec.fixed, **self.flow_space.fixed}
        self.resolved_data = data  # data=auto decided here, once: see _check
        self._check()

    @property
    def stop(self) -> str:
        return self.spec.stop

    def overrides(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self.fixed, **params}

    def flow_kwargs(self) -> dict[str, Any]:
        """What every trial's Flow takes besides its overrides."""
        kw: dict[str, Any] = {"task": self.task, "board": self.board, "flow": self.flow, "data": self.resolved_data}
        if STAGES.index(self.stop) >= STAGES.index("run"):
            kw.update(self.spec.run.model_dump())
        return kw

    def grid(self) -> list[dict[str, Any]]:
        ranged = [k for k, p in self.parameters.items() if p.is_range]
        if ranged:
            raise ConfigError(f"{self.path}: a grid needs lists of values, and {', '.join(ranged)} is a range "
                              f"(search.method random or model samples ranges)")
        keys = list(self.parameters)
        return [dict(zip(keys, combo)) for combo in itertools.product(*(self.parameters[k].values or [] for k in keys))]

    def digest_inputs(self) -> dict:
        """What the journal's header records: a resumed sweep must be the same sweep."""
        return {"task": self.task, "flow": self.flow, "board": self.board, "data": self.data, "data_used": self.resolved_data,
                "space": json.loads(self.spec.model_dump_json())}

    # ---- checks before any trial runs ------------------------------------------------------------
    def _flow(self, overrides: dict[str, Any]):
        from pipeline.flow import Flow

        return Flow(**self.flow_kwargs(), overrides=overrides)

    def _stage_params(self, flow) -> dict[str, Any]:
        from pipeline.stages import STAGE_DEFS

        last = STAGES.index(self.stop)
        return {name: STAGE_DEFS[name].params(flow) for name in STAGES[:last + 1] if name in flow.stages}

    def _check(self) -> None:
        try:
            flow = self._flow(self.fixed)
        except HarnessError as e:
            raise ConfigError(f"{self.path}: the fixed values do not make a valid flow={self.flow}: {e}") from None
        # data=auto is decided once, here, and every trial takes the decision: a cluster node without the
        # real dataset then fails its trials (DatasetError) rather than quietly training on synthetic data
        if flow.data_kind is not None:
            self.resolved_data = "synthetic" if flow.data_kind == "synthetic" else str(flow.data_path)
        base = self._stage_params(flow)
        for key, param in self.parameters.items():
            seen = []
            for value in param.bounds():
                try:
                    seen.append(self._stage_params(self._flow(self.overrides({key: value}))))
                except HarnessError as e:
                    raise ConfigError(f"{self.path}: flows.{self.flow}.parameters.{key} = {canonical(value)}: {e}") from None
            if all(s == base for s in seen) and len(seen) > 0:
                raise ConfigError(f"{self.path}: flows.{self.flow}.parameters.{key} changes no stage of flow={self.flow} "
                                  f"up to {self.stop} (no stage reads it, or its values are all task.yaml's own): every "
                                  f"trial would be the same design")
