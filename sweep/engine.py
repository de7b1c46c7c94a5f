"""Running a sweep's trials on Ray: embedded on this machine by default (ray.init starts a local
instance with the machine's cores, every process on 127.0.0.1; nothing to start beforehand), or on a
Ray cluster when an address is given (cluster=ADDRESS, else $RAY_ADDRESS; `auto` finds one started
on this machine).

Each trial phase is a Ray task asking for `cpus_per_trial` CPUs; a vendor phase also asks for one
unit of the custom resource `vivado`, which only nodes started with it offer
(`ray start ... --resources '{"vivado": 1}'`), so a cluster can mix CPU nodes and Vivado nodes.
At most `workers` trials run at once (default: as many as the cluster's CPUs hold). The driver
journals each trial as it finishes (sweep/journal.py), tells the search, prints the progress, and
a trial whose worker was lost (a node gone, a process killed) is recorded as failed with why."""

from __future__ import annotations

import logging
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.errors import ConfigError
from sweep.journal import Journal
from sweep.progress import Progress
from sweep.search import make_search
from sweep.space import Space
from sweep.trial import TrialSpec, run_trial

log = logging.getLogger("sweep")
VENDOR_RESOURCE = "vivado"
LOOPBACK_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # "0": Ray's processes take 127.0.0.1 (see loopback_only)


@dataclass
class SweepRun:
    """What one invocation did: every record of the sweep (in trial order) and the trials it ran."""

    folder: Path
    records: list[dict[str, Any]]
    ran: list[int] = field(default_factory=list)
    total: int = 0
    address: str = "embedded"


def loopback_only() -> None:
    """Every Ray process of this machine on 127.0.0.1: Ray otherwise gives its processes (and its
    driver looks for) the machine's network address. Ray reads this switch (named for the platforms
    it was made for: there it is the default) when it is imported, so it is set before that."""
    if "ray" in sys.modules:
        log.warning("sweep: Ray was imported before the sweep could keep it on the loopback: it uses this "
                    "machine's network address")
    os.environ.setdefault(LOOPBACK_SWITCH, "0")


def connect(cluster: str | None) -> str:
    """Start or join Ray; returns what was joined. An instance this process already holds is kept."""
    address = cluster or os.environ.get("RAY_ADDRESS")
    if not address:
        loopback_only()
    import ray

    if ray.is_initialized():
        return "already connected"
    quiet: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    if address:
        try:
            ray.init(address=address, **quiet)
        except (ConnectionError, ValueError, RuntimeError) as e:
            raise ConfigError(f"cannot join the Ray cluster at {address}: {e}") from None
        return address
    # "local": a new instance even where `ray start` (or a test's cluster) left an address for ray.init to find
    ray.init(address="local", num_cpus=os.cpu_count() or 1, **quiet)
    return "embedded"


def concurrency(workers: int | None, cpus_per_trial: float) -> int:
    import ray

    if workers is not None:
        return workers
    return max(1, math.floor(ray.cluster_resources().get("CPU", 1) / cpus_per_trial))


def trial_spec(space: Space, folder: Path, store: Path, number: int, params: dict[str, Any]) -> TrialSpec:
    return TrialSpec(number=number, params=params, overrides=space.overrides(params), flow=space.flow_kwargs(),
                     stop=space.stop, store=str(store), logs=str(folder / "logs"), objectives=tuple(space.objectives),
                     vendor=space.spec.vendor, cpus=space.spec.cpus_per_trial)


def _merge(first: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    """A two-phase trial's record: the later phase measured every stage; both phases' nodes kept."""
    return {**later, "phases": {**first["phases"], **later["phases"]}}


def _lost(spec: TrialSpec, phase: str, error: Exception) -> dict[str, Any]:
    import time

    return {"trial": spec.number, "params": spec.params, "overrides": spec.overrides, "status": "failed",
            "error": f"the Ray task was lost ({type(error).__name__}): {str(error).splitlines()[0] if str(error) else ''}",
            "failed_stage": None, "metrics": {}, "labels": {}, "fits": None, "keys": {},
            "phases": {phase: {"node": "lost", "host": "", "seconds": 0.0}}, "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}


def run_sweep(space: Space, folder: Path, store: Path, trials: int | None = None, workers: int | None = None,
              cluster: str | None = None, resume: bool = False, retry_failed: bool = False) -> SweepRun:
    journal = Journal(folder / "journal.jsonl", space.digest_inputs(), resume)
    search = make_search(space, trials, journal.latest())
    result = SweepRun(folder, journal.latest(), total=search.total)
    # failed trials run again when asked (e.g. after the code that failed them was fixed), first, with their numbers
    retry = [r for r in journal.latest() if r["status"] == "failed"] if retry_failed else []
    todo = search.total - len(journal.finished()) + len(retry)
    if todo <= 0:
        log.info("sweep: all %d trials are in the journal", search.total)
        return result
    result.address = connect(cluster)
    import ray  # after connect: see loopback_only
    slots = concurrency(workers, space.spec.cpus_per_trial)
    progress = Progress(search.total, len(journal.finished()) - len(retry), space.objectives)
    offered = ray.cluster_resources()
    vendor_nodes = f", {offered[VENDOR_RESOURCE]:g} {VENDOR_RESOURCE}" if VENDOR_RESOURCE in offered else ""
    again = f", {len(retry)} of them failed: run again" if retry else ""
    print(f"sweep: {todo} trial(s) to run of {search.total} ({len(journal.finished())} in the journal{again}), {slots} at once, "
          f"on Ray ({result.address}, {offered.get('CPU', 0):g} CPUs{vendor_nodes}); trial logs in {folder / 'logs'}",
          flush=True)
    if space.spec.vendor and VENDOR_RESOURCE not in offered:
        log.warning("sweep: vendor: true, and no node offers the '%s' resource: the vendor phases wait for one",
                    VENDOR_RESOURCE)
    remote = ray.remote(run_trial)
    running: dict[Any, tuple[TrialSpec, str, dict[str, Any] | None]] = {}

    def submit(spec: TrialSpec, phase: str, first: dict[str, Any] | None = None) -> None:
        resources = {VENDOR_RESOURCE: 1} if phase == "vendor" else {}
        ref = remote.options(num_cpus=spec.cpus, resources=resources, max_retries=1).remote(spec, phase)
        running[ref] = (spec, phase, first)

    while True:
        while len({s.number for s, _, _ in running.values()}) < slots:
            if retry:
                failed = retry.pop(0)
                proposal: tuple[int, dict[str, Any]] | None = (failed["trial"], failed["params"])
            else:
                proposal = search.next([(s.number, s.params) for s, _, _ in running.values()])
            if proposal is None:
                break
            spec = trial_spec(space, folder, store, *proposal)
            submit(spec, spec.phases()[0])
        if not running:
            break
        ready, _ = ray.wait(list(running), num_returns=1, timeout=1.0)  # back in Python each second: Ctrl-C stops it
        if not ready:
            continue
        spec, phase, first = running.pop(ready[0])
        try:
            record = ray.get(ready[0])
        except ray.exceptions.RayError as e:
            record = _lost(spec, phase, e)
        if first is not None:
            record = _merge(first, record)
        phases = spec.phases()
        if record["status"] == "done" and phase != phases[-1]:
            submit(spec, phases[phases.index(phase) + 1], record)
            continue
        journal.append(record)
        search.tell(record)
        result.ran.append(spec.number)
        progress.trial_done(record)
    result.records = journal.latest()
    return result
