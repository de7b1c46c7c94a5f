"""A finished pipeline run (a run stage folder, build/<task>/<flow>/<board>/run) as the results
package reads it: its manifest's outputs, where in the build tree it sits, and the manifests of the
stages it came from. A manifest that cannot be read is a BrokenRun with its reason, never a traceback."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from common.errors import HarnessError
from common.jsonio import read_json
from common.provenance import Provenance

BENCHMARKS = {"ad01": "ad", "ic01": "ic", "kws01": "kws", "vww01": "vww"}
SUMMARIES = ("performance", "accuracy", "energy")  # a mode's summary in the run manifest's outputs


class BrokenRun(HarnessError):
    """A run folder whose manifest is missing, unreadable or not a finished run stage's."""


def _manifest(path: Path) -> dict:
    """The run stage's manifest, checked for what every reader of a run relies on."""
    file = path / "manifest.json"
    if not file.is_file():
        raise BrokenRun(f"{path} is not a finished run stage (no manifest.json): give build/<task>/<flow>/<board>/run")
    try:
        m = read_json(file)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BrokenRun(f"{file} is not valid JSON ({e}): the run stage did not finish writing it, or it was edited") from None
    if not isinstance(m, dict) or m.get("stage") != "run" or m.get("status") != "done":
        raise BrokenRun(f"{file} is not a finished run stage (stage 'run', status 'done')")
    outputs = m.get("outputs")
    if not isinstance(outputs, dict) or not isinstance(outputs.get("model"), str):
        raise BrokenRun(f"{file}: its outputs do not name the model the DUT reported ('model')")
    for key in ("flow", *SUMMARIES):
        if not isinstance(outputs.get(key) or {}, dict):
            raise BrokenRun(f"{file}: its '{key}' output is not a mapping")
    try:
        Provenance.model_validate(outputs.get("provenance"))
    except ValidationError as e:
        raise BrokenRun(f"{file}: its provenance is not valid: {e.errors()[0]['msg']} at "
                        f"{'.'.join(map(str, e.errors()[0]['loc'])) or 'provenance'}") from None
    return m


@dataclass
class Run:
    path: Path
    manifest: dict
    task: str
    flow: str
    board: str
    model: str = "trained"  # or the MLPerf reference model (model=reference), or a QONNX file's path

    @classmethod
    def load(cls, path: Path) -> "Run":
        path = Path(path).resolve()
        m = _manifest(path)
        board_dir = path.parent
        # the pipeline records what ran (task, flow, board, model); older runs are known by their folders only
        ran = m["outputs"].get("flow") or {}  # checked to be a mapping
        return cls(path, m, task=ran.get("task", board_dir.parent.parent.name), flow=ran.get("flow", board_dir.parent.name),
                   board=ran.get("board", board_dir.name), model=ran.get("model", "trained"))

    @property
    def summary(self) -> dict:
        return self.manifest["outputs"]

    @property
    def params(self) -> dict:
        """The run stage's parameters (DUT, timing, modes, test folder), as its manifest keyed them."""
        return (self.manifest.get("inputs") or {}).get("params") or {}

    @property
    def model_name(self) -> str:
        """trained, reference, or the stem of a model file brought from elsewhere (pipeline/layout.py)."""
        return Path(self.model).stem if self.model.endswith(".onnx") else self.model

    def stage_manifest_path(self, stage: str) -> Path:
        """Where the pipeline keeps a stage of this run (pipeline/layout.py): train per task and flow, the others beside run."""
        if stage == "train":
            return self.path.parents[2] / self.flow / ("train" if self.model == "trained" else self.model_name) / "manifest.json"
        return self.path.parent / stage / "manifest.json"

    def stage_manifest_files(self, stages: tuple[str, ...]) -> dict[str, Path]:
        return {s: self.stage_manifest_path(s) for s in stages if self.stage_manifest_path(s).is_file()}

    def stage_manifest(self, stage: str) -> dict | None:
        """A finished upstream stage's manifest, or None when it is not there or not readable."""
        try:
            m = read_json(self.stage_manifest_path(stage))
        except (OSError, ValueError):
            return None
        return m if isinstance(m, dict) and m.get("status") == "done" else None

    @property
    def estimates(self) -> dict | None:
        """The toolchain's modeled figures for this run's model (FINN: critical path, LUT/BRAM/DSP),
        from the convert stage beside the run, when it made any."""
        convert = self.stage_manifest("convert")
        return (convert or {}).get("outputs", {}).get("estimates")

    @property
    def provenance(self) -> Provenance:
        return Provenance.model_validate(self.summary["provenance"])

    @property
    def benchmark(self) -> str:
        try:
            return BENCHMARKS[self.summary["model"]]
        except KeyError:
            raise HarnessError(f"{self.path}: model {self.summary.get('model')} is not an MLPerf Tiny benchmark") from None

    @property
    def system_id(self) -> str:
        """The board and what ran on it: the toolchain, and the model where it is not the one the recipe trains."""
        return f"{self.board}-{self.flow}" + ("" if self.model == "trained" else f"-{self.model_name}")


@dataclass
class Found:
    runs: list[Run]
    broken: list[tuple[Path, str]]  # run folders that could not be read, with the reason


def scan(build_root: Path) -> Found:
    """Every run stage under build/<task>/<flow>/<board>/run: the readable ones, and the others with why."""
    runs, broken = [], []
    for folder in sorted(p for p in Path(build_root).glob("*/*/*/run") if p.is_dir()):
        try:
            runs.append(Run.load(folder))
        except HarnessError as e:
            broken.append((folder, str(e)))
    return Found(runs, broken)


def find(build_root: Path) -> list[Run]:
    """Every readable finished run stage (scan() also says which could not be read, and why)."""
    return scan(build_root).runs
