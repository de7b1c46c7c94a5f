"""The FINN convert stage: the recipe's trained Brevitas model -> QONNX (export.py) -> FINN
estimate build (build.py) -> the emulator generated from the streamlined graph (emulator.py),
checked on every test input: bit-identical with qonnx's execute_onnx of the streamlined graph, and
the same argmax as the Brevitas model. Then what the emulated board links (accel_finn.c)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np

from boards.firmware import Accelerator, write_accel_model
from common.errors import GateError
from common.paths import REPO
from toolchains.finn import build, emulator, export

log = logging.getLogger(__name__)
ADAPTER = Path(__file__).with_name("accel_finn.c")
OUT_FRAC = 32  # float32 outputs as int64 words at 2^-32 (accel_finn.c)


def _execute_all(path: Path, inputs: np.ndarray) -> np.ndarray:
    from tqdm import tqdm

    chunks = [export.execute(path, inputs[i:i + 50]) for i in tqdm(range(0, len(inputs), 50), desc="execute_onnx",
                                                                  unit="x50 inputs", disable=len(inputs) <= 50)]
    return np.concatenate(chunks)


def convert(recipe, trained: dict[str, Path], eembc: Path, board, out: Path) -> dict:
    from tasks import brevitas_qat

    settings = recipe.cfg.finn
    model = recipe.load_brevitas(trained)
    inputs = recipe.brevitas_inputs(eembc, trained)
    brevitas = brevitas_qat.predict(model, inputs)  # FINN verifies on the first; the emulator is compared on all
    onnx = export.export(model, inputs, out)
    est = build.build(onnx, board, settings, inputs[:1], brevitas[:1], out,
                      REPO / "tasks" / recipe.name)  # a relative folding_config is the task folder's
    log.info("FINN estimates: %d cycles critical path (%.1f us modeled at %g MHz), LUT %.0f, BRAM18 %.0f, DSP %.0f",
             est["critical_path_cycles"], est["modeled_latency_us"], board.fabric_clock_mhz, est["lut"], est["bram18"],
             est["dsp"])
    build.check_fit(est, board, settings)

    streamlined = out / build.OUTPUT / build.STREAMLINED
    n_in, n_out = emulator.generate(streamlined, out)
    emulated = emulator.run(emulator.compile_library(out), inputs.reshape(len(inputs), -1), n_out)
    picked = np.arange(len(inputs)) if not settings.check_inputs or settings.check_inputs >= len(inputs) else \
        np.linspace(0, len(inputs) - 1, settings.check_inputs).round().astype(int)
    log.info("FINN: checking the emulator against execute_onnx on %d of %d test inputs ...", len(picked), len(inputs))
    reference = _execute_all(streamlined, inputs[picked]).reshape(len(picked), -1)
    exact = float(np.mean(np.all(emulated[picked] == reference, axis=1)))
    brevitas = brevitas.reshape(emulated.shape)
    argmax = float(np.mean(emulated.argmax(1) == brevitas.argmax(1))) if recipe.metric == "top-1 %" else None
    np.save(out / "emulated_outputs.npy", emulated)

    from qonnx.core.datatype import DataType

    in_type = export.input_datatype(model)
    write_accel_model(out / "accel_model.h", n_in, n_out, DataType[in_type].bitwidth(), recipe.brevitas_input_frac(trained),
                      64, OUT_FRAC)
    shutil.copy(ADAPTER, out / ADAPTER.name)
    report = {
        "backend": "FINN (finn-plus, estimate flow)", "part": board.part, "clock_period_ns": board.clock_period_ns,
        "input_type": in_type, "windows_checked": int(len(picked)), "exact_fraction": exact, "argmax_agreement": argmax,
        "exact_what": f"FINN emulator (C from the streamlined graph) vs execute_onnx, {len(picked)} of {len(inputs)} test inputs",
        "argmax_what": f"FINN emulator vs the Brevitas model, {len(inputs)} test inputs",
        "max_abs_diff": float(np.max(np.abs(emulated[picked] - reference))),
        "max_abs_diff_brevitas": float(np.max(np.abs(emulated - brevitas))),
        "estimates": est,
    }
    if exact < 1.0:
        raise GateError(f"the FINN emulator differs from execute_onnx on {1 - exact:.2%} of {len(picked)} test inputs "
                        f"(max |diff| {report['max_abs_diff']:.3g})")
    return report


def accelerator(convert_dir: Path) -> Accelerator:
    return Accelerator(name="FINN streamlined graph as generated C (bit-exact with execute_onnx)",
                       sources=[convert_dir / ADAPTER.name, convert_dir / emulator.SOURCE], includes=[convert_dir])
