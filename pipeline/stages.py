"""The stage pipeline: data -> train -> convert -> build -> run -> report.

Each stage is a named, individually runnable step (the FINN builder's idea) writing into
build/<task>-<flow>-<board>/<stage>/ with a manifest of what it was made from; a stage whose
inputs are unchanged is skipped. Gates between stages raise with a message (train: metric vs
task.yaml; convert: hls4ml emulation bit-identical to QKeras).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from boards import board as boards
from boards import firmware
from pipeline.artifacts import REPO, StageDir, json_digest, source_digest
from tasks import load_recipe

log = logging.getLogger("pipeline")

STAGES = ["data", "train", "convert", "build", "run", "report"]
FLOWS = ["hls4ml", "finn"]


@dataclass
class Flow:
    task: str
    board: str
    flow: str = "hls4ml"
    data: str = "auto"  # auto | synthetic | PATH
    dut: str = "emulated"  # emulated | a serial port / pyserial URL of a real board
    build_root: Path = REPO / "build"
    overrides: dict = field(default_factory=dict)  # task.yaml overrides, e.g. {"train.epochs": 2}
    modes: list[str] = field(default_factory=lambda: ["performance", "accuracy"])
    iterations: int | None = None  # measured inferences per performance window; None: calibrate
    window_seconds: float = 10.0

    def __post_init__(self):
        if self.flow not in FLOWS:
            raise SystemExit(f"unknown flow '{self.flow}': choose one of {', '.join(FLOWS)}")
        if self.flow == "finn":
            raise SystemExit("flow=finn is not implemented yet; the walking skeleton runs flow=hls4ml")
        self.recipe = load_recipe(self.task, self.overrides)
        self.board_cfg = boards.load(self.board)
        self.root = self.build_root / f"{self.task}-{self.flow}-{self.board}"
        self.data_kind, self.data_path = self.recipe.resolve_data(self.data)

    def stage_dir(self, name: str) -> StageDir:
        return StageDir(name, self.root / name)

    def manifest(self, name: str) -> dict:
        m = self.stage_dir(name).manifest()
        if m is None or m.get("status") != "done":
            raise SystemExit(f"stage '{name}' has not run for {self.root.name}: run it first (make ... to={name})")
        return m


# ---- the stages: (parameters, sources, upstream stages, work) ---------------------------------------


def _data_params(f: Flow) -> dict:
    cfg = f.recipe.cfg
    params = {"kind": f.data_kind, "features": cfg.features.model_dump()}
    if f.data_kind == "synthetic":
        params["synthetic"] = cfg.data.synthetic.model_dump()
    else:
        params["path"] = str(f.data_path)
        params["files"] = sorted(str(p.relative_to(f.data_path)) for p in f.data_path.rglob("*.wav"))
    return params


def _data(f: Flow, out: Path) -> dict:
    return f.recipe.data(f.data_kind, f.data_path, out)


def _train_params(f: Flow) -> dict:
    cfg = f.recipe.cfg
    return {"model": cfg.model.model_dump(), "train": cfg.train.model_dump(), "min_auc": cfg.min_auc}


def _train(f: Flow, out: Path) -> dict:
    data = f.manifest("data")["outputs"]
    return f.recipe.train(f.root / "data", data["data_kind"], out)


def _convert_params(f: Flow) -> dict:
    return {"part": f.board_cfg.part, "clock_period_ns": f.board_cfg.clock_period_ns}


def _convert(f: Flow, out: Path) -> dict:
    from toolchains.hls4ml import convert

    train_dir = f.root / "train"
    inputs = f.recipe.model_inputs(f.root / "data", train_dir)
    report = convert.convert(f.recipe.load_model(train_dir), f.board_cfg.part, f.board_cfg.clock_period_ns, inputs, out)
    log.info("hls4ml emulation vs QKeras: %.2f%% of %d test windows bit-identical", 100 * report["exact_fraction"], report["windows_checked"])
    return report


def _build_params(f: Flow) -> dict:
    return {"board": f.board_cfg.model_dump()}


def _build(f: Flow, out: Path) -> dict:
    generated = out / "include"
    generated.mkdir()
    firmware.write_header(generated / f"{f.task}_params.h", f"{f.task.upper()}_PARAMS_H", f.recipe.firmware_defines(f.root / "train"))
    binary = firmware.build_emulated(f.board_cfg, f.recipe.firmware_sources, f.recipe.window_bytes, f.root / "convert", generated, out)
    skipped = {}
    for tool, what in (("vitis_hls", "HLS synthesis of the hls4ml project"), ("vivado", f"{f.board} block design and bitstream")):
        if shutil.which(tool) is None:
            skipped[what] = f"skipped: {tool} not found on PATH"
            log.warning("build: %s skipped (%s not found on PATH)", what, tool)
    compiler, path = firmware.cross_compiler(f.board_cfg)
    what = f"{f.board_cfg.processor.name} firmware"
    skipped[what] = "cross build not implemented yet" if path else f"skipped: {compiler} not found on PATH"
    return {"emulated_dut": str(binary.relative_to(out)), "skipped": skipped}


def _run_params(f: Flow) -> dict:
    return {"dut": f.dut, "modes": f.modes, "iterations": f.iterations, "window_seconds": f.window_seconds}


def _run(f: Flow, out: Path) -> dict:
    import contextlib

    from runner import cli as runner_cli
    from runner.emulated import emulated_dut

    emulated = f.dut == "emulated"
    baud = f.board_cfg.uart.baud.get("performance", 115200)
    binary = f.root / "build" / f.manifest("build")["outputs"]["emulated_dut"]
    with (emulated_dut(binary) if emulated else contextlib.nullcontext(f.dut)) as url:
        summary = runner_cli.run(url, f.root / "data" / "eembc", out, f.modes, baud, f.iterations, 10, f.window_seconds)
    data = f.manifest("data")["outputs"]
    summary.update({
        "data_kind": data["data_kind"],
        "throughput_is": "emulated: hls4ml C++ model on the host CPU, not FPGA speed"
        if summary["dut_kind"] == "emulated" else "measured on hardware",
    })
    return summary


def _report(f: Flow, out: Path) -> dict:
    from results import report

    table = report.flow_table(f)
    report.write(table, out)
    print(report.markdown(table))
    return {"rows": len(table)}


# name: (parameters, source files it depends on, upstream stages, work)
STAGE_DEFS = {
    "data": (_data_params, lambda f: f.recipe.sources["data"], [], _data),
    "train": (_train_params, lambda f: f.recipe.sources["train"], ["data"], _train),
    "convert": (_convert_params, lambda f: ["toolchains/hls4ml", "toolchains/keras2.py"], ["train"], _convert),
    "build": (_build_params, lambda f: ["boards", *f.recipe.sources["firmware"]], ["convert"], _build),
    "run": (_run_params, lambda f: ["runner"], ["build"], _run),
    "report": (lambda f: {}, lambda f: ["results"], ["run"], _report),
}


def stage_key(f: Flow, name: str) -> tuple[str, dict]:
    params_fn, sources, upstream, _ = STAGE_DEFS[name]
    inputs = {
        "params": params_fn(f),
        "sources": source_digest(sources(f)),
        "upstream": {u: f.manifest(u)["key"] for u in upstream},
    }
    return json_digest(inputs), inputs


def run_stages(f: Flow, start: str | None = None, stop: str | None = None, force: bool = False) -> None:
    first = STAGES.index(start) if start else 0
    last = STAGES.index(stop) if stop else len(STAGES) - 1
    for i, name in enumerate(STAGES):
        if i > last:
            break
        stage = f.stage_dir(name)
        key, inputs = stage_key(f, name)
        if i < first or (not force and stage.is_current(key)):
            if stage.manifest() is None:
                raise SystemExit(f"stage '{name}' has never run for {f.root.name}: start from it (from={name})")
            log.info("[%s] up to date, skipped", name)
            continue
        log.info("[%s] running -> %s", name, stage.path)
        m = stage.run(key, inputs, lambda out, n=name: STAGE_DEFS[n][3](f, out))
        log.info("[%s] done in %.1f s", name, m["seconds"])
