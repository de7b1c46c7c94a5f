"""Run stage folders shaped like the pipeline's, for the results tests: the result files of each mode
written line for line with the runner's own formats (runner/mlc_format.py) and metrics
(common/metrics.py), the journal beside each mode folder, and the manifests the pipeline writes for
the run and the stages it came from (train, convert, build, chained by their keys), with the
provenance a test chooses. The accuracy mode runs over an official test list (results/official/);
a board-like DUT reports the board's own name (bare metal) or the PYNQ Linux program's."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from boards import board as boards
from common import metrics
from common.jsonio import write_json
from results import official
from runner import mlc_format as fmt

GOLDEN = Path(__file__).resolve().parent / "golden" / "mlc"
OFFICIAL = {"ad": "ad01_alt", "kws": "kws01", "ic": "ic01"}  # the list each task's fixture runs over
MODEL_IDS = {"ad": "ad01", "kws": "kws01", "ic": "ic01"}
PERF_FILES = 5


def _key(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def _prediction(task: str, label: int, classes: int, wrong: bool) -> list[float]:
    """A DUT's result vector: the labelled class (another one when wrong); AD: a score above 1 for an anomaly."""
    if task == "ad":
        return [round(float(label != wrong) + 0.5, 4)]
    vector = [0.0] * classes
    vector[(label + 1) % classes if wrong else label] = 1.0
    return vector


def _accuracy_records(task: str, labels: dict[str, int], wrong_every: int) -> list[dict]:
    classes = {"ad": 2, "kws": 12, "ic": 10}[task]
    records = []
    for i, (name, label) in enumerate(labels.items()):
        record = {"file": name, "classes": str(classes), "class": str(label),
                  "bytes_to_send": "2560" if task == "ad" else None, "stride": "512" if task == "ad" else None,
                  "total_length": 1 if task == "ad" else None,
                  "infer": {"results": _prediction(task, label, classes, i % wrong_every == 0), "total_inferences": 1,
                            "iterations": 1, "warmups": 0, "elapsed_time": 1000},
                  "mode": "a"}
        records.append(record)
    return records


def _accuracy(records: list[dict]) -> dict:
    labels = np.array([int(r["class"]) for r in records])
    preds = np.stack([metrics.per_file_prediction([r["infer"]["results"]]) for r in records])
    return {"top1": metrics.top1(labels, preds), "auc": metrics.auc(labels, preds), "files": len(records),
            "inferences": len(records), "file_errors": []}


def _performance_records(files: list[str], window_s: float, iterations: int = 10_000) -> list[dict]:
    records = []
    for k, name in enumerate(files[:PERF_FILES]):
        elapsed = int(window_s * 1e6) + 1_000 * k  # windows a little apart, so the median is one of them
        records.append({"file": name, "infer": {"start_time": 1_000, "end_time": 1_000 + elapsed, "results": [1.0],
                                                "elapsed_time": elapsed, "total_inferences": 1, "iterations": iterations,
                                                "warmups": 10, "throughput": iterations / (elapsed / 1e6)}, "mode": "p"})
    return records


def _performance_lines(records: list[dict]) -> tuple[list[str], float]:
    lines = []
    for k, r in enumerate(records, 1):
        lines += fmt.window_lines(k, r["infer"]["iterations"], r["infer"]["elapsed_time"], r["infer"]["throughput"])
    median = float(np.median([r["infer"]["throughput"] for r in records]))
    return lines + fmt.median_throughput_lines(median), median


def _energy_records(files: list[str], trials: int, trial_s: float, iterations: int = 1000, watts: float = 1.75) -> list[dict]:
    n = int(trial_s * 1000)
    return [{"file": name, "infer": {"results": [1.0], "total_inferences": 1, "iterations": iterations, "warmups": 0},
             "power": {"samples": [watts * 1e-3] * (n + 20), "timestamps": [["0", 10], ["1", 10 + n]], "extracted_power": None,
                       "voltage": 5.0}, "mode": "e"} for name in (files * 2)[:trials]]


def _energy_lines(records: list[dict]) -> tuple[list[str], float]:
    lines, per_inference = [fmt.ENERGY_HEADER], []
    for k, r in enumerate(records):
        (_, i0), (_, i1) = r["power"]["timestamps"]
        energy_j = sum(r["power"]["samples"][i0:i1])
        t = {"elapsed_s": (i1 - i0) / 1000, "energy_j": energy_j, "uj_per_inference": 1e6 * energy_j / r["infer"]["iterations"],
             "power_w": energy_j / ((i1 - i0) / 1000)}
        per_inference.append(t["uj_per_inference"])
        lines += fmt.trial_lines(k, t, r["infer"]["iterations"], t["elapsed_s"] < 10)
    median = float(np.median(per_inference))
    return lines + [fmt.SEPARATOR, f"Median energy cost is {median:.4f} uJ/inf.", fmt.SEPARATOR], median


