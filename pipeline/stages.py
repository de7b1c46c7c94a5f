"""The stage pipeline: data -> train -> convert -> build -> run -> report.

Each stage is a named, individually runnable step (the FINN builder's idea) with a manifest of
what it was made from; a stage whose inputs are unchanged is skipped. Stages live where what they
depend on says they should, so nothing is redone that need not be:

    build/<task>/data/                      the dataset and EEMBC test files (any flow, any board)
    build/<task>/<flow>/train/              the trained model (any board)
    build/<task>/<flow>/<board>/{convert,build,run,report}/

A recipe may offer other models than the one it trains (model=reference: the MLPerf pretrained
model, imported where `train` would train), and any EEMBC test folder may replace the data stage's
(testset=PATH): those runs live beside the default ones, in build/<task>/<flow>-<model>/ and
<board>-<test folder>/, so nothing overwrites anything. A reference model with its own test folder
needs no data stage at all. A model file brought from elsewhere (model=path/to/model.onnx, QONNX,
for the toolchains that import it) comes with its own test folder and the scale (and zero point)
that maps its test files' integers to its float input; `train` imports it (tasks/external.py).

The toolchain (flow=) is a folder behind one interface (toolchains/__init__.py): it says which of
the recipe's models it takes (QKeras or Brevitas) and does the convert stage and the accelerator the
build links; the pipeline names no toolchain.

Gates between stages raise with a message (train: metric vs task.yaml; convert: the toolchain's
emulation vs the trained model, bit-identical or by argmax as the recipe's settings say). A stage
reads its upstream's outputs through the upstream manifest, never by a path convention.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import toolchains
from boards import board as boards
from boards import firmware
from common import provenance as prov
from common.errors import BuildError, ConfigError
from common.paths import build_root
from pipeline.artifacts import StageDir, StageError, json_digest, source_digest
from tasks import SYNTHETIC_MARK, load_recipe

log = logging.getLogger("pipeline")

STAGES = ["data", "train", "convert", "build", "run", "report"]
RUN_MODES = ["performance", "accuracy", "energy"]
DEFAULT_MODES = ["performance", "accuracy"]  # energy needs a power monitor: the simulated one needs timing=modeled
# With modeled timing every inference adds the same modeled time, so a window's throughput is
# exact at any N; calibrating to 10 s of modeled time would take the host minutes per window.
MODELED_ITERATIONS = 1000


@dataclass
class Flow:
    task: str
    board: str
    flow: str = "hls4ml"
    data: str = "auto"  # auto | synthetic | PATH
    dut: str = "emulated"  # emulated | qemu (the board's firmware in QEMU) | a serial port / pyserial URL of a real board
    build_root: Path = field(default_factory=build_root)
    overrides: dict = field(default_factory=dict)  # task.yaml overrides, e.g. {"train.epochs": 2}
    modes: list[str] = field(default_factory=lambda: list(DEFAULT_MODES))
    iterations: int | None = None  # measured inferences per performance window; None: calibrate
    window_seconds: float = 10.0
    resume: bool = False  # the run stage goes on from what an interrupted run left in run.partial
    model: str = "trained"  # trained | another model the recipe offers (e.g. reference) | a QONNX file (.onnx)
    testset: str | None = None  # an EEMBC test folder (<model id>/y_labels.csv + .bin) instead of the data stage's
    input_scale: float | None = None  # a QONNX model's float input = (test file integer - zero point) * input_scale
    input_zero_point: int = 0
    timing: str = "host"  # host: the DUT's own clock | modeled: m-lap-us advances by the modeled board latency

    def __post_init__(self):
        self.toolchain = toolchains.load(self.flow)
        if self.timing not in ("host", "modeled"):
            raise ConfigError(f"timing={self.timing}: choose host (the DUT's own clock) or modeled (the modeled board's time)")
        if self.timing == "modeled" and self.dut not in ("emulated", "qemu"):
            raise ConfigError(f"timing=modeled is for the emulated and QEMU DUTs; dut={self.dut} is timed by its own clock")
        if "energy" in self.modes and self.dut != "emulated":
            raise ConfigError(f"energy mode runs here on the emulated board (its timestamp pin drives a simulated LPM01A); "
                              f"on dut={self.dut} use the runner with a power monitor (python -m runner --mode e --monitor)")
        if "energy" in self.modes and self.timing != "modeled":
            raise ConfigError("energy mode on the emulated board is modeled energy: add timing=modeled (the host's own "
                              "speed says nothing about a board's energy)")
        if self.timing == "modeled" and self.iterations is None:
            self.iterations = MODELED_ITERATIONS
        unknown = sorted(set(self.modes) - set(RUN_MODES))
        if unknown:
            raise ConfigError(f"unknown run mode(s) {unknown}: choose from {', '.join(RUN_MODES)}")
        if self.iterations is not None and self.iterations <= 0:
            raise ConfigError(f"iterations must be > 0, got {self.iterations}")
        self.build_root = Path(self.build_root).resolve()
        self.recipe = load_recipe(self.task, self.overrides)
        self.external = Path(self.model).expanduser().resolve() if self.model.endswith(".onnx") else None
        if self.external:
            self._check_external()
        elif self.model not in self.recipe.models:
            raise ConfigError(f"task {self.task} has no model '{self.model}': choose one of {', '.join(self.recipe.models)}"
                              f", or give a QONNX file (model=path/to/model.onnx)")
        elif self.toolchain.framework == "brevitas" and self.model != "trained":
            raise ConfigError(f"flow={self.flow} takes the recipe's Brevitas model: model={self.model} is a Keras model")
        self.toolchain.check(self.recipe, self.model)
        self.board_cfg = boards.load(self.board)
        self.task_root = self.build_root / self.task
        self.testset_root = eembc_testset(self.testset, self.recipe.model_id) if self.testset else None
        variant = self.flow if self.model == "trained" else f"{self.flow}-{self.model_name}"
        board = self.board if self.testset_root is None else f"{self.board}-{Path(self.testset).resolve().name}"
        self.root = self.task_root / variant / board
        self.stages = [s for s in STAGES if not (s == "data" and self.model != "trained" and self.testset_root)]
        self.data_kind, self.data_path = self.recipe.resolve_data(self.data) if "data" in self.stages else (None, None)

    def _check_external(self) -> None:
        takes = [name for name in toolchains.available() if "qonnx" in toolchains.load(name).imports]
        if "qonnx" not in self.toolchain.imports:
            raise ConfigError(f"flow={self.flow} does not import QONNX files: model={self.model} needs flow={' or '.join(takes)}")
        if not self.external.is_file():
            raise ConfigError(f"model={self.model}: no such file")
        if not hasattr(self.recipe, "external_inputs"):
            raise ConfigError(f"task {self.task} does not take a model file yet: its recipe does not say how its test "
                              f"files' bytes become a model's input integers (external_inputs)")
        if not self.testset:
            raise ConfigError(f"model={self.model} needs its own test folder: testset=PATH (an EEMBC folder, "
                              f"{self.recipe.model_id}/y_labels.csv + .bin files, quantized as the model expects)")
        if self.input_scale is None or not self.input_scale > 0:
            raise ConfigError(f"model={self.model} needs input_scale=S (> 0): its float input is (test file integer - "
                              f"input_zero_point) * S")

    @property
    def model_name(self) -> str:
        """How the model is named in folders and reports: trained, reference, or the model file's stem."""
        return self.external.stem if self.external else self.model

    def model_origin(self) -> str:
        if self.external:
            return f"QONNX model {self.external.name}, imported (input scale {self.input_scale:g}, zero point {self.input_zero_point})"
        return self.recipe.model_origin(self.model)

    def stage_dir(self, name: str) -> StageDir:
        if name == "data":
            return StageDir(name, self.task_root / "data")
        if name == "train":
            return StageDir(name, self.task_root / self.flow / ("train" if self.model == "trained" else self.model_name))
        return StageDir(name, self.root / name)

    def manifest(self, name: str) -> dict:
        m = self.stage_dir(name).manifest()
        if m is None or m.get("status") != "done":
            raise StageError(f"stage '{name}' has not run for {self.task}/{self.flow}/{self.board}: run it first (to={name})")
        return m

    def artifacts(self, name: str) -> dict[str, Path]:
        return self.stage_dir(name).artifacts()

    def eembc(self) -> Path:
        """The dataset root the runner and the checks read: <root>/<model id>/y_labels.csv + .bin files."""
        return self.testset_root or self.artifacts("data")["eembc"]

    def eembc_kind(self) -> str:
        """real | synthetic: what the test files are (a synthetic export carries a SYNTHETIC marker)."""
        if self.testset_root is None:
            return self.manifest("data")["outputs"]["data_kind"]
        return "synthetic" if (self.testset_root / self.recipe.model_id / SYNTHETIC_MARK).exists() else "real"

    def testset_params(self) -> dict:
        """What a stage reading the test folder is keyed by (its content, not only its path)."""
        if self.testset_root is None:
            return {}
        folder = self.testset_root / self.recipe.model_id
        return {"testset": str(folder), "content": sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir())}

    def emulated_dut(self, variant: str = "performance") -> Path:
        return self.artifacts("build")[f"dut_{variant}"]

    def qemu_firmware(self, variant: str = "performance") -> Path:
        built = self.artifacts("build")
        if f"qemu_{variant}" not in built:
            why = self.manifest("build")["outputs"]["skipped"].get(f"{self.board_cfg.processor.name} firmware in QEMU", "")
            raise ConfigError(f"dut=qemu: the build stage made no QEMU firmware for {self.board} ({why})")
        return built[f"qemu_{variant}"]

    def check_dut(self) -> None:
        """A board's port must exist before any stage runs (a URL such as socket:// is tried later)."""
        if self.dut not in ("emulated", "qemu") and "://" not in self.dut and not Path(self.dut).exists():
            raise ConfigError(f"dut={self.dut}: no such serial port (connect the board, or use dut=emulated or dut=qemu)")


