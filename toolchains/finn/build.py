"""The FINN build through its Python API (finn-plus, novivado.py first): QONNX -> tidy-up ->
streamlining -> HW layers -> folding (target_fps or a folding JSON) -> estimate reports -> HLS C++
and RTL code generation, with FINN's own Python verification after conversion, tidy-up and
streamlining; every intermediate model, report and generated source stays on disk in the convert
stage's folder. The steps after code generation (HLS IP, FIFO sizing, stitched IP, and for a board
with a FINN shell the bitfile and driver) need Vivado/Vitis HLS: `hardware` runs them where those
exist (the build stage calls it; elsewhere it names them as skipped).

Latency is modeled, not measured: the EEMBC loop runs one inference at a time, so a board's time per
inference is FINN's critical path (cycles / fabric clock), not its initiation interval, plus the
board's per-call firmware overhead (board.yaml call_overhead)."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import sys
from pathlib import Path

import numpy as np

from common.errors import BuildError, ConfigError, GateError
from toolchains.finn import dataflow_latency, dsp_lanes
from toolchains.finn.settings import FinnSettings

log = logging.getLogger(__name__)
OUTPUT = "finn_build"
# the last model before hardware layers (streamlined, with the project's own step after it): the emulator's source
STREAMLINED = "intermediate_models/step_project_streamline.onnx"
CODEGEN_MODEL = "intermediate_models/step_hw_codegen.onnx"
CODEGEN_DIR = "hw_codegen"  # under OUTPUT: one folder of generated HLS C++ / RTL per layer
# after code generation, where Vivado and Vitis HLS exist: finn-plus step names
# FINN's verification after each step compares with the source model's float outputs element-wise (atol 1e-3,
# rtol 1e-5) and in the mean; its mean *relative* error (limit 0.1) makes float noise on an output near zero a
# failure (an expected 4.7e-8 against -6.7e-9: a relative error of 1.1 in one of 10 outputs; it failed the
# random binary CNV test when the machine was busy), so that check is off and the absolute ones stay
VERIFICATION = {"verification_mean_rtol": math.inf}
HARDWARE_STEPS = ["step_hw_ipgen", "step_set_fifo_depths", "step_create_stitched_ip"]
SHELL_STEPS = ["step_synthesize_bitfile", "step_make_driver", "step_deployment_package"]  # a board with a FINN shell


def _steps(finn_steps: list) -> list:
    """FINN's own step list with the project's steps (steps.py) after streamlining."""
    from toolchains.finn.steps import step_project_streamline

    at = finn_steps.index("step_streamline") + 1
    return [*finn_steps[:at], step_project_streamline, *finn_steps[at:]]


def build(model: Path, board, settings: FinnSettings, verify_in: np.ndarray, verify_out: np.ndarray, out: Path,
          task_dir: Path) -> dict:
    """Run the estimate flow for board (its part and fabric clock); returns the estimate summary."""
    from toolchains.finn import novivado  # noqa: F401  (before anything from finn.builder)

    # isort: split
    import finn.builder.build_dataflow_config as fc
    from finn.builder.build_dataflow import build_dataflow_cfg

    np.save(out / "verify_in.npy", verify_in.astype(np.float32))
    np.save(out / "verify_out.npy", verify_out.astype(np.float32))
    folding = _folding(settings, task_dir, out)
    cfg = fc.DataflowBuildConfig(
        output_dir=str(out / OUTPUT), synth_clk_period_ns=board.clock_period_ns, fpga_part=board.part,
        steps=_steps(fc.hw_codegen_dataflow_steps), generate_outputs=[fc.DataflowOutputType.ESTIMATE_REPORTS],
        verify_steps=[fc.VerificationStepType.QONNX_TO_FINN_PYTHON, fc.VerificationStepType.TIDY_UP_PYTHON,
                      fc.VerificationStepType.STREAMLINED_PYTHON],
        verify_input_npy=str(out / "verify_in.npy"), verify_expected_output_npy=str(out / "verify_out.npy"),
        standalone_thresholds=settings.standalone_thresholds,
        console_log_level=fc.LogLevel.WARNING, **VERIFICATION, **folding)  # FINN's full log: finn_build/build_dataflow.log
    cfg = fc.DataflowBuildConfig.construct_from(cfg)
    log.info("FINN: build up to code generation (streamline, HW layers, folding, estimates, HLS/RTL code) for %s ...",
             board.part)
    with _own_logging_kept():
        code = build_dataflow_cfg(str(model), cfg)
    if code != 0:
        raise BuildError(f"the FINN build failed: see {out / OUTPUT / 'build_dataflow.log'}")
    _check_layer_names(settings, out / OUTPUT)
    failed = sorted(p.name for p in (out / OUTPUT / "verification_output").glob("*FAIL*"))
    if failed:
        raise GateError(f"FINN's Python verification failed after {', '.join(failed)}: the exported graph does not "
                        f"compute what the source model computes")
    _keep_generated_code(out / OUTPUT)
    return summary(out / OUTPUT, board)


def _folding(settings: FinnSettings, task_dir: Path, out: Path) -> dict:
    """FINN's folding arguments: target_fps and/or a folding JSON (the recipe's, with its `layers` over
    it), and the specialisation JSON of its `implementation`, written into the stage folder."""
    folding: dict = {"target_fps": settings.target_fps} if settings.target_fps else {}
    layers: dict = {}
    if settings.folding_config:
        path = (task_dir / settings.folding_config).resolve()
        if not path.is_file():
            raise ConfigError(f"finn.folding_config: no such file {path}")
        layers = json.loads(path.read_text())
    for name, attrs in settings.layers.items():  # over the JSON's, attribute by attribute
        layers[name] = {**layers.get(name, {}), **attrs}
    if layers:  # FINN applies a folding JSON after target_fps's folding, so the two combine
        (out / "folding.json").write_text(json.dumps(layers, indent=1))
        folding["folding_config_file"] = out / "folding.json"
    if settings.implementation:
        styles = {"Defaults": {}, **{name: {"preferred_impl_style": style} for name, style in settings.implementation.items()}}
        (out / "specialize.json").write_text(json.dumps(styles, indent=1))
        folding["specialize_layers_config_file"] = out / "specialize.json"
    return folding


def _check_layer_names(settings: FinnSettings, output: Path) -> None:
    """FINN only warns about a configured layer it does not have; a recipe naming one is wrong."""
    from qonnx.core.modelwrapper import ModelWrapper

    after = {n.name for n in ModelWrapper(str(output / CODEGEN_MODEL)).graph.node}
    # the names before specialisation: FINN lists them in its template of the specialisation JSON
    before = set(json.loads((output / "template_specialize_layers_config.json").read_text())) - {"Defaults"}
    for key, names, have in (("layers", settings.layers, after), ("implementation", settings.implementation, before)):
        unknown = sorted(set(names) - have)
        if unknown:
            raise ConfigError(f"finn.{key} names {', '.join(unknown)}, which this FINN graph does not have "
                              f"(its layers: {', '.join(sorted(have))})")


def _keep_generated_code(output: Path) -> None:
    """FINN writes each layer's generated code under FINN_BUILD_DIR (shared scratch); move it into
    the build's own folder and point the code generation model at it, relative to `output` (the
    stage folder is renamed when it completes; `hardware` makes the paths absolute again), so the
    stage folder holds everything a later Vivado run needs."""
    import shutil

    def moved(name: str, folder: str) -> str:
        dst = output / CODEGEN_DIR / name
        if dst.exists():
            shutil.rmtree(dst)
        shutil.move(folder, dst)
        return str(dst.relative_to(output))

    _repoint_code(output / CODEGEN_MODEL, output / CODEGEN_MODEL, moved)


def _repoint_code(model: Path, save_as: Path, where) -> None:
    """Set each layer's code folder (FINN's code_gen_dir_ipgen) to where(layer name, current folder)."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    m = ModelWrapper(str(model))
    for node in m.graph.node:
        op = getCustomOp(node)
        folder = op.get_nodeattr("code_gen_dir_ipgen")
        if folder:  # a layer FINN generates no code for at this step (e.g. a Shuffle) has none
            op.set_nodeattr("code_gen_dir_ipgen", where(node.name, folder))
    m.save(str(save_as))


