"""FINN behind the pipeline's toolchain interface (toolchains/base.py): a recipe's Brevitas
model -> QONNX -> FINN streamlining, folding and estimates (convert.py), and the streamlined graph
as generated C on the emulated board; IP, stitched IP and bitfile where Vivado exists."""

from __future__ import annotations

from pathlib import Path

from common.config import validate_section
from toolchains.base import Accelerator, AcceleratorIp, ShellDesign, ToolchainBase
from toolchains.finn.settings import FinnSettings


class Toolchain(ToolchainBase):
    name = "finn"
    framework = "brevitas"
    imports = ("qonnx",)  # model=path/to/model.onnx
    sources = {"modules": ["toolchains.finn.toolchain", "toolchains.finn.convert", "toolchains.finn.host_input",
                           "toolchains.finn.board_io"],
               "files": ["toolchains/finn/accel_finn.c"]}
    board_files = ["toolchains/finn/accel_finn_board.c", "toolchains/finn/finn_pack.c", "toolchains/finn/finn_pack.h"]

    def settings(self, recipe, model: str) -> FinnSettings:
        """The recipe's finn section of task.yaml (folding, checks), validated."""
        return validate_section(recipe.toolchain_settings(self.name, model), FinnSettings,
                                f"{recipe.toolchain_settings_where(self.name, model)}: invalid settings")

    def check(self, recipe, model: str) -> None:
        """Before any stage runs: every recipe has a Brevitas model (tasks/base.py); its finn section must be valid."""
        self.settings(recipe, model)

    def convert_params(self, recipe, model: str, board) -> dict:
        return {"part": board.part, "clock_period_ns": board.clock_period_ns, "finn": self.settings(recipe, model).model_dump()}

    def convert(self, recipe, model: str, trained: dict[str, Path], eembc: Path, board, out: Path) -> dict:
        from toolchains.finn import convert

        return convert.convert(recipe, trained, eembc, board, out, self.settings(recipe, model))

    def accelerator(self, convert_dir: Path) -> Accelerator:
        from toolchains.finn import convert

        return convert.accelerator(convert_dir)

    def latency(self, recipe, model: str, trained: dict[str, Path], converted: dict, board) -> dict | None:
        """The convert stage's estimate (the layers overlapping; FINN's critical path the upper bound) + the
        board's call overhead."""
        est = converted["estimates"]
        cycles = est.get("accelerator_cycles", est["critical_path_cycles"])  # a convert stage from before the overlap model
        return {"accelerator_cycles": cycles, "accelerator_latency_us": est["accelerator_latency_us"],
                "call_overhead_us": est["call_overhead_us"], "modeled_latency_us": est["modeled_latency_us"],
                "what": f"FINN dataflow, layers overlapping: {cycles} cycles at {board.fabric_clock_mhz:g} MHz (critical path "
                        f"{est['critical_path_cycles']}), + {est['call_overhead_us']:g} us firmware overhead per call"}

    def board_accelerator(self, board, convert_dir: Path) -> Accelerator:
        """The driver of FINN's IP: its IODMA data movers where FINN's Zynq shell is the design
        (board.yaml vivado.finn_board), else the AXI DMA of our block design."""
        from common.errors import BuildError
        from toolchains.finn import board_io

        if not (convert_dir / board_io.HEADER).is_file():
            raise BuildError(f"no board driver for this design: {board_io.reason(convert_dir)}")
        here = Path(__file__).resolve().parent
        iodma = board.vivado.finn_board is not None
        return Accelerator(name=f"FINN IP through {'its IODMA data movers' if iodma else 'an AXI DMA'}",
                           sources=[here / "accel_finn_board.c", here / "finn_pack.c"],
                           includes=[convert_dir, here], defines={"FINN_IODMA": int(iodma)},
                           firmware_drivers=[] if iodma else ["axi_dma"])

    def vendor_steps(self, board) -> list[tuple[str, str]]:
        steps = [("vitis_hls", "FINN HLS IP generation (step_hw_ipgen)"),
                 ("vivado", "FINN FIFO sizing and stitched IP (step_set_fifo_depths, step_create_stitched_ip)")]
        if board.vivado.finn_board:
            steps.append(("vivado", f"FINN {board.vivado.finn_board} shell: bitfile, driver, deployment package"))
        return steps

    def vendor_build(self, board, convert_dir: Path, out: Path) -> dict[str, str]:
        from toolchains.finn import build

        return build.hardware(convert_dir, board, out)

    def vendor_ip(self, board, vendor_artifacts, convert_dir: Path | None) -> AcceleratorIp:
        """The stitched IP, its layers' IP repositories and the output words per inference (its
        output stream has no TLAST)."""
        from toolchains.finn import ip

        return ip.accelerator_ip(vendor_artifacts, convert_dir)

    def vendor_shell(self, board, vendor_artifacts, convert_dir: Path | None) -> ShellDesign:
        """The bitfile of FINN's Zynq shell and the Vivado project its build records."""
        from toolchains.finn import ip

        return ip.shell_design(board, vendor_artifacts)