def eembc_testset(path: str, model_id: str) -> Path:
    """The dataset root (the folder holding <model id>/) for a test folder given as <root>/<model id> or as <root>."""
    folder = Path(path).expanduser().resolve()
    if folder.name == model_id and (folder / "y_labels.csv").is_file():
        return folder.parent
    if (folder / model_id / "y_labels.csv").is_file():
        return folder
    raise ConfigError(f"testset={path}: not an EEMBC test folder for {model_id}: expected a folder named {model_id} "
                      f"holding y_labels.csv and the .bin files (or the folder above it)")


# ---- the stages --------------------------------------------------------------------------------


def _data_params(f: Flow) -> dict:
    return f.recipe.data_params(f.data_kind, f.data_path)


def _data(f: Flow, out: Path) -> dict:
    return f.recipe.data(f.data_kind, f.data_path, out)


def _train_params(f: Flow) -> dict:
    if f.external:
        from tasks import external

        return {"external": str(f.external), "sha256": external.fingerprint(f.external), "input_scale": f.input_scale,
                "input_zero_point": f.input_zero_point, **f.testset_params()}
    if f.toolchain.framework == "brevitas":
        return f.recipe.brevitas_params()
    return {**f.recipe.train_params(f.model), **(f.testset_params() if f.model != "trained" else {})}


