"""The MicroBlaze block design of ours around the accelerator IP (the Arty A7's
boards/<board>/vivado/block_design.tcl): its arguments from board.yaml (part, clock, the firmware's
addresses, flash, pins; the IP's ports), the files it writes, and the address map Vivado assigned
checked against the firmware's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from boards.board import Board
from boards.vendor.board_values import define, defines, system
from boards.vendor.ip import BlockDesignIp
from boards.vendor.steps import Step, address_range, hexa, tcl_list, tclargs, vivado_batch
from common.errors import BuildError, ConfigError

DESIGN = "mb_system"  # the block design's name: its wrapper instance holds the MicroBlaze for updatemem
MICROBLAZE = "microblaze_0"
DEFAULT_DMA_BASE = 0x41E00000  # Vivado's first AXI DMA address, where fabric_addresses does not say

# firmware cflags -> the MicroBlaze parameters the code needs in hardware
MICROBLAZE_OPTIONS = {
    "-mxl-barrel-shift": ("C_USE_BARREL", 1),
    "-mno-xl-soft-mul": ("C_USE_HW_MUL", 1),
    "-mxl-multiply-high": ("C_USE_HW_MUL", 2),
    "-mxl-pattern-compare": ("C_USE_PCMP_INSTR", 1),
    "-mno-xl-soft-div": ("C_USE_DIV", 1),
    "-mxl-reorder": ("C_USE_REORDER_INSTR", 1),
    "-mhard-float": ("C_USE_FPU", 1),  # single-precision add, subtract, multiply, divide, compare
    "-mxl-float-convert": ("C_USE_FPU", 2),  # and conversions (flt, fint): the extended FPU
    "-mxl-float-sqrt": ("C_USE_FPU", 2),
}
CACHE_BYTES = (2048, 4096, 8192, 16384, 32768, 65536)  # MicroBlaze cache sizes Vivado offers (C_CACHE_BYTE_SIZE)
CACHE_LINE_BYTES = (16, 32, 64)  # C_DCACHE_LINE_LEN of 4, 8 or 16 words
SPI_MEMORY = {"s25fl": 3, "mt25q": 2, "n25q": 2}  # AXI Quad SPI C_SPI_MEMORY by flash family: Spansion, Micron


def microblaze_config(board: Board) -> dict[str, int]:
    """The MicroBlaze parameters the firmware's compiler options need (board.yaml firmware.cflags)."""
    config: dict[str, int] = {}
    for flag in board.firmware.cflags if board.firmware else []:
        if flag in MICROBLAZE_OPTIONS:
            parameter, value = MICROBLAZE_OPTIONS[flag]
            config[parameter] = max(value, config.get(parameter, 0))
        elif flag.startswith(("-mxl-", "-mno-xl-")) and flag not in ("-mxl-soft-mul", "-mxl-soft-div"):
            raise ConfigError(f"board {board.name}: firmware cflag {flag} needs a MicroBlaze option the block design "
                              f"does not know (boards/vendor/microblaze_design.py MICROBLAZE_OPTIONS)")
    return config


def caches(board: Board) -> tuple[int, int]:
    """(cache bytes, data-cache line bytes) of the instruction and data caches over DDR, as the firmware
    is built for them (firmware.defines MB_CACHE_BYTES, MB_DCACHE_LINE_BYTES: its crt.S invalidates and
    enables them, its HAL writes back and drops the DMA buffers' lines); (0, 0) without caches."""
    values = defines(board)
    size, line = values.get("MB_CACHE_BYTES", 0), values.get("MB_DCACHE_LINE_BYTES", 0)
    if (size == 0) != (line == 0):
        raise ConfigError(f"board {board.name}: firmware.defines gives {'MB_CACHE_BYTES' if size else 'MB_DCACHE_LINE_BYTES'} "
                          f"without {'MB_DCACHE_LINE_BYTES' if size else 'MB_CACHE_BYTES'}: the caches need both")
    if size and (size not in CACHE_BYTES or line not in CACHE_LINE_BYTES):
        raise ConfigError(f"board {board.name}: MicroBlaze caches of {size} bytes with {line}-byte lines are not among "
                          f"Vivado's ({', '.join(map(str, CACHE_BYTES))} bytes; lines of "
                          f"{', '.join(map(str, CACHE_LINE_BYTES))})")
    return int(size), int(line)


def spi_memory(cfgmem_part: str) -> int:
    for prefix, code in SPI_MEMORY.items():
        if cfgmem_part.startswith(prefix):
            return code
    raise ConfigError(f"flash part {cfgmem_part}: unknown family for the AXI Quad SPI "
                      f"(boards/vendor/microblaze_design.py SPI_MEMORY)")


@dataclass(frozen=True)
class SystemFiles:
    """What block_design.tcl writes: the bitstream, the BRAM map (updatemem), the hardware platform."""

    folder: Path
    name: str

    bit = property(lambda self: self.folder / f"{self.name}.bit")
    mmi = property(lambda self: self.folder / f"{self.name}.mmi")
    xsa = property(lambda self: self.folder / f"{self.name}.xsa")
    addresses = property(lambda self: self.folder / "addresses.txt")
    processor = property(lambda self: f"{self.name}_i/{MICROBLAZE}")


