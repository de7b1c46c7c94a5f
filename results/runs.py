"""A finished pipeline run (a run stage folder, build/<task>/<flow>/<board>/run) as the results
package reads it: its manifest's outputs and where in the build tree it sits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from common.errors import HarnessError
from common.jsonio import read_json
from common.provenance import Provenance

BENCHMARKS = {"ad01": "ad", "ic01": "ic", "kws01": "kws", "vww01": "vww"}


@dataclass
class Run:
    path: Path
    summary: dict
    task: str
    flow: str
    board: str
    model: str = "trained"  # or the MLPerf reference model (model=reference)

    @classmethod
    def load(cls, path: Path) -> "Run":
        path = Path(path).resolve()
        manifest = path / "manifest.json"
        if not manifest.is_file():
            raise HarnessError(f"{path} is not a finished run stage (no manifest.json): give build/<task>/<flow>/<board>/run")
        m = read_json(manifest)
        if m.get("stage") != "run" or m.get("status") != "done":
            raise HarnessError(f"{manifest} is not a finished run stage")
        board_dir = path.parent
        # the pipeline records what ran (task, flow, board, model); older runs are known by their folders only
        ran = m["outputs"].get("flow", {})
        return cls(path, m["outputs"], task=ran.get("task", board_dir.parent.parent.name),
                   flow=ran.get("flow", board_dir.parent.name), board=ran.get("board", board_dir.name),
                   model=ran.get("model", "trained"))

    @property
    def estimates(self) -> dict | None:
        """The toolchain's modeled figures for this run's model (FINN: critical path, LUT/BRAM/DSP),
        from the convert stage beside the run, when it made any."""
        convert = self.path.parent / "convert" / "manifest.json"
        return read_json(convert).get("outputs", {}).get("estimates") if convert.is_file() else None

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
        return f"{self.board}-{self.flow}"


def find(build_root: Path) -> list[Run]:
    """Every finished run stage under build/<task>/<flow>/<board>/run (unfinished ones are skipped)."""
    runs = []
    for manifest in sorted(Path(build_root).glob("*/*/*/run/manifest.json")):
        try:
            runs.append(Run.load(manifest.parent))
        except HarnessError:
            continue
    return runs