def _train_sources(f: Flow) -> dict:
    if f.external:
        return {"modules": ["tasks.external", f"tasks.{f.task}.recipe"]}
    return {"modules": f.recipe.sources["brevitas" if f.toolchain.framework == "brevitas" else f.model]["modules"]}


def _train(f: Flow, out: Path) -> dict:
    data = f.artifacts("data") if "data" in f.stages else None
    if f.external:
        from tasks import external

        return external.import_qonnx(f.recipe, f.external, f.eembc(), f.eembc_kind(), f.input_scale, f.input_zero_point, out)
    if f.model == "trained":  # gated on its own data's test files, whatever testset= the later stages use
        kind = f.manifest("data")["outputs"]["data_kind"]
        if f.toolchain.framework == "brevitas":
            return f.recipe.train_brevitas(data, data["eembc"], kind, out)
        return f.recipe.train(f.model, data, data["eembc"], kind, out)
    return f.recipe.train(f.model, data, f.eembc(), f.eembc_kind(), out)  # an imported model: on the test folder


def _convert_params(f: Flow) -> dict:
    return {**f.toolchain.convert_params(f.recipe, f.model, f.board_cfg), **f.testset_params()}


def _convert(f: Flow, out: Path) -> dict:
    report = f.toolchain.convert(f.recipe, f.model, f.artifacts("train"), f.eembc(), f.board_cfg, out)
    agreement = f"; {100 * report['argmax_agreement']:.2f}% same argmax" if report["argmax_agreement"] is not None else ""
    log.info("%s emulation vs the trained model: %.2f%% of %d test inputs bit-identical%s", f.flow,
             100 * report["exact_fraction"], report["windows_checked"], agreement)
    return {**report, "artifacts": {"convert": "."}}


