"""A board is data: boards/<name>/board.yaml, validated here on load (the LiteX-boards idea)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from common.config import Strict as _Strict
from common.config import load_yaml
from common.errors import ConfigError

BOARDS_DIR = Path(__file__).resolve().parent


class Processor(_Strict):
    name: str  # e.g. "ARM Cortex-A9 (Zynq PS)"
    isa: Literal["arm", "microblaze"]  # which HAL and cross compiler
    clock_mhz: float = Field(gt=0)
    cross_compiler: str  # e.g. arm-none-eabi-gcc
    toolchain_archive: str | None = None  # a prebuilt toolchain under ../shared, unpacked where the compiler is not on PATH
    qemu_machine: str | None = None  # QEMU machine that runs this processor's firmware


class Baud(_Strict):
    """DUT baud rate per runner mode (docs/mlperf-tiny.md 2.1): energy mode talks through the interface board."""

    performance: int = Field(gt=0)
    accuracy: int = Field(gt=0)
    energy: int = Field(gt=0)


class Uart(_Strict):
    device: str
    baud: Baud
    usb: str | None = Field(None, pattern=r"^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$")  # VID:PID of the USB-UART bridge
    # its USB interface carrying the UART, where the bridge has several with one VID:PID (runner/devices.py)
    usb_interface: int | None = Field(None, ge=0)


class Timer(_Strict):
    device: str
    resolution_us: float = Field(gt=0)


class TimestampGpio(_Strict):
    pin: str
    idle: Literal["high"] = "high"  # the runners detect a falling edge (docs/mlperf-tiny.md 2.6)
    hold_us: int = Field(ge=50)  # the EEMBC runner filters pulses shorter than 50 us


class Resources(_Strict):
    """The device's budget (datasheet figures): what a design must fit in."""

    lut: int = Field(gt=0)
    ff: int = Field(gt=0)
    bram36: float = Field(gt=0)
    dsp: int = Field(ge=0)


class Power(_Strict):
    method: str
    supply: str
    monitor: str
    model_w: float = Field(gt=0)  # the board's power while running, for modeled energy (the simulated monitor)
    model_basis: str = Field(min_length=1)  # where model_w comes from


class CallOverhead(_Strict):
    """The CPU's time per accelerator call around the accelerator's own latency (cache maintenance,
    starting the data movers, polling for done): a documented model, added to a toolchain's
    modeled latency to give the board's modeled time per inference."""

    us: float = Field(ge=0)
    basis: str = Field(min_length=1)  # where the figure comes from


class Qemu(_Strict):
    """How QEMU runs the firmware: the command (machine, memory) before the harness adds the
    serial link and -kernel, and the defines a QEMU build changes (its peripherals' addresses and clocks)."""

    command: list[str] = Field(min_length=1)
    defines: dict[str, int | str] = {}


class Firmware(_Strict):
    """The bare-metal build for the board's processor: its sources (boards/<name>/firmware/, or the
    folder `folder` names, e.g. a HAL shared by the boards of one processor family), linker script,
    compiler and linker flags, and the peripheral addresses and clocks as defines."""

    folder: str | None = None  # under boards/, e.g. common/zynq7000/firmware; None: <name>/firmware
    sources: list[str] = Field(min_length=1)
    linker_script: str
    cflags: list[str] = []
    ldflags: list[str] = []
    defines: dict[str, int | str] = {}
    stub_libraries: list[str] = []  # libraries the compiler's specs link that bare metal has no use for: empty ones
    qemu: Qemu | None = None


class Linux(_Strict):
    """The protocol core as a Linux program for a board's OS image (boards/<name>/linux/)."""

    sources: list[str] = Field(min_length=1)
    compiler: str
    cflags: list[str] = []
    qemu_user: str | None = None  # QEMU user-mode emulator that runs it on the host


class Flash(_Strict):
    """The configuration flash as our block design uses it: the bitstream from offset 0 and the
    firmware image at image_offset, which the bootloader reads as memory (AXI Quad SPI, XIP mode)."""

    cfgmem_part: str  # Vivado's name for the flash part (write_cfgmem, create_hw_cfgmem)
    size_mb: int = Field(gt=0)
    regs_base: int  # the AXI Quad SPI's registers
    xip_base: int  # the flash, read as memory
    image_offset: int = Field(gt=0)  # the firmware image, after the bitstream
    qemu_xip_base: int | None = None  # where the board's QEMU machine maps a flash (the bootloader runs there too)


class SystemPins(_Strict):
    """Package pins of the design's own ports (the board files name the rest)."""

    timestamp: str  # the energy-mode timestamp output
    energy_uart_tx: str  # the energy design's UART, to the interface board
    energy_uart_rx: str


class System(_Strict):
    """Our own processor system for a board no toolchain has a shell for (boards/<name>/vivado/)."""

    local_memory_kb: Literal[8, 16, 32, 64, 128]  # LMB BRAM at 0x0, the sizes Vivado's automation offers
    ddr_bytes: int = Field(gt=0)  # mapped at the firmware's DDR_BASE
    flash: Flash
    pins: SystemPins


