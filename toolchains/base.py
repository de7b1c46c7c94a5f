"""The toolchain interface: what the pipeline and the boards ask of a toolchain (hls4ml's idea of
backends behind one interface). A toolchain is a folder, toolchains/<name>/toolchain.py, whose
`Toolchain` subclasses `ToolchainBase`; the pipeline and boards name no toolchain.

What a toolchain gives the firmware is an `Accelerator`: C sources and headers behind the firmware's
accel.h (boards/common/firmware/accel.h), with the I/O words described by a generated accel_model.h
(`write_accel_model`)."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from common.cheader import write_header
from common.errors import FitError

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # only types: a toolchain takes a recipe and a board, and imports neither layer
    from typing import Protocol

    class Board(Protocol):
        """What a toolchain reads of a board description (boards/board.py Board)."""

        @property
        def name(self) -> str: ...
        @property
        def part(self) -> str: ...
        @property
        def clock_period_ns(self) -> float: ...
        @property
        def fabric_clock_mhz(self) -> float: ...
        @property
        def vivado(self) -> Any: ...

    Recipe = Any


@dataclass
class Accelerator:
    """What a toolchain (or the protocol tests' stub) links behind accel.h: sources and include
    folders (one holds the generated accel_model.h), defines, a header force-included before its
    C++ sources, data folders the binary reads at run time (copied beside it), and the firmware's
    own drivers it needs by name (`firmware_drivers`: e.g. "axi_dma" for boards/common/firmware/axi_dma.c;
    the board build adds them, so a toolchain needs no path into boards/)."""

    name: str
    sources: list[Path]
    includes: list[Path]
    defines: dict[str, Any] = field(default_factory=dict)
    cxx_prelude: Path | None = None
    data: dict[str, Path] = field(default_factory=dict)
    firmware_drivers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AcceleratorIp:
    """The accelerator IP a toolchain's vendor build made, as it declares it for a block design of
    the board's own (boards/vendor/: the MicroBlaze system around the IP). The board reads the rest
    from the IP's own IP-XACT description: its VLNV, its one AXI-stream input and one output (and
    whether each has TLAST), clock and reset; Vivado reads the stream widths from the IP.

    component: the IP's IP-XACT description (component.xml).
    repos: the IP repositories Vivado needs for it, the IP's own first (then those of its parts,
        e.g. the layers a stitched IP instantiates); a folder that is gone is left out.
    output_words: the words of one inference's output, for an output stream without TLAST (the
        block design marks every output_words-th word as the last); None where the stream has
        TLAST, or where the toolchain cannot tell (the board then refuses an output without TLAST).
    """

    component: Path
    repos: list[Path]
    output_words: int | None = None


@dataclass(frozen=True)
class ShellDesign:
    """A design a toolchain's vendor build implemented for a board it has a Zynq shell of its own
    for (the PS, the data movers and the IP): the bitstream, and the Vivado project that implemented
    it, from which the board's steps export the hardware platform (XSA) for the FSBL and ps7_init.

    bitstream: the .bit file.
    project: the implemented Vivado project (.xpr); None where it cannot be found, with
        why_no_project saying why (the bitstream alone still programs a board whose XSA exists).
    """

    bitstream: Path
    project: Path | None
    why_no_project: str = ""


def write_accel_model(path: Path, n_in: int, n_out: int, in_width: int, in_frac: int, out_width: int, out_frac: int,
                      top: str | None = None, stream: bool = False) -> None:
    """accel_model.h: the accelerator's I/O words as the firmware sees them (boards/common/firmware/accel.h);
    ACCEL_IO_STREAM says the words cross as AXI-stream packets rather than as one array."""
    defines: dict[str, int | float | str] = {
        "ACCEL_N_IN": n_in, "ACCEL_N_OUT": n_out, "ACCEL_IN_WIDTH": in_width, "ACCEL_IN_FRAC": in_frac,
        "ACCEL_OUT_WIDTH": out_width, "ACCEL_OUT_FRAC": out_frac, "ACCEL_IO_STREAM": int(stream)}
    if top:
        defines["ACCEL_TOP"] = top
    write_header(path, "ACCEL_MODEL_H", defines)


def fit_gate(flow: str, over: str | None, estimates: dict, gate: str, checked: bool = True) -> dict:
    """A convert stage's resource-fit gate (the recipe's `<flow>.fit`): refuse stops with what is over the
    board (`over`, with the numbers); warn logs it and goes on, so the emulation still measures what a
    design too large for the part computes. Returns the estimates with the verdict: fits (None where no
    board was checked), fit_gate, and over_budget when over."""
    if over and gate == "refuse":
        raise FitError(over, estimates)
    if over:
        log.warning("%s: %s (%s.fit: warn, so the flow goes on)", flow, over, flow)
    return {**estimates, "fits": (over is None) if checked else None, "fit_gate": gate, **({"over_budget": over} if over else {})}


class ToolchainBase(ABC):
    """One toolchain, chosen by flow=<name>. Every member is used by the pipeline or the boards."""

    #: the folder name, flow=<name>
    name: ClassVar[str]
    #: which of a recipe's models it takes: "qkeras" (Recipe.train) or "brevitas" (Recipe.train_brevitas)
    framework: ClassVar[str]
    #: model file formats it takes as model=FILE besides the recipe's models, e.g. ("qonnx",)
    imports: ClassVar[tuple[str, ...]] = ()
    #: the code its convert stage runs: {"modules": [...], "files": [...]} (the stage key follows it)
    sources: ClassVar[Mapping[str, list[str]]]
    #: the sources of its board driver (they key the build stage)
    board_files: ClassVar[list[str]] = []

    @abstractmethod
    def check(self, recipe: Recipe, model: str) -> None:
        """Raise a ConfigError before any stage runs when this toolchain cannot take the recipe's
        model (including settings in task.yaml it cannot read)."""

    @abstractmethod
    def convert_params(self, recipe: Recipe, model: str, board: Board) -> dict:
        """What the convert stage is keyed by, besides code and the trained model."""

    @abstractmethod
    def convert(self, recipe: Recipe, model: str, trained: dict[str, Path], eembc: Path, board: Board, out: Path) -> dict:
        """Convert, emulate bit-accurately, check against the framework on every test input, write the
        project into `out`; returns a report with exact_fraction, argmax_agreement, windows_checked
        (and whatever the toolchain adds, e.g. estimates)."""

    @abstractmethod
    def accelerator(self, convert_dir: Path) -> Accelerator:
        """The software model the emulated board links."""

    def qemu_accelerator(self, convert_dir: Path) -> Accelerator:
        """The software model the board's bare-metal firmware links for its QEMU machine (dut=qemu):
        cross-compiled, with no file system to read data folders from (`Accelerator.data` is not
        copied) and, for C++, the standard library's headers only (boards/firmware.py build_cross).
        By default the emulated board's (`accelerator`); a toolchain whose model reads files at
        run time gives its bare-metal form. Raises a BuildError saying why when there is none."""
        return self.accelerator(convert_dir)

    @abstractmethod
    def board_accelerator(self, board: Board, convert_dir: Path) -> Accelerator:
        """The C driver of the toolchain's IP that the board's firmware links; raises a BuildError
        saying why when there is none for this design."""

    @abstractmethod
    def latency(self, recipe: Recipe, model: str, trained: dict[str, Path], converted: dict, board: Board) -> dict | None:
        """The modeled time per inference on the board (accelerator + the board's call overhead), as
        {"modeled_latency_us", "what", ...}; None: this design has no latency model."""

    @abstractmethod
    def vendor_steps(self, board: Board) -> list[tuple[str, str]]:
        """[(tool, what)]: the steps that need vendor tools, in order (skipped, named, where a tool
        is not on PATH)."""

    @abstractmethod
    def vendor_build(self, board: Board, convert_dir: Path, out: Path) -> dict[str, str]:
        """Run the vendor steps where every tool is there; returns {artifact name: path under out}."""

    @abstractmethod
    def vendor_ip(self, board: Board, vendor_artifacts: Mapping[str, Path], convert_dir: Path | None) -> AcceleratorIp:
        """The accelerator IP that vendor_build made for `board` (its artifacts, as absolute paths;
        the convert stage's folder, or None where it is not known), declared for the board's own
        block design; raises a BuildError saying why when the build made none."""

    @abstractmethod
    def vendor_shell(self, board: Board, vendor_artifacts: Mapping[str, Path], convert_dir: Path | None) -> ShellDesign:
        """The design that vendor_build implemented for `board` in the toolchain's own Zynq shell
        (board.yaml vivado names the board for it); raises a BuildError saying why when the build
        made none (no shell for this board, or the vendor tools were not there)."""
