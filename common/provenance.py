"""What a number was made from, recorded as data by whoever launched the run (the pipeline, or a
user of the runner's command line), corrected by what the DUT's firmware reports it is (its
`profile`: an emulation or QEMU says so; runner/dut.py Identity), and read back by every report and
export. Nothing is inferred from a DUT's name: a DUT launched as an emulation stays labelled
emulated whatever it calls itself."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

# How the runner reached the DUT.
Link = Literal["host-emulation", "qemu", "board"]
# Where the DUT's m-lap-us time comes from.
Timing = Literal["host-clock", "modeled", "board-timer"]
DataKind = Literal["real", "synthetic"]

LINK_TEXT = {
    "host-emulation": "emulated DUT (host build of the firmware, bit-accurate model on the host CPU)",
    "qemu": "emulation: firmware in QEMU (real instruction set, software model behind the accelerator interface)",
    "board": "measured on hardware",
}
TIMING_TEXT = {
    "host-clock": "host CPU time, not FPGA speed",
    "modeled": "modeled board timing",
    "board-timer": "board timer",
}


class Provenance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    link: Link
    timing: Timing
    data: DataKind | None = None  # None: the launcher did not say (a bare runner run on a user's files)
    model_origin: str | None = None  # e.g. "QKeras, trained here"; "MLPerf reference"
    port: str | None = None

    @property
    def measured(self) -> bool:
        """True only for a physical board timed by its own timer: the one kind a submission may use."""
        return self.link == "board" and self.timing == "board-timer"

    @property
    def where(self) -> str:
        return {"host-emulation": "emulated DUT", "qemu": "QEMU DUT", "board": "hardware"}[self.link]

    def describe(self) -> str:
        return f"{LINK_TEXT[self.link]}; time: {TIMING_TEXT[self.timing]}"


def emulated(data: DataKind | None = None, model_origin: str | None = None, port: str | None = None) -> Provenance:
    return Provenance(link="host-emulation", timing="host-clock", data=data, model_origin=model_origin, port=port)


def qemu(data: DataKind | None = None, model_origin: str | None = None, port: str | None = None) -> Provenance:
    """The board's firmware on its instruction set in QEMU; its timer follows QEMU's virtual clock (host-paced)."""
    return Provenance(link="qemu", timing="host-clock", data=data, model_origin=model_origin, port=port)


def board(port: str, data: DataKind | None = None, model_origin: str | None = None) -> Provenance:
    return Provenance(link="board", timing="board-timer", data=data, model_origin=model_origin, port=port)
