"""One trial: the pipeline itself on one design (a Flow with the trial's task.yaml overrides, run by
run_stages into the key-addressed store, sweep/store.py), and its record: parameters, status, the
stage keys, what was measured and what each number is.

It runs on a Ray worker (sweep/engine.py) or in the calling process, and never raises for what a
design does: a design that does not fit the board (FitError, with the toolchain's estimates) is
recorded as `no-fit` (so is one whose stages finished over the board's budget, where a toolchain's
fit gate only warns), one a gate stops (training below the task's threshold, an emulation that
disagrees) as `gate`, anything else as `failed` with its error; the sweep goes on.

A trial with vendor steps runs in two phases, so that a cluster's CPU nodes train and convert and
only nodes with the vendor tools build: `cpu` (data to convert) anywhere, then `vendor` (build to the
last stage) where the `vivado` resource is. Without vendor steps the one phase `all` runs with the
vendor tools hidden from PATH: a trial that did not ask for hours of synthesis never starts it,
even on a node that has the tools."""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.errors import FitError, GateError, HarnessError
from pipeline.artifacts import StageError
from pipeline.execute import run_stages
from pipeline.layout import STAGES
from sweep.store import StoreFlow

log = logging.getLogger("sweep")
STATUSES = ("done", "no-fit", "gate", "failed")


@dataclass(frozen=True)
class TrialSpec:
    """What a worker needs to run a trial (plain data: it crosses to other processes and nodes)."""

    number: int
    params: dict[str, Any]
    overrides: dict[str, Any]  # the space's fixed values and the trial's parameters
    flow: dict[str, Any]  # Flow's other arguments: task, board, flow, data (and the run stage's options)
    stop: str
    store: str
    logs: str
    objectives: tuple[str, ...] = ()
    vendor: bool = False
    cpus: float = 1.0

    def phases(self) -> list[str]:
        return ["cpu", "vendor"] if self.vendor else ["all"]


def last_stage(spec: TrialSpec, phase: str) -> str:
    if phase == "cpu":
        return STAGES[min(STAGES.index(spec.stop), STAGES.index("convert"))]
    return spec.stop


def where() -> dict[str, str]:
    """The Ray node (and host) this runs on; outside Ray, the host alone."""
    ray = sys.modules.get("ray")  # a Ray worker has it imported; importing it here would fix its network settings early
    node = ray.get_runtime_context().get_node_id() if ray is not None and ray.is_initialized() else "local"
    return {"node": node, "host": socket.gethostname()}


@contextmanager
def captured(path: Path) -> Iterator[None]:
    """Everything the trial prints (the stages' logs, progress bars, compilers run as subprocesses)
    into its log file, at the file-descriptor level; restored afterwards."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    root = logging.getLogger()
    with open(path, "a", buffering=1) as fh:  # line-buffered: in order with what subprocesses write to the descriptors
        handler = logging.StreamHandler(fh)  # the file itself: sys.stderr may be a test runner's capture, not descriptor 2
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        root.addHandler(handler)
        level = root.level
        root.setLevel(logging.INFO)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            root.removeHandler(handler)
            root.setLevel(level)
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


@contextmanager
def vendor_tools_hidden(tools: set[str]) -> Iterator[None]:
    """PATH without the folders of these tools (where a folder also holds the C compiler, the tool
    cannot be hidden that way: said in the log)."""
    old = os.environ.get("PATH", "")
    keep = []
    for folder in old.split(os.pathsep):
        holds = [t for t in tools if os.access(os.path.join(folder, t), os.X_OK)]
        if holds and not os.access(os.path.join(folder, "cc"), os.X_OK):
            log.info("vendor steps not asked: %s hidden from PATH for this trial", folder)
            continue
        if holds:
            log.warning("vendor steps not asked, but %s sits beside the C compiler in %s: it stays on PATH", holds, folder)
        keep.append(folder)
    os.environ["PATH"] = os.pathsep.join(keep)
    try:
        yield
    finally:
        os.environ["PATH"] = old


def run_trial(spec: TrialSpec, phase: str = "all") -> dict[str, Any]:
    """Run one phase of a trial; returns its record (never raises for what the design does)."""
    start = time.time()
    stop = last_stage(spec, phase)
    status, error, failed_stage, estimates = "done", None, None, None
    flow: StoreFlow | None = None
    with captured(Path(spec.logs) / f"trial-{spec.number:04d}.log"):
        log.info("trial %d, phase %s, to %s: %s", spec.number, phase, stop, spec.params)
        try:
            flow = StoreFlow(**spec.flow, overrides=spec.overrides, store=Path(spec.store), vendor=spec.vendor,
                             build_root=Path(spec.store).parent)  # nothing of a trial outside the store
            steps = [tool for tool, _ in flow.toolchain.vendor_steps(flow.board_cfg)]
            hide = phase == "all" and STAGES.index(stop) >= STAGES.index("build")
            with vendor_tools_hidden(set(steps)) if hide else _nothing():
                run_stages(flow, stop=stop)
        except FitError as e:
            status, error, estimates = "no-fit", str(e), e.estimates
        except GateError as e:
            status, error = "gate", str(e)
        except HarnessError as e:
            status, error = "failed", str(e)
        except Exception as e:  # a library's own exception: recorded, the sweep goes on
            status, error = "failed", f"{type(e).__name__}: {e}"
            traceback.print_exc()
        if flow is not None and status != "done":
            failed_stage = _first_unfinished(flow, stop)
        metrics, labels, fits, keys = measure(flow, spec, estimates) if flow is not None else ({}, {}, None, {})
        if status == "done" and fits is False:  # finished, over the board's budget (a fit gate that only warns)
            status, error = "no-fit", labels.get("over_budget") or "over the board's resources by the estimates"
        if error:
            log.error("trial %d: %s%s: %s", spec.number, status, f" in {failed_stage}" if failed_stage else "", error)
    return {"trial": spec.number, "params": spec.params, "overrides": spec.overrides, "status": status, "error": error,
            "failed_stage": failed_stage, "metrics": metrics, "labels": labels, "fits": fits, "keys": keys,
            "phases": {phase: {**where(), "seconds": round(time.time() - start, 2)}},
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def done_manifest(flow: StoreFlow, name: str) -> dict | None:
    """The stage's manifest when it is done at its current key, else None (its upstream not done included)."""
    if name not in flow.stages:
        return None
    try:
        stage = flow.stage_dir(name)
        return stage.manifest() if stage.is_current(flow.stage_key(name)) else None
    except StageError:
        return None