def _build_params(f: Flow) -> dict:
    return {"board": f.board_cfg.model_dump(), "input_bytes": f.recipe.input_bytes, "timing": f.timing,
            "qemu": f.dut == "qemu"}


def _build(f: Flow, out: Path) -> dict:
    accel = f.toolchain.accelerator(f.artifacts("convert")["convert"])
    defines = f.recipe.firmware_defines(f.artifacts("train"))
    modeled = None
    if f.timing == "modeled":
        modeled = f.toolchain.latency(f.recipe, f.model, f.artifacts("train"), f.manifest("convert")["outputs"], f.board_cfg)
        if modeled is None:
            raise ConfigError(f"timing=modeled: flow={f.flow} has no latency model for this design (see its latency module)")
        accel.defines.update(EE_TIMING_MODELED=1, EE_MODELED_INFER_NS=round(1000 * modeled["modeled_latency_us"]))
        log.info("build: modeled timing, %.2f us per inference (%s)", modeled["modeled_latency_us"], modeled["what"])
    binaries = firmware.build_emulated(f.board_cfg, f.recipe.firmware_sources, defines, f.recipe.input_bytes, accel, out)
    skipped, vendor = {}, {}
    steps = f.toolchain.vendor_steps(f.board_cfg)
    missing = sorted({tool for tool, _ in steps if shutil.which(tool) is None})
    if missing:  # the vendor steps run in order, all or none
        for tool, what in steps:
            why = f"{tool} not found on PATH" if tool in missing else f"it follows steps that need {', '.join(missing)}"
            skipped[what] = f"skipped: {why}"
            log.warning("build: %s skipped (%s)", what, why)
    elif steps:
        vendor = f.toolchain.vendor_build(f.board_cfg, f.artifacts("convert")["convert"], out)
    qemu, why = _qemu_firmware(f, accel, defines, out) if f.dut == "qemu" else ({}, None)  # built when asked for
    if why:
        skipped[f"{f.board_cfg.processor.name} firmware in QEMU"] = f"skipped: {why}"
        log.warning("build: the %s firmware for QEMU skipped (%s)", f.board_cfg.processor.name, why)
    try:  # what runs on the board itself: the firmware (and the PYNQ Linux program) with the IP's driver
        driver, no_driver = f.toolchain.board_accelerator(f.board_cfg, f.artifacts("convert")["convert"]), None
    except BuildError as e:
        driver, no_driver = None, str(e)
    on_board = {}
    for kind, what, build in (("board", f"{f.board_cfg.processor.name} firmware for the board", _board_firmware),
                              ("linux", "PYNQ Linux program for the board", _linux_program)):
        made, why = build(f, driver, defines, out / kind) if driver else ({}, no_driver)
        if why:
            skipped[what] = f"skipped: {why}"
            log.warning("build: the %s skipped (%s)", what, why)
        on_board.update({f"{kind}_{variant}": str(e.relative_to(out)) for variant, e in made.items()})
    return {"accelerator": accel.name, "skipped": skipped, "modeled_latency": modeled,
            "board_accelerator": driver and driver.name,
            "artifacts": {**{f"dut_{variant}": str(b.relative_to(out)) for variant, b in binaries.items()},
                          **{f"qemu_{variant}": str(e.relative_to(out)) for variant, e in qemu.items()}, **on_board, **vendor}}


