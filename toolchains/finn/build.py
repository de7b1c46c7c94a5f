"""The FINN build through its Python API (finn-plus, novivado.py first): QONNX -> tidy-up ->
streamlining -> HW layers -> folding (target_fps or a folding JSON) -> estimate reports, with
FINN's own Python verification after conversion, tidy-up and streamlining; every intermediate
model and report stays on disk under the build folder. The steps after estimates (HLS IP,
stitched IP, bitfile) need Vivado/Vitis HLS and are not run here (toolchain.vendor_steps names them).

Latency is modeled, not measured: the EEMBC loop runs one inference at a time, so a board's time per
inference is FINN's critical path (cycles / fabric clock), not its initiation interval, plus the
board's per-call firmware overhead (board.yaml call_overhead)."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from pathlib import Path

import numpy as np

from common.errors import BuildError, ConfigError, GateError
from toolchains.finn.settings import FinnSettings

log = logging.getLogger(__name__)
OUTPUT = "finn_build"
STREAMLINED = "intermediate_models/step_streamline.onnx"


def build(model: Path, board, settings: FinnSettings, verify_in: np.ndarray, verify_out: np.ndarray, out: Path,
          task_dir: Path) -> dict:
    """Run the estimate flow for board (its part and fabric clock); returns the estimate summary."""
    from toolchains.finn import novivado  # noqa: F401  (before anything from finn.builder)
    import finn.builder.build_dataflow_config as fc
    from finn.builder.build_dataflow import build_dataflow_cfg

    np.save(out / "verify_in.npy", verify_in.astype(np.float32))
    np.save(out / "verify_out.npy", verify_out.astype(np.float32))
    if settings.target_fps:
        folding = {"target_fps": settings.target_fps}
    else:
        path = (task_dir / settings.folding_config).resolve()
        if not path.is_file():
            raise ConfigError(f"finn.folding_config: no such file {path}")
        folding = {"folding_config_file": str(path)}
    cfg = fc.DataflowBuildConfig(
        output_dir=str(out / OUTPUT), synth_clk_period_ns=board.clock_period_ns, fpga_part=board.part,
        steps=fc.estimate_only_dataflow_steps, generate_outputs=[fc.DataflowOutputType.ESTIMATE_REPORTS],
        verify_steps=[fc.VerificationStepType.QONNX_TO_FINN_PYTHON, fc.VerificationStepType.TIDY_UP_PYTHON,
                      fc.VerificationStepType.STREAMLINED_PYTHON],
        verify_input_npy=str(out / "verify_in.npy"), verify_expected_output_npy=str(out / "verify_out.npy"),
        console_log_level=fc.LogLevel.WARNING, **folding)  # FINN's full log: finn_build/build_dataflow.log
    cfg = fc.DataflowBuildConfig.construct_from(cfg)
    log.info("FINN: estimate build (streamline, HW layers, folding, estimates) for %s ...", board.part)
    with _own_logging_kept():
        code = build_dataflow_cfg(str(model), cfg)
    if code != 0:
        raise BuildError(f"the FINN build failed: see {out / OUTPUT / 'build_dataflow.log'}")
    failed = sorted(p.name for p in (out / OUTPUT / "verification_output").glob("*FAIL*"))
    if failed:
        raise GateError(f"FINN's Python verification failed after {', '.join(failed)}: the exported graph does not "
                        f"compute what the Brevitas model computes")
    return summary(out / OUTPUT, board)


@contextlib.contextmanager
def _own_logging_kept():
    """FINN's builder reconfigures the root logger (basicConfig(force=True), a rich console handler)
    and wraps sys.stdout/stderr for the rest of the process; put ours back afterwards."""
    root = logging.getLogger()
    handlers, level, out, err = root.handlers[:], root.level, sys.stdout, sys.stderr
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        sys.stdout, sys.stderr = out, err


def summary(output: Path, board) -> dict:
    report = output / "report"
    perf = json.loads((report / "estimate_network_performance.json").read_text())
    resources = json.loads((report / "estimate_layer_resources.json").read_text())
    total = resources.pop("total")
    cycles = json.loads((report / "estimate_layer_cycles.json").read_text())
    accelerator_us = perf["critical_path_cycles"] * board.clock_period_ns / 1000.0
    return {
        "critical_path_cycles": int(perf["critical_path_cycles"]),
        "accelerator_latency_us": accelerator_us,
        "call_overhead_us": board.call_overhead.us,
        "modeled_latency_us": accelerator_us + board.call_overhead.us,
        "estimated_fps": float(perf["estimated_throughput_fps"]),
        "lut": float(total["LUT"]), "bram18": float(total["BRAM_18K"]), "dsp": float(total["DSP"]),
        "layers": {name: {"cycles": cycles.get(name), **res} for name, res in resources.items()},
        "what": f"FINN estimates (modeled, not synthesised) for {board.part} at {board.fabric_clock_mhz:g} MHz",
    }


def check_fit(est: dict, board, settings: FinnSettings) -> None:
    """Fail early, with the numbers, when the estimate exceeds the board's budget."""
    budget = {"lut": board.resources.lut, "bram18": 2 * board.resources.bram36, "dsp": board.resources.dsp}
    over = [f"{k.upper()} {est[k]:,.0f} > {v:,.0f}" for k, v in budget.items() if est[k] > v]
    if over:
        hint = (f"lower finn.target_fps (now {settings.target_fps:,})" if settings.target_fps
                else "fold more (lower PE/SIMD in the folding JSON)")
        raise GateError(f"the FINN design does not fit the {board.name} ({'; '.join(over)}): {hint}")
