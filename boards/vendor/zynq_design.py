"""Our own Zynq-7000 design around the accelerator IP, for a Zynq board no toolchain has a shell for
(board.yaml vivado.zynq_system; boards/common/zynq7000/vivado/block_design.tcl): its arguments
from board.yaml (part, board files, the clocks the firmware counts in, its UART, the timestamp pin,
the DMA's address; the IP's ports), the files it writes, and the address map Vivado assigned
checked against the firmware's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from boards.board import BOARDS_DIR, Board, ZynqSystem
from boards.vendor.board_values import define, defines
from boards.vendor.ip import BlockDesignIp
from boards.vendor.microblaze_design import DEFAULT_DMA_BASE
from boards.vendor.steps import Step, address_range, hexa, tcl_list, tclargs, vivado_batch
from common.errors import BuildError, ConfigError

DESIGN = "zynq_system"
SCRIPT = BOARDS_DIR / "common" / "zynq7000" / "vivado" / "block_design.tcl"
UART_BASES = {0: 0xE0000000, 1: 0xE0001000}  # the PS UARTs (Zynq TRM, appendix B.33)


def zynq_system(board: Board) -> ZynqSystem:
    if board.vivado.zynq_system is None:
        raise ConfigError(f"board {board.name} has no Zynq design of ours (board.yaml vivado.zynq_system)")
    return board.vivado.zynq_system


@dataclass(frozen=True)
class DesignFiles:
    """What block_design.tcl writes: the bitstream, the hardware platform (with the bitstream and
    ps7_init), the address map as assigned."""

    folder: Path
    name: str

    bit = property(lambda self: self.folder / f"{self.name}.bit")
    xsa = property(lambda self: self.folder / f"{self.name}.xsa")
    addresses = property(lambda self: self.folder / "addresses.txt")


def design_files(out_dir: Path, energy: bool = False) -> DesignFiles:
    return DesignFiles(out_dir, DESIGN + ("_energy" if energy else ""))


def block_design_values(board: Board, ip: BlockDesignIp, out_dir: Path, energy: bool = False) -> dict[str, object]:
    """The -tclargs of the Zynq block_design.tcl, by name: the PS's clocks are the firmware's (the A9
    global timer counts at half the CPU clock: GTIMER_HZ), its UART the one at ZYNQ_UART_BASE."""
    ours, values = zynq_system(board), defines(board)
    baud = board.uart.baud
    if not energy and baud.performance != baud.accuracy:
        raise ConfigError(f"board {board.name}: one bitstream serves performance and accuracy mode, but board.yaml "
                          f"uart.baud gives them {baud.performance} and {baud.accuracy}")
    if define(values, "ZYNQ_UART_BASE", board) != UART_BASES[ours.uart]:
        raise ConfigError(f"board {board.name}: vivado.zynq_system.uart is UART{ours.uart} ({hexa(UART_BASES[ours.uart])}) but "
                          f"the firmware drives ZYNQ_UART_BASE {hexa(values['ZYNQ_UART_BASE'])}")
    out = {
        "out_dir": out_dir, "name": DESIGN + ("_energy" if energy else ""), "part": board.part,
        "board_part": board.vivado.board_part, "ip_repos": tcl_list(ip.repos), "ip_vlnv": ip.vlnv,
        "ip_stream_in": ip.stream_in, "ip_stream_out": ip.stream_out, "ip_clock": ip.clock, "ip_reset": ip.reset,
        "last_after": ip.last_after, "fabric_hz": round(board.fabric_clock_mhz * 1e6),
        "cpu_hz": 2 * define(values, "GTIMER_HZ", board), "uart": ours.uart,
        "uart_ref_hz": define(values, "UART_REF_HZ", board),
        "uart_pins": "pmod" if energy and ours.pins is not None else "board",
        "timestamp_mio": define(values, "TIMESTAMP_MIO_PIN", board),
        "dma_base": hexa(values.get("ACCEL_DMA_BASE", DEFAULT_DMA_BASE)),
    }
    if energy and ours.pins is not None:
        out.update(energy_uart_tx=ours.pins.energy_uart_tx, energy_uart_rx=ours.pins.energy_uart_rx)
    return out


def block_design_step(board: Board, ip: BlockDesignIp, out_dir: Path, energy: bool = False) -> Step:
    return vivado_batch(SCRIPT, tclargs(block_design_values(board, ip, out_dir, energy)),
                        f"the {board.name} Zynq design and bitstream{' (energy)' if energy else ''}", out_dir / "vivado.log")


def check_addresses(report: Path, board: Board) -> None:
    """The AXI DMA's registers where the firmware drives them, in the PS's data space (the address
    map block_design.tcl writes: space, offset, range, segment per line); a BuildError otherwise."""
    want = (defines(board).get("ACCEL_DMA_BASE", DEFAULT_DMA_BASE), 64 * 1024)
    found = set()
    for line in report.read_text().splitlines():
        space, offset, size, segment = line.split(maxsplit=3)
        if space.endswith("/Data") and "SEG_axi_dma_0_" in segment:
            found.add((int(offset, 0), address_range(size)))
    if found != {want}:
        shown = ", ".join(f"{hexa(b)} +{n:#x}" for b, n in sorted(found)) or "none"
        raise BuildError(f"the Zynq design's address map differs from the firmware's ({report}):\n  "
                         f"axi_dma_0: firmware {hexa(want[0])} +{want[1]:#x}, design {shown}")

