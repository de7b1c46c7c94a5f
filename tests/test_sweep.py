"""The sweep's parts that need no training: the space file's checks (against the real task.yaml and
toolchain schemas), the journal's handling of a kill mid-write, the searches' repeatability (Optuna
included), the Pareto front, the `make` line that promotes a design, and a trial that fails being
recorded rather than raised. The end-to-end sweeps on Ray are in tests/test_sweep_ray.py."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from common.errors import ConfigError
from sweep.journal import Journal
from sweep.search import make_search
from sweep.space import Space
from sweep.table import make_line, pareto_front
from sweep.trial import TrialSpec, run_trial

REPO = Path(__file__).resolve().parent.parent


def space_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(text)
    return path


FINN_SPACE = """
task: ad
search: {method: grid}
flows:
  finn:
    objectives: [accuracy, latency_us, lut]
    parameters:
      brevitas.quant.weight_bits: {values: [2, 4]}
      finn.target_fps: {values: [100000, 10000000]}
"""


@pytest.mark.parametrize("task", ["ad", "kws", "ic"])
@pytest.mark.parametrize("flow", ["finn", "hls4ml"])
def test_the_tasks_sweep_files_load_and_make_their_grids(task, flow):
    space = Space(REPO / "tasks" / task / "sweep.yaml", task, flow, "pynq_z2", "synthetic")
    grid = make_search(space, None, []).total
    assert grid == len(space.grid()) >= 8
    assert space.objectives[0] == "accuracy"


@pytest.mark.parametrize("body, message", [
    ("flows: {finn: {objectives: [accuracy, lut], parameters: {brevitas.quant.weigth_bits: {values: [2]}}}}",
     r"(?s)parameters\.brevitas\.quant\.weigth_bits = 2: .*brevitas\.quant\.weigth_bits: Extra inputs are not permitted"),
    ("flows: {finn: {objectives: [accuracy, lut], parameters: {brevitas.quant.weight_bits: {values: [2, 9]}}}}",
     r"(?s)weight_bits = 9: .*less than or equal to 8"),
    ("flows: {finn: {objectives: [accuracy, lut], parameters: {model.filters: {values: [16, 8]}}}}",
     r"model\.filters changes no stage of flow=finn up to convert"),
    ("flows: {finn: {objectives: [accuracy, luts], parameters: {finn.target_fps: {values: [1000]}}}}",
     r"unknown objective\(s\) \['luts'\]"),
    ("flows: {finn: {objectives: [accuracy, lut], parameters: {finn.target_fps: {low: 1000, high: 10}}}}",
     r"a range needs low < high"),
    ("flows: {finn: {objectives: [accuracy, lut], parameters: {finn.target_fps: {values: [1000, 1000]}}}}",
     r"values repeat"),
    ("flows: {hls4ml: {objectives: [accuracy, lut], parameters: {model.filters: {values: [16, 8]}}}}",
     r"no flows\.finn section \(it has hls4ml\)"),
    ("vendor: true\nflows: {finn: {objectives: [accuracy, lut], parameters: {finn.target_fps: {values: [1000]}}}}",
     r"vendor: true runs in the build stage"),
    ("flows: {finn: {objectives: [accuracy, lut], parameters: {finn.target_fps: {values: [1000]}}, fixed: {finn.target_fps: 5}}}",
     r"\['finn\.target_fps'\] both fixed and varied"),
])
def test_a_bad_space_is_refused_with_its_key_and_reason(tmp_path, body, message):
    with pytest.raises(ConfigError, match=message):
        Space(space_file(tmp_path, f"task: kws\n{body}\n"), "kws", "finn", "pynq_z2", "synthetic")


def test_a_space_for_another_task_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="a sweep space for task ad, not task=kws"):
        Space(space_file(tmp_path, FINN_SPACE), "kws", "finn", "pynq_z2", "synthetic")


def test_a_range_needs_random_or_model_search(tmp_path):
    space = Space(space_file(tmp_path, FINN_SPACE.replace("{values: [100000, 10000000]}", "{low: 1e4, high: 1e6, log: true, "
                                                          "integer: true}")), "ad", "finn", "pynq_z2", "synthetic")
    with pytest.raises(ConfigError, match="a grid needs lists of values, and finn.target_fps is a range"):
        make_search(space, None, [])


def record(n: int, params: dict, status: str = "done", **metrics) -> dict:
    return {"trial": n, "params": params, "overrides": params, "status": status, "error": None if status == "done" else "x",
            "failed_stage": None, "metrics": metrics, "labels": {"data": "synthetic"},
            "fits": {"done": True, "no-fit": False}.get(status), "keys": {},
            "phases": {"all": {"node": "n", "host": "h", "seconds": 1.0}}, "finished": ""}


def test_the_journal_drops_a_line_cut_by_a_kill_and_appends_after_it(tmp_path):
    path = tmp_path / "journal.jsonl"
    j = Journal(path, {"a": 1}, resume=False)
    for n in range(3):
        j.append(record(n, {"k": n}, accuracy=0.5))
    whole = path.read_bytes()
    path.write_bytes(whole[:-40])  # the third record cut mid-write
    j = Journal(path, {"a": 1}, resume=True)
    assert j.finished() == {0, 1}
    j.append(record(2, {"k": 2}, accuracy=0.5))
    assert path.read_bytes() == whole  # the cut-off bytes gone, the record whole on a line of its own
    assert [json.loads(line)["trial"] for line in path.read_text().splitlines()[1:]] == [0, 1, 2]


def test_the_journal_is_not_gone_on_with_unasked_nor_by_another_sweep(tmp_path):
    path = tmp_path / "journal.jsonl"
    Journal(path, {"space": {"x": 1}}, resume=False).append(record(0, {"k": 0}))
    with pytest.raises(ConfigError, match="holds a sweep with 1 finished trial\\(s\\): resume=1 goes on"):
        Journal(path, {"space": {"x": 1}}, resume=False)
    with pytest.raises(ConfigError, match="a journal of another sweep \\(it differs in space.x\\)"):
        Journal(path, {"space": {"x": 2}}, resume=True)
    assert len(path.read_text().splitlines()) == 2  # refused, untouched


def test_a_grid_resumes_with_the_trials_it_had_not_finished(tmp_path):
    space = Space(space_file(tmp_path, FINN_SPACE), "ad", "finn", "pynq_z2", "synthetic")
    done = [record(0, {"brevitas.quant.weight_bits": 2, "finn.target_fps": 100000}),
            record(2, {"brevitas.quant.weight_bits": 4, "finn.target_fps": 100000})]
    search = make_search(space, None, done)
    assert search.total == 4
    assert [search.next([]) for _ in range(3)] == [(1, {"brevitas.quant.weight_bits": 2, "finn.target_fps": 10000000}),
                                                    (3, {"brevitas.quant.weight_bits": 4, "finn.target_fps": 10000000}), None]
    with pytest.raises(ConfigError, match="journal trial 0 has parameters .* the space does not propose"):
        make_search(space, None, [record(0, {"brevitas.quant.weight_bits": 4, "finn.target_fps": 100000})])


RANGE_SPACE = FINN_SPACE.replace("{values: [100000, 10000000]}", "{low: 10000, high: 1000000, log: true, integer: true}")


def test_random_search_is_the_same_sequence_every_time_without_repeats(tmp_path):
    space = Space(space_file(tmp_path, RANGE_SPACE.replace("method: grid", "method: random, seed: 7")),
                  "ad", "finn", "pynq_z2", "synthetic")
    first = [make_search(space, 6, []).points[n] for n in range(6)]
    assert first == make_search(space, 6, []).points
    assert len({json.dumps(p, sort_keys=True) for p in first}) == 6
    assert all(10000 <= p["finn.target_fps"] <= 1000000 and isinstance(p["finn.target_fps"], int) for p in first)
    small = Space(space_file(tmp_path, FINN_SPACE.replace("method: grid", "method: random")), "ad", "finn", "pynq_z2",
                  "synthetic")
    assert make_search(small, 10, []).total == 4  # the space has 4 points: never a repeated design


def test_the_model_search_asks_the_same_after_a_resume_and_reads_no_fit_as_a_constraint(tmp_path):
    space = Space(space_file(tmp_path, RANGE_SPACE.replace("method: grid", "method: model, startup: 2, seed: 3")),
                  "ad", "finn", "pynq_z2", "synthetic")
    finished = [record(0, {"brevitas.quant.weight_bits": 2, "finn.target_fps": 20000}, accuracy=0.7, latency_us=40.0,
                       lut=5000.0, utilisation=0.1),
                record(1, {"brevitas.quant.weight_bits": 4, "finn.target_fps": 900000}, "no-fit", accuracy=0.8,
                       latency_us=2.0, lut=90000.0, utilisation=1.7),
                record(2, {"brevitas.quant.weight_bits": 4, "finn.target_fps": 50000}, "failed")]
    a, b = make_search(space, 8, finished), make_search(space, 8, list(reversed(finished)))
    proposals = [a.next([]) for _ in range(1)] + [a.next([(3, {"brevitas.quant.weight_bits": 2, "finn.target_fps": 30000})])]
    again = [b.next([]) for _ in range(1)] + [b.next([(3, {"brevitas.quant.weight_bits": 2, "finn.target_fps": 30000})])]
    assert proposals == again  # trial n is a function of the journal and the seed alone
    assert [n for n, _ in proposals] == [3, 4]
    assert all(p["brevitas.quant.weight_bits"] in (2, 4) and 10000 <= p["finn.target_fps"] <= 1000000 for _, p in proposals)
    assert make_search(space, 3, finished).next([]) is None  # the budget is spent


def test_the_pareto_front_keeps_designs_no_other_beats_and_only_designs_that_fit():
    objectives = ["accuracy", "latency_us", "lut"]
    records = [record(0, {}, accuracy=0.9, latency_us=10.0, lut=100.0),
               record(1, {}, accuracy=0.8, latency_us=10.0, lut=100.0),  # beaten by 0
               record(2, {}, accuracy=0.8, latency_us=5.0, lut=200.0),  # faster: on the front
               record(3, {}, "no-fit", accuracy=0.99, latency_us=1.0, lut=1e6),  # beats all, but does not fit
               record(4, {}, accuracy=0.9, latency_us=10.0, lut=100.0),  # equal to 0: neither beats the other
               record(5, {}, "failed")]
    assert pareto_front(records, objectives) == {0, 2, 4}
    assert pareto_front(records, ["accuracy", "lut"]) == {0, 4}


def test_the_promote_line_gives_make_the_trials_exact_overrides(tmp_path):
    from pipeline.cli import _overrides

    space = Space(space_file(tmp_path, FINN_SPACE), "ad", "finn", "pynq_z2", "synthetic")
    overrides = {"brevitas.hidden": [32, 32, 8, 32, 32], "brevitas.quant.accumulator.quantizer": "a2q+",
                 "finn.target_fps": 100000, "brevitas.quant.pruning.sparsity": 0.5, "data.synthetic.machine_ids": [1, 2]}
    line = make_line(space, {**record(0, {}), "overrides": overrides})
    words = shlex.split(line)
    assert words[:5] == ["make", "task=ad", "board=pynq_z2", "flow=finn", "data=synthetic"]
    sets = words[5].removeprefix("set=").split(" ")
    assert _overrides(sets) == overrides  # what the Makefile hands `python -m pipeline run --set` for each word


def test_a_trial_that_cannot_run_is_recorded_with_its_error_not_raised(tmp_path):
    spec = TrialSpec(number=5, params={"finn.target_fps": 1000}, overrides={"finn.target_fps": 1000},
                     flow={"task": "ad", "board": "no_such_board", "flow": "finn", "data": "synthetic"}, stop="convert",
                     store=str(tmp_path / "stages"), logs=str(tmp_path / "logs"))
    r = run_trial(spec)
    assert r["status"] == "failed" and "no_such_board" in r["error"]
    assert r["trial"] == 5 and r["metrics"] == {} and r["phases"]["all"]["seconds"] >= 0
    assert "no_such_board" in (tmp_path / "logs" / "trial-0005.log").read_text()
