"""A board is data: boards/<name>/board.yaml, validated here on load (the LiteX-boards idea)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

BOARDS_DIR = Path(__file__).resolve().parent


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Processor(_Strict):
    name: str  # e.g. "ARM Cortex-A9 (Zynq PS)"
    isa: str  # arm | microblaze: which HAL and cross compiler
    clock_mhz: float = Field(gt=0)
    qemu_machine: str | None = None  # QEMU machine that runs this processor's firmware


class Uart(_Strict):
    device: str
    baud: dict[str, int]  # per runner mode: performance, accuracy, energy
    usb: str | None = None  # VID:PID of the board's USB-UART bridge


class Timer(_Strict):
    device: str
    resolution_us: float = Field(gt=0)


class TimestampGpio(_Strict):
    pin: str
    idle: str = "high"
    hold_us: int = Field(ge=1)


class Power(_Strict):
    method: str
    supply: str
    monitor: str


class Board(_Strict):
    name: str
    title: str
    part: str  # Xilinx part number handed to hls4ml / FINN / Vivado
    fabric_clock_mhz: float = Field(gt=0)
    vendor_name: str  # reported by the DUT's `name` command
    processor: Processor
    uart: Uart
    timer: Timer
    timestamp_gpio: TimestampGpio
    power: Power
    memory: str

    @property
    def clock_period_ns(self) -> float:
        return 1000.0 / self.fabric_clock_mhz


def available() -> list[str]:
    return sorted(p.parent.name for p in BOARDS_DIR.glob("*/board.yaml"))


def load(name: str) -> Board:
    path = BOARDS_DIR / name / "board.yaml"
    if not path.is_file():
        raise SystemExit(f"unknown board '{name}': choose one of {', '.join(available())}")
    try:
        return Board.model_validate(yaml.safe_load(path.read_text()))
    except ValidationError as e:
        raise SystemExit(f"{path}: invalid board description:\n{e}") from None
