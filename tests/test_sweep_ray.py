"""Sweeps end to end on Ray, on a tiny synthetic ToyCar set and 2-epoch FINN models (each trial is
data -> train -> convert with FINN's estimates, tens of seconds):

- a 3-trial sweep, serially (one worker, Ray embedded): a design that fits, one that does not (kept,
  with its estimates), two trials converting from one trained model, the table, figures and journal;
- a kill simulated by cutting the journal mid-record: the resumed sweep runs only the unfinished
  trial and writes the same table; failed trials (a store that cannot be written) recorded, and run
  again with --retry-failed; a gate failure is recorded and the sweep goes on;
- the same sweep on a two-node Ray cluster (ray.cluster_utils: real raylets, on the loopback): trials
  on both nodes, the same statuses, figures and table as the serial run; a trial with vendor steps has its
  build phase placed on the node that declares the `vivado` resource, and only there."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from common.errors import ConfigError
from sweep.cli import finish, sweep_folder
from sweep.engine import loopback_only, run_sweep
from sweep.space import Space

pytestmark = pytest.mark.slow
loopback_only()  # this module's Ray instances and cluster on 127.0.0.1 (before anything imports ray)

SPACE = """
task: ad
fixed:
  data.synthetic.machine_ids: [1, 2]
  data.synthetic.train_per_id: 6
  data.synthetic.test_normal_per_id: 3
  data.synthetic.test_anomaly_per_id: 3
flows:
  finn:
    objectives: [accuracy, latency_us, lut]
    fixed: {brevitas.train.epochs: 2, brevitas.min_auc.synthetic: 0.01, finn.check_inputs: 20}
    parameters:  # not in alphabetical order: the journal's records are (json sort_keys), the table must not be
      finn.target_fps: {values: [100000, 10000000]}
      brevitas.quant.weight_bits: {values: [2, 4]}
"""
TRIALS = 3  # of the grid's 4: (1e5, 2) fits, (1e5, 4) fits, (1e7, 2) does not fit the Pynq-Z2
MEASURES = ("accuracy", "latency_us", "lut", "bram18", "dsp", "utilisation")


def load(tmp_path: Path, text: str = SPACE, name: str = "space.yaml") -> Space:
    path = tmp_path / name
    path.write_text(text)
    return Space(path, "ad", "finn", "pynq_z2", "synthetic")


def sweep(space: Space, root: Path, **kw):
    run = run_sweep(space, sweep_folder(root, space, kw.pop("name", None)), root / "sweep" / "ad" / "stages", **kw)
    finish(space, run.folder, run.records)
    return run


def shutdown_ray():
    import ray

    if ray.is_initialized():
        ray.shutdown()


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The 3-trial sweep, one trial at a time, Ray embedded on this machine."""
    tmp = tmp_path_factory.mktemp("serial")
    space = load(tmp)
    try:
        run = sweep(space, tmp / "build", trials=TRIALS, workers=1)
    finally:
        shutdown_ray()
    return space, run


def test_a_small_sweep_runs_end_to_end_and_keeps_the_design_that_does_not_fit(serial):
    space, run = serial
    assert run.ran == [0, 1, 2] and run.total == TRIALS
    by = {r["trial"]: r for r in run.records}
    assert [by[n]["status"] for n in range(3)] == ["done", "done", "no-fit"]
    assert by[0]["fits"] is True and by[1]["fits"] is True
    assert by[2]["fits"] is False and by[2]["metrics"]["lut"] > 53200 and "does not fit the pynq_z2" in by[2]["error"]
    assert by[2]["failed_stage"] == "convert" and by[2]["metrics"]["accuracy"] is not None  # trained: its accuracy kept
    # trials 0 and 2 differ only in folding: one trained model, one train folder, two conversions
    assert by[0]["keys"]["train"] == by[2]["keys"]["train"] != by[1]["keys"]["train"]
    assert by[0]["keys"]["data"] == by[1]["keys"]["data"] == by[2]["keys"]["data"]
    store = run.folder.parent / "stages"
    assert len([p for p in (store / "train").iterdir() if p.is_dir()]) == 2
    assert all(by[n]["labels"]["data"] == "synthetic" and by[n]["labels"]["latency_us"].startswith("modeled: FINN estimates")
               for n in (0, 1))
    # journal: the header, then one line per trial; the table, the figures, the logs
    lines = (run.folder / "journal.jsonl").read_text().splitlines()
    assert "sweep" in json.loads(lines[0]) and sorted(json.loads(line)["trial"] for line in lines[1:]) == [0, 1, 2]
    md = (run.folder / "results.md").read_text()
    assert "synthetic" in md and "| 2 | no-fit |" in md and "modeled" in md
    assert "| trial | status | finn.target_fps | brevitas.quant.weight_bits |" in md  # the space's order
    assert "make task=ad board=pynq_z2 flow=finn data=synthetic set='" in md
    rows = list(csv.DictReader(open(run.folder / "results.csv")))
    assert [r["status"] for r in rows] == ["done", "done", "no-fit"] and rows[2]["fits"] == "no"
    assert {p.name for p in run.folder.glob("pareto_*.png")} == {
        "pareto_accuracy_vs_latency_us.png", "pareto_accuracy_vs_lut.png", "pareto_lut_vs_latency_us.png"}
    assert all((run.folder / "logs" / f"trial-{n:04d}.log").stat().st_size > 0 for n in range(3))