def _no_cross_build(b) -> str | None:
    """Why the board's bare-metal firmware cannot be built here, or None."""
    if b.firmware is None:
        return f"board {b.name} describes no bare-metal build"
    compiler, found = firmware.cross_compiler(b)
    if found is None:
        return f"{compiler} not found" + (f" (nor ../shared/{b.processor.toolchain_archive})" if b.processor.toolchain_archive else "")
    return None


def _board_firmware(f: Flow, driver, defines: dict, out: Path) -> tuple[dict[str, Path], str | None]:
    """The board's bare-metal firmware with the driver of the toolchain's IP: ({variant: ELF}, None),
    or ({}, why not)."""
    why = _no_cross_build(f.board_cfg)
    if why:
        return {}, why
    return firmware.build_cross(f.board_cfg, f.recipe.firmware_sources, defines, f.recipe.input_bytes, driver, out,
                                target="board"), None


def _linux_program(f: Flow, driver, defines: dict, out: Path) -> tuple[dict[str, Path], str | None]:
    """The protocol core as a PYNQ Linux program with the driver of the toolchain's IP (boards with
    a Linux image): ({variant: program}, None), ({}, why not), or ({}, None) for other boards."""
    lx = f.board_cfg.linux
    if lx is None:
        return {}, None
    if shutil.which(lx.compiler) is None:
        return {}, f"{lx.compiler} not found on PATH"
    return firmware.build_linux(f.board_cfg, f.recipe.firmware_sources, defines, f.recipe.input_bytes, driver, out), None


def _qemu_firmware(f: Flow, accel, defines: dict, out: Path) -> tuple[dict[str, Path], str | None]:
    """The board's firmware for its QEMU machine, the toolchain's software model behind the
    accelerator interface: ({variant: ELF}, None), or ({}, why not)."""
    b = f.board_cfg
    if b.firmware is None or b.firmware.qemu is None:
        return {}, f"board {b.name} describes no QEMU machine"
    why = _no_cross_build(b)
    if why:
        return {}, why
    if any(s.suffix != ".c" for s in accel.sources):
        return {}, f"the accelerator model ({accel.name}) is C++, and the firmware is built as C"
    return firmware.build_cross(b, f.recipe.firmware_sources, defines, f.recipe.input_bytes, accel, out / "qemu",
                                target="qemu"), None


def _run_params(f: Flow) -> dict:
    return {"dut": f.dut, "timing": f.timing, "modes": f.modes, "iterations": f.iterations, "window_seconds": f.window_seconds,
            **f.testset_params()}


def _run(f: Flow, out: Path) -> dict:
    import contextlib
    import math

    from runner import cli as runner_cli
    from runner.emulated import emulated_dut
    from runner.qemu import qemu_dut

    from runner.monitors import lpm01a, simulated

    data_kind = f.eembc_kind()
    eembc = f.eembc()
    summaries = {}
    # one connection per build and baud rate (performance and accuracy share the performance build)
    groups: dict[tuple[str, int], list[str]] = {}
    for mode in f.modes:
        groups.setdefault(("energy" if mode == "energy" else "performance", getattr(f.board_cfg.uart.baud, mode)), []).append(mode)
    for (variant, baud), modes in groups.items():
        sim = simulated.SimulatedLpm01a(f.board_cfg.power.model_w) if variant == "energy" else None
        iterations = f.iterations
        if f.dut == "emulated":
            context, made = emulated_dut(f.emulated_dut(variant), on_timestamp=sim and sim.pin_falling), prov.emulated
        elif f.dut == "qemu":
            context, made = qemu_dut(f.qemu_firmware(variant), f.board_cfg.firmware.qemu.command), prov.qemu
        else:
            context, made = contextlib.nullcontext(f.dut), prov.board
        if sim:  # modeled energy: at least 1 s of the modeled board's time per trial (1 ms samples: 0.1 % at worst)
            iterations = math.ceil(1e6 / f.manifest("build")["outputs"]["modeled_latency"]["modeled_latency_us"])
        with context as url:
            provenance = made(data=data_kind, model_origin=f.model_origin(), port=url)
            if f.timing == "modeled":
                provenance = provenance.model_copy(update={"timing": "modeled"})
            monitor = lpm01a.Lpm01a(sim.path) if sim else None
            try:
                if monitor:
                    monitor.start()
                summaries.update(runner_cli.run(url, eembc, out, modes, provenance, baud, iterations, 10, f.window_seconds,
                                                resume=f.resume, model_id=f.recipe.model_id, monitor=monitor))
            finally:
                if monitor:
                    monitor.close()
                    sim.close()
    return {**summaries, "flow": {"task": f.task, "flow": f.flow, "board": f.board, "model": f.model},
            "artifacts": {mode: mode for mode in f.modes}}