def hardware(convert_dir: Path, board, out: Path) -> dict:
    """Where Vivado and Vitis HLS exist: from the generated code to HLS IP, sized FIFOs and the
    stitched IP; on a board with a FINN shell (board.yaml vivado.finn_board, the Pynq-Z2's Zynq
    shell) on to bitfile, driver and deployment package. The folding is the one estimated."""
    from toolchains.finn import novivado  # noqa: F401  (before anything from finn.builder)

    # isort: split
    from finn.builder.build_dataflow import build_dataflow_cfg

    cfg = hardware_config(convert_dir, board, out)
    start = out / "hw_codegen_model.onnx"  # FINN wants absolute code folders: the convert stage's, where they are now
    _repoint_code(convert_dir / OUTPUT / CODEGEN_MODEL, start,
                  lambda name, folder: str((convert_dir / OUTPUT / folder).resolve()))
    log.info("FINN: %s for %s (Vivado) ...", ", ".join(cfg.steps), board.name)
    with _own_logging_kept():
        code = build_dataflow_cfg(str(start), cfg)
    if code != 0:
        raise BuildError(f"the FINN hardware build failed: see {out / OUTPUT / 'build_dataflow.log'}")
    made = {"stitched_ip": f"{OUTPUT}/stitched_ip"}
    if board.vivado.finn_board:
        made.update(bitfile=f"{OUTPUT}/bitfile", driver=f"{OUTPUT}/driver", deploy=f"{OUTPUT}/deploy")
    missing = [str(p) for p in made.values() if not (out / p).exists()]
    if missing:
        raise BuildError(f"the FINN hardware build finished without {', '.join(missing)}")
    return made


