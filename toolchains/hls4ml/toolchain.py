"""hls4ml behind the pipeline's toolchain interface (toolchains/base.py): a recipe's QKeras /
Keras model -> HLS project + bit-accurate C++ emulation (convert.py), linked into the emulated
board as its accelerator; the board IP (board_project.py) synthesised where Vitis HLS exists."""

from __future__ import annotations

from pathlib import Path

from common.config import validate_section
from toolchains.base import Accelerator, AcceleratorIp, ShellDesign, ToolchainBase
from toolchains.hls4ml.settings import Hls4mlSettings


class Toolchain(ToolchainBase):
    name = "hls4ml"
    framework = "qkeras"
    imports = ()
    sources = {"modules": ["toolchains.hls4ml.toolchain", "toolchains.hls4ml.convert", "toolchains.hls4ml.latency",
                           "toolchains.hls4ml.board_project", "toolchains.hls4ml.emulator", "toolchains.hls4ml.resources"],
               "files": ["toolchains/hls4ml/accel_hls4ml.cpp", "toolchains/hls4ml/accel_weights.h",
                         "toolchains/hls4ml/accel_hls4ml_emu.c",
                         "toolchains/hls4ml/accel_hls4ml_io.h", "toolchains/hls4ml/accel_hls4ml_qemu.cpp",
                         "toolchains/hls4ml/accel_axis.cpp", "toolchains/hls4ml/accel_axis.tcl",
                         "toolchains/hls4ml/baremetal"]}
    board_files = ["toolchains/hls4ml/accel_hls4ml_board.c"]

    def settings(self, recipe, model: str) -> Hls4mlSettings:
        """The recipe's hls4ml section of task.yaml, validated."""
        return validate_section(recipe.toolchain_settings(self.name, model), Hls4mlSettings,
                                f"{recipe.toolchain_settings_where(self.name, model)}: invalid settings")

    def check(self, recipe, model: str) -> None:
        """Every recipe's QKeras/Keras models convert; its task.yaml section must be valid."""
        self.settings(recipe, model)

    def convert_params(self, recipe, model: str, board) -> dict:
        return {"part": board.part, "clock_period_ns": board.clock_period_ns, "hls4ml": self.settings(recipe, model).model_dump()}

    def convert(self, recipe, model: str, trained: dict[str, Path], eembc: Path, board, out: Path) -> dict:
        from toolchains.hls4ml import convert

        inputs = recipe.model_inputs(eembc, trained)
        return convert.convert(recipe.load_model(trained), board.part, board.clock_period_ns, inputs, out,
                               self.settings(recipe, model), board, calibration=recipe.calibration(trained))

    def accelerator(self, convert_dir: Path) -> Accelerator:
        from toolchains.hls4ml import convert

        return convert.accelerator(convert_dir)

    def qemu_accelerator(self, convert_dir: Path) -> Accelerator:
        """The same C++ model with hls4ml's weight text files compiled in (no file system on bare metal)."""
        from toolchains.hls4ml import convert

        return convert.qemu_accelerator(convert_dir)

    def latency(self, recipe, model: str, trained: dict[str, Path], converted: dict, board) -> dict | None:
        """The convert stage's modeled latency for this board (toolchains/hls4ml/latency.py, both IO
        styles), or None for a convert stage that made no estimates."""
        est = converted.get("estimates")
        if not est:
            return None
        keys = ("accelerator_cycles", "accelerator_latency_us", "call_overhead_us", "modeled_latency_us", "what")
        return {k: est[k] for k in keys}

    def board_accelerator(self, board, convert_dir: Path) -> Accelerator:
        """The driver of the board IP's AXI-stream top (32-bit raw words, board_project.py) behind an AXI DMA."""
        here = Path(__file__).resolve().parent
        return Accelerator(name="hls4ml AXI-stream IP through an AXI DMA", sources=[here / "accel_hls4ml_board.c"],
                           includes=[convert_dir], firmware_drivers=["axi_dma"])

    def vendor_steps(self, board) -> list[tuple[str, str]]:
        from toolchains.hls4ml import board_project

        return [(board_project.TOOL, "HLS synthesis and IP export of the hls4ml board IP (Vitis HLS, accel_axis.tcl)")]

    def vendor_build(self, board, convert_dir: Path, out: Path) -> dict[str, str]:
        """Vitis HLS synthesis and IP export of the board IP, on a copy of the convert stage's hls4ml
        project in the build stage's folder; the board's own block design takes the IP."""
        from toolchains.hls4ml import board_project
        from toolchains.hls4ml.convert import PROJECT

        return board_project.build(convert_dir / PROJECT, out)

    def vendor_ip(self, board, vendor_artifacts, convert_dir: Path | None) -> AcceleratorIp:
        """The AXI-stream top as Vitis HLS exported it, with its output words per inference (no TLAST)."""
        from toolchains.hls4ml import ip

        return ip.accelerator_ip(vendor_artifacts, convert_dir)

    def vendor_shell(self, board, vendor_artifacts, convert_dir: Path | None) -> ShellDesign:
        """None here: hls4ml's IP always goes into the board's own block design."""
        from toolchains.hls4ml import ip

        return ip.shell_design(board, vendor_artifacts)