class ZynqPins(_Strict):
    """Package pins of the Zynq design's own ports (the board files and the PS preset name the rest)."""

    energy_uart_tx: str  # the energy design's PS UART, through EMIO to these pins (a Pmod), to the interface board
    energy_uart_rx: str


class ZynqSystem(_Strict):
    """Our own Zynq-7000 design for a board no toolchain has a Zynq shell for
    (boards/common/zynq7000/vivado/block_design.tcl): the PS as the board files' preset sets it up
    (DDR, MIO), with the clocks and the UART the firmware is built for, and an AXI DMA between DDR
    and the accelerator's streams."""

    uart: Literal[0, 1]  # the PS UART the firmware drives (firmware.defines ZYNQ_UART_BASE)
    # the energy design's UART through EMIO to these pins; None: it stays on its MIO pins (a header the
    # interface board reaches, as the Pynq-Z2's J13 beside its FTDI chip)
    pins: ZynqPins | None = None


class Vivado(_Strict):
    """What the vendor tools call the board."""

    board_part: str  # Vivado's board part (board files), e.g. tul.com.tw:pynq-z2:part0:1.0
    finn_board: str | None = None  # FINN's name for a board with a FINN shell (the Zynq shell), else stitched IP only
    system: System | None = None  # our block design around the accelerator (boards/vendor/), where no toolchain has one
    zynq_system: ZynqSystem | None = None  # our Zynq design around the accelerator, where no toolchain has one
    # how the board is programmed: a kind of plan, boards/vendor/plans/<plan>.py, for every flow or per
    # flow ({flow: kind}: a toolchain's own shell for one flow, our design for another); None: not yet
    plan: str | dict[str, str] | None = None

    @field_validator("plan")
    @classmethod
    def _known_plan(cls, plan: str | dict[str, str] | None) -> str | dict[str, str] | None:
        kinds = sorted(p.stem for p in (BOARDS_DIR / "vendor" / "plans").glob("*.py") if p.stem != "__init__")
        for kind in ([] if plan is None else [plan] if isinstance(plan, str) else plan.values()):
            if kind not in kinds:
                raise ValueError(f"no programming plan of kind '{kind}' (boards/vendor/plans/): choose one of {', '.join(kinds)}")
        return plan

    def plan_for(self, flow: str | None) -> str | None:
        """The kind of plan that programs the board with a build of `flow` (None: no plan)."""
        if not isinstance(self.plan, dict):
            return self.plan
        if flow not in self.plan:
            raise ValueError(f"board.yaml vivado.plan names a plan for the flows {', '.join(sorted(self.plan))}, not for "
                             f"{flow or 'an unnamed flow'}")
        return self.plan[flow]


class Board(_Strict):
    name: str
    title: str
    part: str  # Xilinx part number handed to hls4ml / FINN / Vivado
    resources: Resources
    fabric_clock_mhz: float = Field(gt=0)
    vendor_name: str  # reported by the DUT's `name` command
    processor: Processor
    uart: Uart
    timer: Timer
    timestamp_gpio: TimestampGpio
    power: Power
    memory: str
    call_overhead: CallOverhead
    vivado: Vivado
    # where the block designs put the accelerator's data movers (AXI-lite bases), as defines for
    # every build that drives the IP: bare metal and PYNQ Linux alike
    fabric_addresses: dict[str, int] = {}
    firmware: Firmware | None = None  # None: no bare-metal build for this board yet
    linux: Linux | None = None  # None: no Linux build for this board

    @property
    def folder(self) -> Path:
        return BOARDS_DIR / self.name

    @property
    def firmware_folder(self) -> Path:
        """Where the bare-metal sources are (board.yaml firmware.folder, else boards/<name>/firmware)."""
        folder = self.firmware.folder if self.firmware else None
        return BOARDS_DIR / folder if folder else self.folder / "firmware"

    @model_validator(mode="after")
    def _firmware_sources_exist(self) -> Board:
        if self.firmware is not None:
            here = self.firmware_folder
            missing = [name for name in (*self.firmware.sources, self.firmware.linker_script) if not (here / name).is_file()]
            if missing:
                raise ValueError(f"firmware: {', '.join(missing)} not found in {here} (firmware.folder, sources, linker_script)")
        return self

    @property
    def clock_period_ns(self) -> float:
        return 1000.0 / self.fabric_clock_mhz


def available() -> list[str]:
    return sorted(p.parent.name for p in BOARDS_DIR.glob("*/board.yaml"))


def load(name: str, path: Path | None = None) -> Board:
    """The board called `name` (boards/<name>/board.yaml), or the description at `path`."""
    if path is None:
        path = BOARDS_DIR / name / "board.yaml"
        if not path.is_file():
            raise ConfigError(f"unknown board '{name}': choose one of {', '.join(available())}")
    return load_yaml(path, Board, what="board description")