def hardware_config(convert_dir: Path, board, out: Path):
    """The DataflowBuildConfig of `hardware` (separate so that it is checked where Vivado is not)."""
    from toolchains.finn import novivado  # noqa: F401  (before anything from finn.builder)

    # isort: split
    import finn.builder.build_dataflow_config as fc

    shell = board.vivado.finn_board
    report = convert_dir / OUTPUT / "report"  # the model is folded already; FINN's config still wants a folding source
    folding = next((p for p in (report / "applied_folding_config.json", report / "auto_folding_config.json")
                    if p.is_file()), None)
    if folding is None:
        raise BuildError(f"no folding configuration in {report}: run the convert stage first")
    outputs = [fc.DataflowOutputType.STITCHED_IP]
    if shell:
        outputs += [fc.DataflowOutputType.BITFILE, fc.DataflowOutputType.PYNQ_DRIVER, fc.DataflowOutputType.DEPLOYMENT_PACKAGE]
    cfg = fc.DataflowBuildConfig(
        output_dir=str(out / OUTPUT), synth_clk_period_ns=board.clock_period_ns, fpga_part=board.part,
        steps=HARDWARE_STEPS + (SHELL_STEPS if shell else []), generate_outputs=outputs,
        folding_config_file=folding,
        **({"board": shell, "shell_flow_type": fc.ShellFlowType.VIVADO_ZYNQ} if shell else {}),
        console_log_level=fc.LogLevel.WARNING)
    return fc.DataflowBuildConfig.construct_from(cfg)


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
    total = dict(resources.pop("total"))
    # the RTL MVU's DSP slices as its RTL packs them (dsp_lanes.py: FINN's estimate assumes 4 lanes per slice)
    resources = dsp_lanes.corrected(output / CODEGEN_MODEL, resources, board.part)
    total["DSP"] += sum(layer["DSP"] - layer["DSP_finn"] for layer in resources.values() if "DSP_finn" in layer)
    cycles = json.loads((report / "estimate_layer_cycles.json").read_text())
    # one inference's latency with the layers overlapping as in the hardware (a lower bound); FINN's
    # critical path, every layer's whole frame in series, is kept as the upper bound
    overlap = math.ceil(dataflow_latency.latency(output / CODEGEN_MODEL)["cycles"])
    accelerator_us = overlap * board.clock_period_ns / 1000.0
    return {
        "critical_path_cycles": int(perf["critical_path_cycles"]),
        "accelerator_cycles": overlap,
        "accelerator_latency_us": accelerator_us,
        "call_overhead_us": board.call_overhead.us,
        "modeled_latency_us": accelerator_us + board.call_overhead.us,
        "estimated_fps": float(perf["estimated_throughput_fps"]),
        "lut": float(total["LUT"]), "bram18": float(total["BRAM_18K"]), "dsp": float(total["DSP"]),
        "layers": {name: {"cycles": cycles.get(name), **res} for name, res in resources.items()},
        "what": f"FINN estimates (modeled, not synthesised) for {board.part} at {board.fabric_clock_mhz:g} MHz; latency: "
                f"the layers overlapping (toolchains/finn/dataflow_latency.py, a lower bound), FINN's critical path "
                f"{int(perf['critical_path_cycles'])} cycles the upper bound; RTL MVU DSPs counted as its RTL packs them "
                f"(toolchains/finn/dsp_lanes.py)",
    }


def over_budget(est: dict, board, settings: FinnSettings) -> str | None:
    """What of the estimate exceeds the board's budget, with the numbers; None when it fits."""
    budget = {"lut": board.resources.lut, "bram18": 2 * board.resources.bram36, "dsp": board.resources.dsp}
    over = [f"{k.upper()} {est[k]:,.0f} > {v:,.0f}{_largest_kind(est, k)}" for k, v in budget.items() if est[k] > v]
    if not over:
        return None
    hint = (f"lower finn.target_fps (now {settings.target_fps:,})" if settings.target_fps
            else "fold more (lower PE/SIMD in the folding JSON)")
    return f"the FINN design does not fit the {board.name} ({'; '.join(over)}): {hint}"


def _largest_kind(est: dict, resource: str) -> str:
    """', of which <kind> layers N': the kind of layer (FINN's op type) that takes most of a resource,
    so that a user sees whether folding can help (MVAUs) or not (thresholds held in LUTs)."""
    key = {"lut": "LUT", "bram18": "BRAM_18K", "dsp": "DSP"}[resource]
    kinds: dict[str, float] = {}
    for name, layer in est.get("layers", {}).items():
        kind = name.rsplit("_", 1)[0] if name.rsplit("_", 1)[-1].isdigit() else name
        kinds[kind] = kinds.get(kind, 0.0) + float(layer.get(key) or 0.0)
    if not kinds:
        return ""
    kind, amount = max(kinds.items(), key=lambda item: item[1])
    return f", of which {kind} layers {amount:,.0f}"