def test_a_killed_sweep_resumes_without_repeating_a_finished_trial(serial, tmp_path):
    space, run = serial
    killed = run.folder.with_name("killed")
    shutil.copytree(run.folder, killed)
    journal = killed / "journal.jsonl"
    whole = journal.read_bytes()
    cut = whole.rindex(b"\n", 0, len(whole) - 1) + 1 + 200  # the last record cut 200 bytes into its line
    journal.write_bytes(whole[:cut])
    kept = whole[:whole.rindex(b"\n", 0, len(whole) - 1) + 1]
    last = json.loads(whole[len(kept):])["trial"]
    try:
        with pytest.raises(ConfigError, match="resume=1 goes on with it"):
            run_sweep(space, killed, run.folder.parent / "stages", trials=TRIALS, workers=1)
        resumed = sweep(space, killed.parent.parent.parent, name="killed", trials=TRIALS, workers=1, resume=True)
        assert resumed.ran == [last]  # only the trial whose record the kill cut off
        assert journal.read_bytes().startswith(kept)  # the finished trials' lines untouched
        assert (killed / "results.md").read_text() == (run.folder / "results.md").read_text()
        again = run_sweep(space, killed, run.folder.parent / "stages", trials=TRIALS, workers=1, resume=True)
        assert again.ran == [] and len(again.records) == TRIALS
    finally:
        shutdown_ray()


def test_failed_trials_are_recorded_and_run_again_when_asked(serial, tmp_path):
    space, run = serial
    folder = run.folder.with_name("retried")
    not_a_folder = tmp_path / "stages"
    not_a_folder.write_text("a file where the store should be")
    try:
        failed = run_sweep(space, folder, not_a_folder, trials=TRIALS, workers=1)
        assert [r["status"] for r in failed.records] == ["failed"] * TRIALS  # each recorded, the sweep went on
        assert all("NotADirectoryError" in r["error"] or "FileExistsError" in r["error"] for r in failed.records)
        store = run.folder.parent / "stages"
        assert run_sweep(space, folder, store, trials=TRIALS, workers=1, resume=True).ran == []  # failed is finished
        retried = sweep(space, folder.parent.parent.parent, name="retried", trials=TRIALS, workers=1, resume=True,
                        retry_failed=True)
    finally:
        shutdown_ray()
    assert sorted(retried.ran) == [0, 1, 2]
    assert len((folder / "journal.jsonl").read_text().splitlines()) == 1 + 2 * TRIALS  # the failures kept, then the runs
    table = (folder / "results.md").read_text()
    assert table == (run.folder / "results.md").read_text()  # the last record of each trial counts


def test_a_trial_stopped_by_a_gate_is_recorded_and_the_sweep_goes_on(serial, tmp_path):
    _, run = serial
    gated = load(tmp_path, SPACE.replace("brevitas.min_auc.synthetic: 0.01, ", "brevitas.quant.weight_bits: 2, finn.target_fps: "
                                         "100000, ").replace('''      finn.target_fps: {values: [100000, 10000000]}
      brevitas.quant.weight_bits: {values: [2, 4]}''', "      brevitas.min_auc.synthetic: {values: [0.01, 0.999]}"),
                 "gated.yaml")
    try:
        result = sweep(gated, run.folder.parent.parent.parent, workers=1)
    finally:
        shutdown_ray()
    first, second = sorted(result.records, key=lambda r: r["trial"])
    assert first["status"] == "done" and first["metrics"]["lut"] == {r["trial"]: r for r in run.records}[0]["metrics"]["lut"]
    assert second["status"] == "gate" and second["failed_stage"] == "train" and "0.999" in second["error"]


def test_a_two_node_cluster_places_trials_on_both_nodes_with_the_serial_results(serial, tmp_path):
    from ray.cluster_utils import Cluster

    space, serial_run = serial
    shutdown_ray()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    vivado = cluster.add_node(num_cpus=1, resources={"vivado": 1})
    try:
        run = sweep(load(tmp_path), tmp_path / "build", trials=TRIALS, cluster=cluster.address)  # 2 at once: 1 CPU a node
        import ray

        assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}  # two raylets, both on the loopback
        nodes = {r["phases"]["all"]["node"] for r in run.records}
        assert nodes == {cluster.head_node.node_id, vivado.node_id}
        serial_by = {r["trial"]: r for r in serial_run.records}
        by = {r["trial"]: r for r in run.records}
        for n, r in by.items():  # (stage keys are not compared: they follow the code, which others may edit meanwhile)
            s = serial_by[n]
            assert (r["status"], r["fits"], r["failed_stage"]) == (s["status"], s["fits"], s["failed_stage"])
            assert {k: r["metrics"].get(k) for k in MEASURES} == {k: s["metrics"].get(k) for k in MEASURES}
        assert by[0]["keys"]["train"] == by[2]["keys"]["train"] != by[1]["keys"]["train"]  # shared across the two nodes
        table = (run.folder / "results.md").read_text().split("\n", 1)[1]  # below the title, which names the space file
        assert table == (serial_run.folder / "results.md").read_text().split("\n", 1)[1]
        # a trial with vendor steps: converted on any node (here: from the store), built only on the vivado node
        vendor = load(tmp_path, SPACE.replace("flows:", "stop: build\nvendor: true\nflows:").replace(
            "{values: [2, 4]}", "{values: [2]}").replace("{values: [100000, 10000000]}", "{values: [100000]}"), "vendor.yaml")
        built = sweep(vendor, tmp_path / "build", cluster=cluster.address)
        (record,) = built.records
        assert record["status"] == "done", record["error"]
        assert set(record["phases"]) == {"cpu", "vendor"} and record["phases"]["vendor"]["node"] == vivado.node_id
        assert record["keys"]["convert"] == by[0]["keys"]["convert"] and "build" in record["keys"]  # converted once
        build_dir = tmp_path / "build" / "sweep" / "ad" / "stages" / "build" / (record["keys"]["build"][:16] + "-vendor")
        assert (build_dir / "manifest.json").is_file()
    finally:
        shutdown_ray()
        cluster.shutdown()