def _first_unfinished(flow: StoreFlow, stop: str) -> str | None:
    for name in STAGES[:STAGES.index(stop) + 1]:
        if name in flow.stages and done_manifest(flow, name) is None:
            return name
    return None


def measure(flow: StoreFlow, spec: TrialSpec, fit_estimates: dict | None) -> tuple[dict, dict, bool | None, dict]:
    """(metrics, what each is, whether the design fits the board (None: not estimated), stage keys)
    from the manifests of the stages that finished."""
    metrics: dict[str, Any] = {}
    labels: dict[str, str] = {}
    keys = {name: flow.stage_key(name) for name in STAGES if done_manifest(flow, name) is not None}
    data = done_manifest(flow, "data")
    train = done_manifest(flow, "train")
    convert = done_manifest(flow, "convert")
    if data:
        labels["data"] = data["outputs"]["data_kind"]
    if train:
        out = train["outputs"]
        metrics.update(accuracy=out["host_value"], metric=out["metric"])
        labels["data"] = out.get("data_kind", labels.get("data", "not stated"))
        labels["accuracy"] = f"host: {out['host_what']}"
        if "weight_kbit" in spec.objectives and flow.toolchain.framework == "qkeras":
            from sweep.model_size import weight_kbit

            metrics["weight_kbit"] = round(weight_kbit(flow.recipe.load_model(flow.artifacts("train"))), 3)
            labels["weight_kbit"] = "modeled: nonzero quantized weights and biases x their bits (kbit)"
    est = (convert or {}).get("outputs", {}).get("estimates") or fit_estimates
    if convert:
        out = convert["outputs"]
        metrics.update(exact_fraction=out["exact_fraction"], argmax_agreement=out.get("argmax_agreement"))
    fits = None
    if est:
        metrics.update(latency_us=est["modeled_latency_us"], **{k: est[k] for k in ("lut", "ff", "bram18", "dsp") if k in est})
        labels["latency_us"] = labels["resources"] = f"modeled: {est['what']}"
        r = flow.board_cfg.resources
        budget = {"lut": r.lut, "ff": r.ff, "bram18": 2 * r.bram36, "dsp": r.dsp}
        metrics["utilisation"] = round(max(est[k] / v for k, v in budget.items() if k in est), 4)  # the fullest, of 1
        # the toolchain's own verdict where it gives one (hls4ml's fit gate: warn goes on with a design over budget)
        fits = est["fits"] if isinstance(est.get("fits"), bool) else metrics["utilisation"] <= 1.0
        if not fits and est.get("over_budget"):
            labels["over_budget"] = est["over_budget"]
    elif convert and "latency_us" in spec.objectives:
        modeled = flow.toolchain.latency(flow.recipe, flow.model, flow.artifacts("train"), convert["outputs"], flow.board_cfg)
        if modeled:
            metrics["latency_us"] = modeled["modeled_latency_us"]
            labels["latency_us"] = f"modeled: {modeled['what']}"
    run = done_manifest(flow, "run")
    if run and run["outputs"].get("accuracy"):
        acc = run["outputs"]["accuracy"]
        metrics["dut_accuracy"] = acc.get("auc" if metrics.get("metric") == "AUC" else "top1")
        labels["dut_accuracy"] = f"{run['outputs']['provenance'].get('where', 'emulated')}: the runner's accuracy mode on the DUT"
    return metrics, labels, fits, keys