def _report(f: Flow, out: Path) -> dict:
    from results import report

    table = report.flow_table(f.task, f.flow if f.model == "trained" else f"{f.flow} ({f.model_name} model)", f.board,
                              f.manifest("train")["outputs"], f.manifest("convert")["outputs"], f.manifest("run")["outputs"],
                              f.manifest("build")["outputs"].get("modeled_latency"))
    report.write(table, out)
    print(report.markdown(table))
    log.info("all runs beside the published FPGA results: make report (build/report/index.html)")
    return {"rows": len(table), "artifacts": {"table": "results.md", "csv": "results.csv"}}


# name: (parameters, code it runs: modules / files, upstream stages, work)
STAGE_DEFS = {
    "data": (_data_params, lambda f: {"modules": f.recipe.sources["data"]["modules"]}, [], _data),
    "train": (_train_params, _train_sources, ["data"], _train),
    "convert": (_convert_params, lambda f: {"modules": [*f.toolchain.sources["modules"], f"tasks.{f.task}.recipe"],
                                            "files": f.toolchain.sources["files"]},
                ["train"], _convert),
    "build": (_build_params, lambda f: {"modules": ["boards.firmware", f"tasks.{f.task}.recipe"],
                                        "files": ["boards/common/firmware", "boards/emulated", f"boards/{f.board}",
                                                  *f.recipe.sources["firmware"]["files"], *f.toolchain.board_files]},
              ["convert"], _build),
    "run": (_run_params, lambda f: {"modules": ["runner.cli", "runner.qemu", "runner.monitors.lpm01a",
                                                "runner.monitors.simulated"]}, ["build"], _run),
    "report": (lambda f: {}, lambda f: {"modules": ["results.report"]}, ["run"], _report),
}


def stage_key(f: Flow, name: str) -> tuple[str, dict]:
    params_fn, code, upstream, work = STAGE_DEFS[name]
    inputs = {
        "params": params_fn(f),
        "sources": source_digest(**code(f), functions=[params_fn, work]),
        "upstream": {u: f.manifest(u)["key"] for u in upstream if u in f.stages},
    }
    return json_digest(inputs), inputs


SHARED = {"data": "shared by every flow and board of this task", "train": "shared by every board"}


def run_stages(f: Flow, start: str | None = None, stop: str | None = None, force: bool = False) -> None:
    first = STAGES.index(start) if start else 0
    last = STAGES.index(stop) if stop else len(STAGES) - 1
    if last >= STAGES.index("run"):
        f.check_dut()
    for i, name in enumerate(STAGES):
        if i > last:
            break
        if name not in f.stages:
            log.info("[%s] not needed: model=%s reads the test folder %s", name, f.model, f.testset)
            continue
        stage = f.stage_dir(name)
        note = f" ({SHARED[name]})" if name in SHARED else ""
        if i < first:
            if stage.manifest() is None:
                raise StageError(f"stage '{name}' has never run for {f.task}/{f.flow}/{f.board}: start from it (from={name})")
            log.info("[%s] kept as it is (from=%s)%s", name, start, note)
            continue
        key, inputs = stage_key(f, name)
        if not force and stage.is_current(key):
            log.info("[%s] up to date, skipped%s", name, note)
            continue
        log.info("[%s] running -> %s", name, stage.path)
        m = stage.run(key, inputs, lambda out, n=name: STAGE_DEFS[n][3](f, out), keep_partial=f.resume and name == "run")
        log.info("[%s] done in %.1f s", name, m["seconds"])
