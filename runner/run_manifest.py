"""The run record a command-line run leaves in its output folder: <out>/manifest.json, in the shape of
the pipeline's run stage manifest (stage "run", status "done", inputs, outputs), so that
`python -m results export --run <out>` reads a run made with `python -m runner` as it reads a pipeline run.

It holds what the runner knows, never a guess: what the DUT said it is (name, model, the build key
and platform our firmware reports in its `profile`; runner/dut.py Identity), the provenance recorded
with the numbers, each mode's summary, the test folder with its files' sizes and times (so a later
edit of a test file is seen), and the command that made each mode. Which flow and board made the run
is not the runner's to say: the results package finds the build stage whose key the DUT reported.

Modes may come from separate runs into one folder (energy mode is wired through the interface board
on another port): a run keeps the modes an earlier one recorded when the DUT is the same one (same
model, build, platform and provenance), and drops them, saying so, when it is not. A mode is taken out
of the record before it is run again, so the record never names a mode folder being rewritten."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from common.jsonio import read_json, write_json

MANIFEST = "manifest.json"
MADE_BY = "python -m runner"
MODES = ("performance", "accuracy", "energy")
# what must be equal for modes of two runs to be one run's: the DUT and what its numbers are
SAME_DUT = ("model", "name", "build", "platform", "dut_timing")
SAME_PROVENANCE = ("link", "timing", "data")


def _earlier(out: Path) -> dict | None:
    """The record an earlier command-line run left in out, or None (none, unreadable, or a pipeline stage's)."""
    try:
        m = read_json(out / MANIFEST)
    except (OSError, ValueError):
        return None
    return m if isinstance(m, dict) and m.get("made_by") == MADE_BY and isinstance(m.get("outputs"), dict) else None


def _modes(m: dict) -> list[str]:
    artifacts = m["outputs"].get("artifacts")
    return [mode for mode in MODES if isinstance(artifacts, dict) and mode in artifacts]


def forget(out: Path, modes: list[str]) -> None:
    """Take these modes out of an earlier record before they run again (a failure halfway then leaves
    no record naming a half-rewritten folder); the record goes when no mode is left."""
    earlier = _earlier(out)
    if earlier is None:
        return
    left = [mode for mode in _modes(earlier) if mode not in modes]
    if left == _modes(earlier):
        return
    if not left:
        (out / MANIFEST).unlink()
        return
    write_json(out / MANIFEST, _record(_without(earlier, modes), _params(earlier), left))


def _without(m: dict, modes: list[str]) -> dict:
    outputs = {k: v for k, v in m["outputs"].items() if k not in modes}
    outputs["artifacts"] = {k: v for k, v in (outputs.get("artifacts") or {}).items() if k not in modes}
    return outputs


def _params(m: dict) -> dict:
    return dict((m.get("inputs") or {}).get("params") or {})


def same_dut(a: dict, b: dict) -> bool:
    """Two summaries (or manifest outputs) made on the same DUT, with numbers of the same kind."""
    pa, pb = a.get("provenance") or {}, b.get("provenance") or {}
    return all(a.get(k) == b.get(k) for k in SAME_DUT) and all(pa.get(k) == pb.get(k) for k in SAME_PROVENANCE)


def dataset_params(dataset: Path, model_id: str, labels: str) -> dict:
    """What the run read of the test folder: its path, the list that ran, and every file's size and
    time (the pipeline's testset parameters, pipeline/flow.py), so a file changed after the run is seen."""
    folder = (Path(dataset) / model_id).resolve()
    return {"testset": str(folder), "labels": labels,
            "content": sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file())}


def _record(outputs: dict, params: dict, modes: list[str]) -> dict:
    build = outputs.get("build")
    inputs = {"params": {**params, "modes": modes}, "upstream": {"build": build} if build else {}}
    return {"stage": "run", "status": "done", "made_by": MADE_BY,
            "key": hashlib.sha256(json.dumps([inputs, outputs], sort_keys=True, default=str).encode()).hexdigest(),
            "inputs": inputs, "outputs": outputs, "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}


def write(out: Path, summary: dict, params: dict, commands: dict[str, str]) -> list[str]:
    """Record this run's modes in out/manifest.json with those an earlier run on the same DUT left;
    returns the earlier modes dropped because another DUT (or other kinds of numbers) made them.
    summary: runner.cli.run's (merged over its connections); params: what the run read and how
    (dataset_params(), iterations, window length); commands: the command line of each mode."""
    done = [mode for mode in MODES if mode in summary]
    outputs = {**summary, "artifacts": {mode: mode for mode in done}}
    params = {**params, "commands": {mode: command for mode, command in commands.items() if mode in done}}
    dropped: list[str] = []
    earlier = _earlier(out)
    if earlier is not None:
        kept = [mode for mode in _modes(earlier) if mode not in done]
        if same_dut(earlier["outputs"], summary):
            old = _params(earlier)
            for mode in kept:
                outputs[mode] = earlier["outputs"][mode]
                outputs["artifacts"][mode] = mode
                params["commands"].setdefault(mode, (old.get("commands") or {}).get(mode))
            if "accuracy" not in done and "testset" in old:  # the test folder of record is the accuracy run's
                params.update({k: old[k] for k in ("testset", "labels", "content") if k in old})
            done = [mode for mode in MODES if mode in outputs["artifacts"]]
        else:
            dropped = kept
    write_json(out / MANIFEST, _record(outputs, params, done))
    return dropped
