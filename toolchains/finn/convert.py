"""The FINN convert stage: the recipe's trained Brevitas model -> QONNX (export.py), or an imported
QONNX file with its input quantizer moved to the host (host_input.py) -> FINN estimate build
(build.py) -> the emulator generated from the streamlined graph (emulator.py), checked on every
test input: bit-identical with qonnx's execute_onnx of the streamlined graph, and the same argmax
as the source model. Then what the emulated board links (accel_finn.c)."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.errors import GateError
from common.paths import REPO
from toolchains.base import Accelerator, fit_gate, write_accel_model
from toolchains.finn import board_io, build, emulator, export, host_input, tflite_thresholds
from toolchains.finn.settings import FinnSettings

log = logging.getLogger(__name__)
ADAPTER = Path(__file__).with_name("accel_finn.c")
OUT_FRAC = 32  # float32 outputs as int64 words at 2^-32 (accel_finn.c)


def _execute_all(path: Path, inputs: np.ndarray) -> np.ndarray:
    from tqdm import tqdm

    chunks = [export.execute(path, inputs[i:i + 50]) for i in tqdm(range(0, len(inputs), 50), desc="execute_onnx",
                                                                  unit="x50 inputs", disable=len(inputs) <= 50)]
    return np.concatenate(chunks)


@dataclass
class Source:
    """What the FINN build starts from, and what the firmware and the checks feed it."""

    onnx: Path  # QONNX with an integer-typed input
    feed: np.ndarray  # N x n_in: the integers the firmware gives the accelerator, per test file
    graph_in: np.ndarray  # the FINN graph's input for each (feed, through the host-side quantizer if any)
    reference: np.ndarray  # N x n_out: the source model's outputs (the argmax check)
    what: str  # the source model, for the report
    in_bits: int  # width of the firmware integers
    in_frac: int
    host_table: tuple[int, np.ndarray] | None = None
    # an int8 TF Lite reference (tasks/reference_int8.py): its interpreter's int8 logits and their requantization
    interpreter: tuple[np.ndarray, float, int] | None = None


def from_brevitas(recipe, trained: dict[str, Path], eembc: Path, out: Path) -> Source:
    from qonnx.core.datatype import DataType

    from frameworks import brevitas_qat

    model = recipe.load_brevitas(trained)
    inputs = recipe.brevitas_inputs(eembc, trained)
    reference = brevitas_qat.predict(model, inputs)  # FINN verifies on the first; the emulator is compared on all
    onnx = export.export(model, inputs, out)
    bits = DataType[export.input_datatype(model)].bitwidth()
    return Source(onnx, inputs.reshape(len(inputs), -1), inputs, reference.reshape(len(inputs), -1), "the Brevitas model",
                  bits, recipe.brevitas_input_frac(trained))


def from_qonnx(recipe, trained: dict[str, Path], eembc: Path, out: Path) -> Source:
    """An imported QONNX file (frameworks/qonnx_import.py), its input quantizer moved to the host side."""
    from qonnx.core.datatype import DataType

    from frameworks import qonnx_import as external

    declared = json.loads(trained["input"].read_text())
    m = external.load(trained["qonnx"])
    shape = external.input_shape(m)
    k_range = tuple(declared["k_range"])
    m, host = host_input.prepare(m, declared["scale"], k_range)
    onnx = out / "model.onnx"
    m.save(str(onnx))
    log.info("FINN: the imported model's input is now %s on the host side (%s)", host.dtype,
             "a quantizer table" if host.table is not None else "the test files' integers themselves")
    k = recipe.quantized_inputs(eembc, declared["scale"], declared["zero_point"])
    bits = DataType[host_input.datatype_for(*k_range)].bitwidth()
    interpreter = None
    if "interpreter" in trained:
        output = declared["output"]
        interpreter = (np.load(trained["interpreter"]), float(output["scale"]), int(output["zero_point"]))
    return Source(onnx, k.astype(np.float32), host.apply(k).reshape(len(k), *shape[1:]),
                  np.load(trained["outputs"]).reshape(len(k), -1), f"the imported model ({Path(declared['source']).name}, "
                  f"execute_onnx)", bits, 0, None if host.table is None else (host.k_min, host.table), interpreter)


def _interpreter_agreement(metric: str, emulated: np.ndarray, interpreter: tuple[np.ndarray, float, int]) -> dict:
    """The emulator's float outputs against TF Lite's int8 ones (tasks/reference_int8.py's agreement: the
    class, or an autoencoder's whole requantized output), and the outputs requantized as TF Lite
    requantizes them (scale, zero point), value by value."""
    from frameworks.tflite_qonnx import Requantization, agreement

    values, scale, zero_point = interpreter
    output = Requantization(scale, zero_point)
    return {"interpreter_agreement": agreement(emulated, values, output, classifier=metric == "top-1 %"),
            "interpreter_int8_identical": float(np.mean(np.all(output.apply(emulated) == values, axis=1))),
            "interpreter_what": f"FINN emulator vs TF Lite's interpreter on the int8 reference, {len(values)} test inputs"}


def convert(recipe, trained: dict[str, Path], eembc: Path, board, out: Path, settings: FinnSettings) -> dict:
    from qonnx.core.modelwrapper import ModelWrapper

    src = from_qonnx(recipe, trained, eembc, out) if "qonnx" in trained else from_brevitas(recipe, trained, eembc, out)
    est = build.build(src.onnx, board, settings, src.graph_in[:1], src.reference[:1], out,
                      REPO / "tasks" / recipe.name)  # a relative folding_config is the task folder's
    log.info("FINN estimates: %d cycles with the layers overlapping, %d critical path (%.1f us accelerator at %g MHz; "
             "%.1f us modeled per inference on the %s), LUT %.0f, BRAM18 %.0f, DSP %.0f", est["accelerator_cycles"],
             est["critical_path_cycles"], est["accelerator_latency_us"], board.fabric_clock_mhz, est["modeled_latency_us"],
             board.name, est["lut"], est["bram18"], est["dsp"])
    est = fit_gate("finn", build.over_budget(est, board, settings), est, settings.fit)

    streamlined = out / build.OUTPUT / build.STREAMLINED
    thresholds = tflite_thresholds.applied(ModelWrapper(str(streamlined)))
    if thresholds is not None:
        log.info("FINN: thresholds of %d layers put where TF Lite's XNNPACK kernels requantize: %d of %d moved by one or "
                 "two accumulator steps", thresholds["layers"], thresholds["thresholds_moved"], thresholds["thresholds"])
    n_in, n_out = emulator.generate(streamlined, out, src.host_table)
    emulated = emulator.run(emulator.compile_library(out), src.feed, n_out)
    n = len(src.feed)
    picked = np.arange(n) if not settings.check_inputs or settings.check_inputs >= n else \
        np.linspace(0, n - 1, settings.check_inputs).round().astype(int)
    log.info("FINN: checking the emulator against execute_onnx on %d of %d test inputs ...", len(picked), n)
    reference = _execute_all(streamlined, src.graph_in[picked]).reshape(len(picked), -1)
    exact = float(np.mean(np.all(emulated[picked] == reference, axis=1)))
    argmax = float(np.mean(emulated.argmax(1) == src.reference.argmax(1))) if recipe.metric == "top-1 %" else None
    np.save(out / "emulated_outputs.npy", emulated)

    write_accel_model(out / "accel_model.h", n_in, n_out, src.in_bits, src.in_frac, 64, OUT_FRAC)
    board_layout = board_io.write_or_explain(out / build.OUTPUT, out, src.host_table)
    shutil.copy(ADAPTER, out / ADAPTER.name)
    report = {
        "backend": "FINN (finn-plus, estimate flow)", "part": board.part, "clock_period_ns": board.clock_period_ns,
        "windows_checked": int(len(picked)), "exact_fraction": exact, "argmax_agreement": argmax,
        "exact_what": f"FINN emulator (C from the streamlined graph) vs execute_onnx, {len(picked)} of {n} test inputs",
        "argmax_what": f"FINN emulator vs {src.what}, {n} test inputs",
        "max_abs_diff": float(np.max(np.abs(emulated[picked] - reference))),
        "max_abs_diff_source": float(np.max(np.abs(emulated - src.reference))),
        "host_input_table": src.host_table is not None,
        "board_io": board_layout,
        "estimates": est,
        **(_interpreter_agreement(recipe.metric, emulated, src.interpreter) if src.interpreter is not None else {}),
        **({"interpreter_thresholds": thresholds} if thresholds is not None else {}),
    }
    if exact < 1.0:
        raise GateError(f"the FINN emulator differs from execute_onnx on {1 - exact:.2%} of {len(picked)} test inputs "
                        f"(max |diff| {report['max_abs_diff']:.3g})")
    return report


def accelerator(convert_dir: Path) -> Accelerator:
    return Accelerator(name="FINN streamlined graph as generated C (bit-exact with execute_onnx)",
                       sources=[convert_dir / ADAPTER.name, convert_dir / emulator.SOURCE], includes=[convert_dir])