def system_files(out_dir: Path, energy: bool = False) -> SystemFiles:
    return SystemFiles(out_dir, DESIGN + ("_energy" if energy else ""))


def block_design_args(board: Board, ip: BlockDesignIp, out_dir: Path, energy: bool = False) -> list[str]:
    """The -tclargs of block_design.tcl: board.yaml's part, clocks and addresses, the IP's ports."""
    return tclargs(_block_design_values(board, ip, out_dir, energy))


def _block_design_values(board: Board, ip: BlockDesignIp, out_dir: Path, energy: bool) -> dict[str, object]:
    ours, values = system(board), defines(board)
    baud = board.uart.baud
    if not energy and baud.performance != baud.accuracy:
        raise ConfigError(f"board {board.name}: one bitstream serves performance and accuracy mode, but board.yaml "
                          f"uart.baud gives them {baud.performance} and {baud.accuracy}")
    flash = ours.flash
    out = {
        "out_dir": out_dir, "name": DESIGN + ("_energy" if energy else ""), "part": board.part,
        "board_part": board.vivado.board_part, "ip_repos": tcl_list(ip.repos), "ip_vlnv": ip.vlnv,
        "ip_stream_in": ip.stream_in, "ip_stream_out": ip.stream_out, "ip_clock": ip.clock, "ip_reset": ip.reset,
        "last_after": ip.last_after, "clock_hz": define(values, "TIMER_HZ", board),
        "local_memory_kb": ours.local_memory_kb,
        "microblaze_config": tcl_list(w for kv in microblaze_config(board).items() for w in kv),
        "cache_bytes": caches(board)[0], "cache_line_bytes": caches(board)[1],
        "ddr_base": hexa(define(values, "DDR_BASE", board)), "ddr_bytes": hexa(ours.ddr_bytes),
        "uart_base": hexa(define(values, "MB_UART_BASE", board)), "uart_baud": baud.energy if energy else baud.performance,
        "uart_pins": "pmod" if energy else "usb",
        "timer_base": hexa(define(values, "MB_TIMER_BASE", board)), "gpio_base": hexa(define(values, "MB_GPIO_BASE", board)),
        "dma_base": hexa(values.get("ACCEL_DMA_BASE", DEFAULT_DMA_BASE)),
        "flash_regs_base": hexa(flash.regs_base), "flash_xip_base": hexa(flash.xip_base), "flash_mb": flash.size_mb,
        "flash_memory": spi_memory(flash.cfgmem_part), "timestamp_pin": ours.pins.timestamp,
    }
    if energy:
        out.update(energy_uart_tx=ours.pins.energy_uart_tx, energy_uart_rx=ours.pins.energy_uart_rx)
    return out


def block_design_step(board: Board, ip: BlockDesignIp, out_dir: Path, energy: bool = False) -> Step:
    return vivado_batch(board.folder / "vivado" / "block_design.tcl", block_design_args(board, ip, out_dir, energy),
                        f"the {board.name} block design and bitstream{' (energy)' if energy else ''}",
                        out_dir / "vivado.log")


def expected_addresses(board: Board, energy: bool = False) -> dict[str, set[tuple[int, int]]]:
    """Per block-design cell, the (base, size) of its address segments in the MicroBlaze's data
    space where the firmware expects them."""
    v = _block_design_values(board, BlockDesignIp([], "x:y:z:1.0", "in", "out"), Path("."), energy)
    kb, at = 1024, lambda key: int(str(v[key]), 16)
    return {"dlmb_bram_if_cntlr": {(0, int(str(v["local_memory_kb"])) * kb)},
            "mig_7series_0": {(at("ddr_base"), at("ddr_bytes"))},
            "axi_uartlite_0": {(at("uart_base"), 64 * kb)}, "axi_timer_0": {(at("timer_base"), 64 * kb)},
            "axi_gpio_0": {(at("gpio_base"), 64 * kb)}, "axi_dma_0": {(at("dma_base"), 64 * kb)},
            "axi_quad_spi_0": {(at("flash_regs_base"), 64 * kb), (at("flash_xip_base"), int(str(v["flash_mb"])) * kb * kb)}}


def check_addresses(report: Path, board: Board, energy: bool = False) -> None:
    """Compare the address map Vivado assigned (block_design.tcl's addresses.txt: space, offset,
    range, segment per line) in the MicroBlaze's data space with the firmware's; a BuildError
    lists every difference."""
    assigned: list[tuple[str, tuple[int, int]]] = []
    for line in report.read_text().splitlines():
        space, offset, size, segment = line.split(maxsplit=3)
        if space.endswith("/Data"):
            assigned.append((segment, (int(offset, 0), address_range(size))))
    def show(places: set[tuple[int, int]]) -> str:
        return ", ".join(f"{hexa(b)} +{n:#x}" for b, n in sorted(places)) or "none"

    wrong = []
    for cell, where in expected_addresses(board, energy).items():
        found = {place for segment, place in assigned if f"SEG_{cell}_" in segment}
        if found != where:
            wrong.append(f"{cell}: firmware {show(where)}, design {show(found)}")
    if wrong:
        raise BuildError(f"the block design's address map differs from the firmware's ({report}):\n  " + "\n  ".join(wrong))

