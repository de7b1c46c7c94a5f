"""What a user asked for (task, board, flow, model, data, DUT, timing, modes), checked before any
stage runs, and where its stages read and write (pipeline/layout.py). A bad combination is a
ConfigError with a one-line message; nothing is built for it.

A recipe may offer other models than the one it trains (model=reference: the MLPerf pretrained
model, imported where `train` would train), and any EEMBC test folder may replace the data stage's
(testset=PATH). A reference model with its own test folder needs no data stage at all. A model file
brought from elsewhere (model=path/to/model.onnx, QONNX, for the toolchains that import it) comes
with its own test folder and the scale (and zero point) that maps its test files' integers to its
float input; `train` imports it (frameworks/qonnx_import.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import toolchains
from boards import board as boards
from common.errors import ConfigError
from common.paths import build_root
from common.provenance import DataKind
from pipeline.artifacts import StageDir, StageError
from pipeline.layout import STAGES, eembc_testset, flow_root, stage_path
from tasks import SYNTHETIC_MARK, load_recipe

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
        self.port: str | None = None  # dut=usb: the port check_dut found
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
        elif self.model == "reference" and self.toolchain.framework not in self.recipe.reference_frameworks:
            takes = [name for name in toolchains.available()
                     if toolchains.load(name).framework in self.recipe.reference_frameworks]
            raise ConfigError(f"task {self.task} has no reference model for flow={self.flow} (its reference takes "
                              f"flow={' or '.join(takes) or 'none'})")
        elif self.toolchain.framework == "brevitas" and self.model not in ("trained", "reference"):
            raise ConfigError(f"flow={self.flow} takes the recipe's Brevitas model: model={self.model} is a Keras model")
        self.toolchain.check(self.recipe, self.model)
        self.board_cfg = boards.load(self.board)
        self.task_root = self.build_root / self.task
        self.testset_root = eembc_testset(self.testset, self.recipe.model_id) if self.testset else None
        self.root = flow_root(self.task_root, self.flow, self.model, self.model_name, self.board, self.testset)
        # with a test folder of its own a model needs no data stage, unless it is a reference whose types are
        # calibrated on the data stage's calibration set (tasks/calibration.py)
        calibrated = self.model == "reference" and self.toolchain.framework in self.recipe.calibrated_frameworks
        self.stages = [s for s in STAGES if not (s == "data" and self.model != "trained" and self.testset_root
                                                  and not calibrated)]
        self.data_kind: str | None = None
        self.data_path: Path | None = None
        if "data" in self.stages:
            self.data_kind, self.data_path = self.recipe.resolve_data(self.data)

    def _check_external(self) -> None:
        takes = [name for name in toolchains.available() if "qonnx" in toolchains.load(name).imports]
        if "qonnx" not in self.toolchain.imports:
            raise ConfigError(f"flow={self.flow} does not import QONNX files: model={self.model} needs flow={' or '.join(takes)}")
        if self.external is None or not self.external.is_file():
            raise ConfigError(f"model={self.model}: no such file")
        if not self.recipe.imports_models:
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
            return (f"QONNX model {self.external.name}, imported "
                    f"(input scale {self.input_scale:g}, zero point {self.input_zero_point})")
        return self.recipe.model_origin(self.model, self.toolchain.framework)

    def stage_dir(self, name: str) -> StageDir:
        return StageDir(name, stage_path(name, self.task_root, self.flow, self.model, self.model_name, self.root))

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

    def eembc_kind(self) -> DataKind:
        """real | synthetic: what the test files are (a synthetic export carries a SYNTHETIC marker)."""
        if self.testset_root is None:
            return self.manifest("data")["outputs"]["data_kind"]
        return "synthetic" if (self.testset_root / self.recipe.model_id / SYNTHETIC_MARK).exists() else "real"

    def testset_params(self) -> dict:
        """What a stage reading the test folder is keyed by (its content, not only its path)."""
        if self.testset_root is None:
            return {}
        folder = self.testset_root / self.recipe.model_id
        return {"testset": str(folder),
                "content": sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir())}

    def emulated_dut(self, variant: str = "performance") -> Path:
        return self.artifacts("build")[f"dut_{variant}"]

    def qemu_firmware(self, variant: str = "performance") -> Path:
        built = self.artifacts("build")
        if f"qemu_{variant}" not in built:
            why = self.manifest("build")["outputs"]["skipped"].get(f"{self.board_cfg.processor.name} firmware in QEMU", "")
            raise ConfigError(f"dut=qemu: the build stage made no QEMU firmware for {self.board} ({why})")
        return built[f"qemu_{variant}"]

    def board_port(self, ports=None) -> str:
        """dut=usb: the board's UART among the connected ports, by board.yaml's USB id and interface
        (uart.usb, uart.usb_interface: a Pynq-Z2's or Arty's FT2232H shows two ports with one id, JTAG
        and UART), confirmed by the name its firmware reports (runner/devices.py). `ports`: pyserial's
        listing to search instead of the connected ports."""
        import logging

        from runner import devices

        uart = self.board_cfg.uart
        if uart.usb is None:
            raise ConfigError(f"dut=usb: boards/{self.board}/board.yaml names no uart.usb (VID:PID): give the port (dut=PORT)")
        entry = devices.board_dut(self.board, uart.usb, uart.usb_interface, self.board_cfg.vendor_name, uart.baud.model_dump())
        port, _ = devices.find_port(entry, "performance", f"boards/{self.board}/board.yaml",
                                    logging.getLogger("pipeline").info, ports)
        return port

    def check_dut(self) -> None:
        """A board's port must exist before any stage runs (a URL such as socket:// is tried later);
        dut=usb finds it (board_port) and keeps it for the run stage."""
        if self.dut == "usb":
            self.port = self.board_port()
            return
        if self.dut not in ("emulated", "qemu") and "://" not in self.dut and not Path(self.dut).exists():
            raise ConfigError(f"dut={self.dut}: no such serial port (connect the board, or use dut=emulated or dut=qemu)")