def _write_mode(run: Path, mode: str, records: list[dict], lines: list[str]) -> None:
    folder = run / mode
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps(records))
    (folder / "results.txt").write_text("\n".join(lines) + "\n")
    (folder / "log.txt").write_text(f"{fmt.runner_line(f'{mode} session')}\n" + "\n".join(lines) + "\n")
    (run / f"{mode}.journal.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def _stage(folder: Path, stage: str, key: str, upstream: dict, params: dict, outputs: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "manifest.json", {"stage": stage, "status": "done", "key": key,
                                          "inputs": {"params": params, "upstream": upstream}, "outputs": outputs})


def _upstream_stages(run: Path, task: str, flow: str, model: str) -> None:
    """The train, convert and build manifests a run stage was made from, each keyed on the one before."""
    train = run.parents[2] / flow / ("train" if model == "trained" else model)
    if model == "reference":  # hls4ml imports the float reference model, FINN the int8 one (tasks/*/task.yaml)
        key = "reference_int8" if flow == "finn" else "reference"
        params = {key: {"file": "the reference model file", "sha256": _reference_sha256(task, key)}}
    else:
        params = {"model": {"filters": 32}, "train": {"epochs": 30}}
    _stage(train, "train", _key(f"train {train}"), {}, params, {"metric": "top-1 %"})
    _stage(run.parent / "convert", "convert", _key(f"convert {run}"), {"train": _key(f"train {train}")}, {},
           {"backend": "Vitis", "exact_fraction": 1.0})
    _stage(run.parent / "build", "build", _key(f"build {run}"), {"convert": _key(f"convert {run}")}, {}, {})


def _reference_sha256(task: str, key: str) -> str:
    from results.division import reference_digests

    return reference_digests(task).get(key, "0" * 64)


def fmt_firmware() -> str:
    return "ULPMark for tinyML Firmware V0.0.1"  # what our firmware's profile reports (docs/mlperf-tiny.md 2.8)


def testset_params(folder: Path) -> dict:
    """What the run stage records of a testset= folder (pipeline/flow.py testset_params)."""
    return {"testset": str(folder), "content": sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir())}


def make_run(root: Path, link="board", timing="board-timer", data="real", window_s=10.5, board="pynq_z2", task="ad",
             flow="hls4ml", model="trained", testset: Path | None = None, wrong_every: int = 9, energy_trials: int = 0,
             trial_s: float = 10.5, linux: bool = False, files: dict[str, int] | None = None) -> Path:
    """A finished run stage folder with accuracy over the task's official list (or `files`: name -> class),
    five performance windows of window_s, energy_trials trials of trial_s, and the pipeline's manifests.
    wrong_every: every n-th accuracy file is answered wrong (9: top-1 88.9 %; 13: 92.3 %)."""
    variant = flow if model == "trained" else f"{flow}-{model}"
    run = root / task / variant / (board if testset is None else f"{board}-{testset.name}") / "run"
    labels = files if files is not None else official.load(OFFICIAL[task]).labels
    accuracy_records = _accuracy_records(task, labels, wrong_every)
    accuracy = _accuracy(accuracy_records)
    _write_mode(run, "accuracy", accuracy_records, fmt.accuracy_lines(accuracy["top1"], accuracy["auc"]))
    perf_records = _performance_records(list(labels), window_s)
    perf_lines, median = _performance_lines(perf_records)
    _write_mode(run, "performance", perf_records, perf_lines)
    b = boards.load(board)
    dut_name = b.vendor_name + ("_linux" if linux else "") if link == "board" else f"{b.vendor_name}_emulated"
    summary = {"model": MODEL_IDS[task], "name": dut_name, "port": "/dev/ttyUSB1", "firmware": fmt_firmware(),
               "provenance": {"link": link, "timing": timing, "data": data, "port": "/dev/ttyUSB1",
                              "model_origin": "MLPerf Tiny reference DS-CNN" if model == "reference" else "QKeras, trained here"},
               "performance": {"throughput": median, "error": None, "iterations": 10_000}, "accuracy": accuracy,
               "flow": {"task": task, "flow": flow, "board": board, "model": model}}
    modes = ["performance", "accuracy"]
    if energy_trials:
        energy_lines, uj = _energy_lines(_energy_records(list(labels), energy_trials, trial_s))
        _write_mode(run, "energy", _energy_records(list(labels), energy_trials, trial_s), energy_lines)
        summary["energy"] = {"uj_per_inference": uj, "iterations": 1000, "error": None}
        modes.append("energy")
    params = {"dut": "/dev/ttyUSB1", "timing": "host", "modes": modes, "iterations": None, "window_seconds": 10.0,
              **(testset_params(testset) if testset is not None else {})}
    _upstream_stages(run, task, flow, model)
    _stage(run, "run", _key(f"run {run}"), {"build": _key(f"build {run}")}, params, summary)
    return run


def edit_json(path: Path, edit) -> None:
    """Change a JSON file in place: edit(data) mutates what it read."""
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def edit_records(run: Path, mode: str, edit) -> None:
    """An edit of a mode's results.json and of the journal beside it alike (a run of make_run's, tampered
    with): edit(records) mutates the list of records."""
    edit_json(run / mode / "results.json", edit)
    journal = run / f"{mode}.journal.jsonl"
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    edit(records)
    journal.write_text("".join(json.dumps(r) + "\n" for r in records))
