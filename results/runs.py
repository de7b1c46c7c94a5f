"""A finished run as the results package reads it: its manifest's outputs, where in the build tree
its flow sits, and the manifests of the stages it came from. A run is a pipeline run stage folder
(build/<task>/<flow>/<board>/run), or the output folder of `python -m runner` (its manifest.json,
runner/run_manifest.py), whose flow is the one whose build stage has the key the DUT reported. A
manifest that cannot be read, or a command-line run that cannot be tied to a build stage, is a
BrokenRun with its reason, never a traceback."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from common.errors import HarnessError
from common.jsonio import read_json
from common.paths import build_root as default_build_root
from common.provenance import Provenance

BENCHMARKS = {"ad01": "ad", "ic01": "ic", "kws01": "kws", "vww01": "vww"}
SUMMARIES = ("performance", "accuracy", "energy")  # a mode's summary in the run manifest's outputs
RUNNER_CLI = "python -m runner"  # the made_by of a command-line run's manifest (runner/run_manifest.py)
BUILD_KEY = re.compile(r"^[0-9a-f]{64}$")
FOLDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # a task, flow or board: one folder of the repository


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
    for key, value in (outputs.get("flow") or {}).items():  # names of folders: task, flow, board, model
        if not isinstance(value, str) or not value or (key != "model" and not FOLDER_NAME.match(value)):
            raise BrokenRun(f"{file}: its flow's {key} {value!r:.60} is not a name (the pipeline records task, flow, board "
                            "and model as the words given to it)")
    try:
        Provenance.model_validate(outputs.get("provenance"))
    except ValidationError as e:
        raise BrokenRun(f"{file}: its provenance is not valid: {e.errors()[0]['msg']} at "
                        f"{'.'.join(map(str, e.errors()[0]['loc'])) or 'provenance'}") from None
    return m


def _build_stage(build_root: Path, key: str) -> tuple[Path, dict] | None:
    """The finished build stage under build_root whose key is `key` (what the firmware it built reports), with its manifest."""
    for file in sorted(Path(build_root).glob("*/*/*/build/manifest.json")):
        try:
            m = read_json(file)
        except (OSError, ValueError):
            continue
        if isinstance(m, dict) and m.get("stage") == "build" and m.get("status") == "done" and m.get("key") == key:
            return file.parent, m
    return None


@dataclass
class Run:
    path: Path
    manifest: dict
    task: str
    flow: str
    board: str
    model: str = "trained"  # or the MLPerf reference model (model=reference), or a QONNX file's path
    flow_root: Path | None = None  # where its convert and build stages are (None: beside the run stage, path.parent)

    @classmethod
    def load(cls, path: Path, build_root: Path | None = None) -> "Run":
        """The run at path; a command-line run's flow is looked for under build_root (default: the build root)."""
        path = Path(path).resolve()
        m = _manifest(path)
        if m.get("made_by") == RUNNER_CLI:
            return cls._command_line_run(path, m, Path(build_root) if build_root else default_build_root())
        board_dir = path.parent
        # the pipeline records what ran (task, flow, board, model); older runs are known by their folders only
        ran = m["outputs"].get("flow") or {}  # checked to be a mapping
        return cls(path, m, task=ran.get("task", board_dir.parent.parent.name), flow=ran.get("flow", board_dir.parent.name),
                   board=ran.get("board", board_dir.name), model=ran.get("model", "trained"))

    @classmethod
    def _command_line_run(cls, path: Path, m: dict, build_root: Path) -> "Run":
        """A run made with `python -m runner`: the flow is the one whose build stage made the firmware the DUT
        reported (its key), read from where the pipeline keeps it (build/<task>/<flow>[-<model>]/<board>[-<test folder>])."""
        outputs, file = m["outputs"], path / "manifest.json"
        key = outputs.get("build")
        if not (isinstance(key, str) and BUILD_KEY.match(key)):
            raise BrokenRun(f"{file}: the DUT reported no build key (m-build-[...] in its profile): this command-line run "
                            "cannot be tied to the build that made its firmware (a reference firmware, or one built outside "
                            "the pipeline); run firmware made by the build stage")
        found = _build_stage(build_root, key)
        if found is None:
            raise BrokenRun(f"{file}: the DUT reported build {key[:12]}, which no finished build stage under {build_root} "
                            "has (built on another machine, or rebuilt since): give the build root that built it (--build-root)")
        stage, build = found
        flow_root = stage.parent
        flow, _, model = flow_root.parent.name.partition("-")
        board = ((build.get("inputs") or {}).get("params") or {}).get("board")
        name = board.get("name") if isinstance(board, dict) else None
        run = cls(path, m, task=flow_root.parent.parent.name, flow=flow, board=name if isinstance(name, str) else flow_root.name,
                  model=model or "trained", flow_root=flow_root)
        if BENCHMARKS.get(outputs["model"]) != run.task:
            raise BrokenRun(f"{file}: the DUT ran model {outputs['model']}, but build {key[:12]} ({flow_root}) is of task "
                            f"{run.task}")
        return run

    @property
    def made_by_runner(self) -> bool:
        """Made with `python -m runner` rather than by the pipeline's run stage."""
        return self.manifest.get("made_by") == RUNNER_CLI

    @property
    def stages_root(self) -> Path:
        """The folder of the flow's per-board stages (convert, build; a pipeline run's own run stage)."""
        return self.flow_root or self.path.parent

    @property
    def task_root(self) -> Path:
        """build/<task>: the data stage and the flows' train stages."""
        return self.stages_root.parent.parent

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
        """Where the pipeline keeps a stage of this run (pipeline/layout.py): train per task and flow, the others in the
        flow's board folder; the run's own manifest is in its folder."""
        if stage == "run":
            return self.path / "manifest.json"
        if stage == "train":
            return self.task_root / self.flow / ("train" if self.model == "trained" else self.model_name) / "manifest.json"
        return self.stages_root / stage / "manifest.json"

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
    """Every run stage under build/<task>/<flow>/<board>/run and every `python -m runner` run in its default
    place, build/runs/<date_time> (with a manifest.json: an interrupted one has none): the readable ones, and
    the others with why."""
    runs, broken = [], []
    root = Path(build_root)
    stages = sorted(p for p in root.glob("*/*/*/run") if p.is_dir())
    command_line = sorted(p.parent for p in root.glob("runs/*/manifest.json"))
    for folder in stages + command_line:
        try:
            runs.append(Run.load(folder, root))
        except HarnessError as e:
            broken.append((folder, str(e)))
    return Found(runs, broken)


def find(build_root: Path) -> list[Run]:
    """Every readable finished run stage (scan() also says which could not be read, and why)."""
    return scan(build_root).runs
