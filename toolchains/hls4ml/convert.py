"""hls4ml: QKeras model -> HLS project + bit-accurate emulation, checked against hls4ml's C
simulation and against QKeras.

Steps: config from the model (granularity 'name'), types fixed where hls4ml 1.3 would silently
lose exactness (toolchains.md Part C), then the recipe's own types (settings.py: e.g. the reference
DS-CNN's weights) and those the calibration pass chooses from the Keras model's activation ranges on the
train stage's calibration inputs (calibration.py; never the test inputs), convert for the board's part and clock (with
`reuse: fit`, the reuse factors chosen on that graph for the board, reuse.py, and converted again with them, so hls4ml
checks and lays them out), compile() the
C++ model (hls4ml's C simulation; this also write()s the project), generate the fast emulator from
the converted ModelGraph (emulator.py) and check it bit for bit against the C simulation on every
test input, compare the emulation with the Keras model on every test input (bit-identical, or argmax
agreement for a float model such as an MLPerf reference), estimate latency and resources
(estimates.py) and check that they fit the board, and describe the accelerator's I/O words for the
firmware (accel_model.h).

The emulated DUT links the generated emulator (accel_hls4ml_emu.c), or, where the emulator does not
cover the design or the settings turn it off, hls4ml's C simulation (accel_hls4ml.cpp), which loads
its weights from text files at the first call (compiling them in as initialisers takes g++ many
minutes): the DUT's copy of those files sits beside the binary and is found relative to it, so a
build folder can be moved. The board's firmware for QEMU has no file system: it compiles the same
text files in (accel_hls4ml_qemu.cpp, with the accel_weights_qemu.h written here) and builds the same
C++ with the cross g++ without the compiled libstdc++ (baremetal/: hls::stream and <iostream> for that
build).
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from pathlib import Path

import numpy as np

from common.errors import BuildError, ConfigError, GateError
from frameworks import keras2  # noqa: F401  (Keras 2 aliasing must precede the hls4ml import)
from toolchains.base import Accelerator, fit_gate, write_accel_model
from toolchains.hls4ml import calibration as calibration_pass
from toolchains.hls4ml import emulator, fifo_depths, latency, resources, reuse
from toolchains.hls4ml.settings import Hls4mlSettings

log = logging.getLogger(__name__)

PROJECT = "hls4ml_prj"
TOP = "myproject"
ADAPTER = Path(__file__).with_name("accel_hls4ml.cpp")
ADAPTER_HEADER = Path(__file__).with_name("accel_weights.h")
ADAPTER_IO = Path(__file__).with_name("accel_hls4ml_io.h")  # accel_run, shared by both adapters
QEMU_ADAPTER = Path(__file__).with_name("accel_hls4ml_qemu.cpp")
EMU_ADAPTER = Path(__file__).with_name("accel_hls4ml_emu.c")  # the emulated DUT's, over the generated emulator
BAREMETAL = Path(__file__).with_name("baremetal")  # hls_stream.h and <iostream> for the bare-metal build
QEMU_WEIGHTS = "accel_weights_qemu.h"  # written by write_qemu_weights


def _fix_precisions(model, hls_config: dict) -> list[str]:
    """Apply the hls4ml 1.3 exactness work-arounds to the layer config; returns what was changed."""
    from qkeras import QActivation

    changed = []
    layers = hls_config["LayerName"]
    input_layer = model.layers[0].name
    first = model.layers[1]
    # Inputs are truncated to input_t (default fixed<16,6>): use the model's input quantizer type.
    if isinstance(first, QActivation) and first.quantizer.__class__.__name__ == "quantized_bits":
        q = first.quantizer
        layers[input_layer]["Precision"]["result"] = f"fixed<{q.bits},{q.integer + 1},RND_CONV,SAT>"
        changed.append(f"{input_layer}: result <- input quantizer {q}")
    # A QActivation(quantized_bits) right after a layer with an 'auto' result is merged away without
    # its quantization: copy its type onto the parent.
    for layer in model.layers[2:]:
        if isinstance(layer, QActivation) and layer.quantizer.__class__.__name__ == "quantized_bits":
            parent = layer.inbound_nodes[0].inbound_layers.name
            if layers.get(parent, {}).get("Precision", {}).get("result") == "auto":
                layers[parent]["Precision"]["result"] = layers[layer.name]["Precision"]["result"]
                changed.append(f"{parent}: result <- {layer.name}")
    return changed


def convert(keras_model, part: str, clock_period_ns: float, inputs: np.ndarray, out: Path,
            settings: Hls4mlSettings | None = None, board=None, calibration: tuple[np.ndarray, dict] | None = None) -> dict:
    """Convert, emulate and check; everything is written under out. Raises when the emulation
    does not agree with the Keras model as the settings require. With a board, its board project
    too: the board IP's AXI-stream top and its Vitis HLS script in the project (board_project.py).
    calibration: (the calibration inputs, their record), for the settings' calibration pass."""
    import hls4ml

    settings = settings or Hls4mlSettings()
    hls_config = hls4ml.utils.config_from_keras_model(keras_model, granularity="name", backend="Vitis")
    fixes = _fix_precisions(keras_model, hls_config) + settings.apply(keras_model, hls_config)
    if settings.reuse == "fit":
        if board is None:
            raise ConfigError("hls4ml reuse: fit chooses reuse factors for a board's resources, and no board was given")
        fixes += reuse.resource_strategy(keras_model, hls_config, settings.given("Strategy", hls_config["LayerName"]))
    calibrated = None
    if settings.calibrate:
        if calibration is None:
            raise ConfigError("hls4ml calibrate needs calibration inputs, and the train stage wrote none (only a reference "
                              "model's train stage does, from the data stage's calibration set)")
        calibrated = calibration_pass.apply(keras_model, hls_config, settings, *calibration)
        fixes += [f"{name}: result <- {c['result']} (calibrated: {c['min']:.4g} .. {c['max']:.4g})"
                  for name, c in calibrated["layers"].items()]
        log.info("hls4ml: calibrated %d result types on %d calibration inputs (%s)", len(calibrated["layers"]),
                 calibrated["inputs"], calibrated.get("source"))
    project_dir = out / PROJECT

    def graph():
        return hls4ml.converters.convert_from_keras_model(keras_model, hls_config=hls_config, output_dir=str(project_dir),
                                                          project_name=TOP, backend="Vitis", part=part,
                                                          clock_period=clock_period_ns, io_type=settings.io_type)

    hls_model = graph()
    folding = None
    if settings.reuse == "fit":  # chosen on this graph, then converted again with them: hls4ml checks and lays them out
        folding = reuse.fit(hls_model, resources.budget(board, settings.reuse_budget),
                            settings.given("ReuseFactor", hls_config["LayerName"]), settings.fifo_depth)
        for name, chosen in folding["layers"].items():
            hls_config["LayerName"].setdefault(name, {})["ReuseFactor"] = chosen["reuse_factor"]
        note = ""
        if not folding["fits"]:
            what = list(folding["over"])
            if folding["beyond"]:
                what.append(f"{', '.join(k.upper() for k in folding['beyond'])} over whatever the reuse factors")
            note = f"; over the budget ({'; '.join(what)})"
        log.info("hls4ml: reuse factors for %.0f%% of the %s at %d cycles a layer (modeled): %s%s",
                 100 * settings.reuse_budget, board.name, folding["target_cycles"],
                 ", ".join(f"{n} {c['reuse_factor']}" for n, c in folding["layers"].items()), note)
        hls_model = graph()
    fifos, timing = {}, latency.model(hls_model)
    if settings.fifo_depth != "tensor":  # depths the timeline fills: it stays the same with them
        fifos = fifo_depths.apply(hls_model, timing, branches=settings.fifo_depth == "modeled_branches")
        log.info("hls4ml: %d FIFO depths from the modeled timeline (tensor -> modeled: %s)", len(fifos),
                 ", ".join(f"{d['tensor']}->{d['modeled']}" for d in fifos.values()))
    est = estimates(hls_model, clock_period_ns, board, timing)
    log.info("hls4ml estimates (modeled): %d cycles = %.1f us per inference at %.0f MHz; LUT %.0f, FF %.0f, BRAM18 %.0f, "
             "DSP %.0f", est["critical_path_cycles"], est["accelerator_latency_us"], 1000 / clock_period_ns, est["lut"],
             est["ff"], est["bram18"], est["dsp"])
    hint = (f"{', '.join(k.upper() for k in folding['beyond'])} over even with every layer at its largest reuse factor "
            "(reuse: fit): not the multipliers' (see the layers' estimates)" if folding and folding["beyond"]
            else "raise the reuse factors (hls4ml.reuse: fit, or hls4ml.layers.<name>.ReuseFactor in task.yaml)")
    over = resources.check_fit(est, board, hint) if board is not None else None
    est = fit_gate("hls4ml", over, est, settings.fit, checked=board is not None)
    log.info("hls4ml: compiling the C++ model (g++) ...")
    hls_model.compile()  # also write()s the full HLS project

    expected = keras_model.predict(inputs, batch_size=1024, verbose=0).reshape(len(inputs), -1)
    emu = _emulator(hls_model, project_dir, out, settings)
    log.info("hls4ml: C simulation of %d test inputs (the reference) ...", len(inputs))
    start = time.perf_counter()
    csim = _predict(hls_model, inputs.astype(np.float64)).reshape(expected.shape)
    csim_rate = len(inputs) / (time.perf_counter() - start)
    emulated, emu_report = csim, {"none": emu} if isinstance(emu, str) else {}
    if not isinstance(emu, str):
        start = time.perf_counter()
        raw = emulator.run(out / emulator.LIBRARY, inputs, emu["n_out"])
        emu_rate = len(inputs) / (time.perf_counter() - start)
        emulated = np.ldexp(raw.astype(np.float64), -emu["out_frac"])  # exact: outputs of at most 53 bits
        same = float(np.mean(np.all(emulated == csim, axis=1)))
        emu_report = {**emu, "bit_identical_to_csim": same, "inputs_checked": len(inputs),
                      "inferences_per_s": round(emu_rate), "csim_inferences_per_s": round(csim_rate, 1),
                      "what": "C generated from hls4ml's ModelGraph (toolchains/hls4ml/emulator.py) vs hls4ml's C "
                              "simulation (predict of the compiled project), every test input, host CPU"}
        log.info("hls4ml: the emulator is bit-identical with the C simulation on %.2f%% of %d test inputs (%.0f vs %.1f "
                 "inferences/s on this CPU)", 100 * same, len(inputs), emu_rate, csim_rate)
        if same < 1.0:
            bad = int(np.argmin(np.all(emulated == csim, axis=1)))
            raise GateError(f"the hls4ml emulator differs from hls4ml's C simulation on {1 - same:.2%} of {len(inputs)} "
                            f"test inputs (first: input {bad}); set hls4ml.emulator: false in task.yaml to run the C "
                            f"simulation on the DUT instead, and report the model")
    # Keras's float32 outputs against the emulation's values as float32 (what the C simulation's float bridge gives)
    emulated = emulated.astype(np.float32)
    exact = float(np.mean(np.all(emulated == expected, axis=1)))
    argmax = float(np.mean(emulated.argmax(axis=1) == expected.argmax(axis=1))) if expected.shape[1] > 1 else None
    np.save(out / "emulated_outputs.npy", emulated)

    in_t = hls_model.get_input_variables()[0].type.precision
    out_t = hls_model.get_output_variables()[0].type.precision
    if in_t.width > 32 or out_t.width > 53:
        raise BuildError(f"accelerator words too wide for the firmware: input {in_t}, output {out_t}")
    write_accel_model(out / "accel_model.h", int(np.prod(inputs.shape[1:])), expected.shape[1], in_t.width,
                      in_t.width - in_t.integer, out_t.width, out_t.width - out_t.integer, top=TOP,
                      stream=settings.io_type == "io_stream")
    for adapter in (ADAPTER, ADAPTER_HEADER, ADAPTER_IO, QEMU_ADAPTER, EMU_ADAPTER):
        shutil.copy(adapter, out / adapter.name)
    shutil.copytree(BAREMETAL, out / BAREMETAL.name)
    no_qemu = write_qemu_weights(project_dir, out / QEMU_WEIGHTS)
    if no_qemu:
        log.warning("hls4ml: no firmware for QEMU from this project (%s)", no_qemu)
    _relative_output_dir(project_dir)
    agreed = settings.agreement_of(emulated, expected)
    failure = settings.check(agreed)
    board_ip, board_error = None, None
    if board is not None and not failure:  # only a design that passed: its project gets the board IP's top
        from toolchains.hls4ml import board_project

        try:  # an extra for the vendor tools: a design whose words do not fit still runs on the emulated board
            board_ip = board_project.write(project_dir, int(np.prod(inputs.shape[1:])), expected.shape[1], in_t, out_t, TOP,
                                           settings.io_type == "io_stream")
        except BuildError as e:
            board_error = str(e)
            log.warning("hls4ml: no %s board IP (%s)", board.name, board_error)
    report = {
        "backend": "Vitis",
        "board_ip": board_ip,
        "board_ip_error": board_error,
        "io_type": settings.io_type,
        "part": part,
        "clock_period_ns": clock_period_ns,
        "project": PROJECT,
        "input_type": str(in_t),
        "output_type": str(out_t),
        "precision_fixes": fixes,
        "calibration": calibrated or {"source": "none: every type as task.yaml sets it"
                                      + ("" if calibration is None else " (the train stage's calibration set unused)")},
        "fifo_depths": {"source": settings.fifo_depth, "changed": fifos},
        "reuse": folding or {"source": "layers: every reuse factor as task.yaml gives it (else 1)"},
        "windows_checked": int(inputs.shape[0]),
        "exact_fraction": exact,
        "argmax_agreement": argmax,
        "exact_what": f"{'the emulator' if emu_report.get('what') else 'hls4ml C simulation'} vs Keras, "
                      f"{inputs.shape[0]} test inputs",
        "emulator": emu_report,
        "estimates": est,
        "dut_model": "hls4ml C simulation (C++)" if isinstance(emu, str) else "the generated emulator (C)",
        "gate": settings.gate_text(),
        "gate_agreement": agreed,
        "qemu_weights": no_qemu or f"compiled in ({QEMU_WEIGHTS})",
        "max_abs_diff": float(np.max(np.abs(emulated - expected))),
        "what": "hls4ml emulation (bit-accurate ap_fixed) vs the Keras model on host, every test input",
    }
    if failure:
        raise GateError(f"hls4ml emulation vs Keras on {inputs.shape[0]} test inputs: {failure} "
                        f"(max |diff| {report['max_abs_diff']:.3g})")
    return report


def estimates(hls_model, clock_period_ns: float, board=None, timing: dict | None = None) -> dict:
    """Modeled latency (latency.py) and resources (resources.py) of the converted design, per layer and
    in total, in the form FINN's estimates take in the report; the board adds its per-call overhead."""
    timing, res = timing or latency.model(hls_model), resources.model(hls_model)
    accelerator_us = timing["cycles"] * clock_period_ns / 1000.0
    overhead = board.call_overhead.us if board is not None else 0.0
    cost = {layer["name"]: layer for layer in res["layers"]}
    layers = {t["name"]: {**{k: v for k, v in t.items() if k != "name"},
                          **{k: v for k, v in cost.get(t["name"], {}).items() if k not in ("name", "kind")}}
              for t in timing["layers"]}
    for name, c in cost.items():  # layers without a time of their own (the input's FIFO)
        layers.setdefault(name, {k: v for k, v in c.items() if k != "name"})
    return {"critical_path_cycles": timing["cycles"], "accelerator_cycles": timing["cycles"],
            "accelerator_latency_us": accelerator_us, "call_overhead_us": overhead,
            "modeled_latency_us": accelerator_us + overhead,
            "lut": float(res["lut"]), "ff": float(res["ff"]), "bram18": float(res["bram18"]), "dsp": float(res["dsp"]),
            "layers": layers,
            "what": f"hls4ml estimates (modeled, not synthesised; accelerator only) at {1000 / clock_period_ns:g} MHz: "
                    f"{timing['basis']}; {res['basis']}"}


def _emulator(hls_model, project_dir: Path, out: Path, settings: Hls4mlSettings) -> dict | str:
    """The emulator generated from the converted model and compiled for this CPU: its interface,
    or why there is none (the DUT then links hls4ml's C simulation)."""
    if not settings.emulator:
        return "turned off (hls4ml.emulator: false in task.yaml)"
    try:
        info = emulator.generate(hls_model, project_dir, out)
    except emulator.Unsupported as e:
        log.warning("hls4ml: no emulator for this design (%s); the DUT runs hls4ml's C simulation", e)
        return str(e)
    emulator.compile_library(out)
    return info


def _predict(hls_model, inputs: np.ndarray, chunk: int = 256) -> np.ndarray:
    """hls4ml's C simulation in chunks, with a progress bar (a CNN runs at a few to tens of inputs/s)."""
    from tqdm import tqdm

    outputs = []
    with tqdm(total=len(inputs), desc="hls4ml C simulation", unit="input", disable=len(inputs) <= chunk) as bar:
        for i in range(0, len(inputs), chunk):
            part = np.ascontiguousarray(inputs[i:i + chunk])
            outputs.append(np.asarray(hls_model.predict(part)).reshape(len(part), -1))
            bar.update(len(part))
    return np.concatenate(outputs)


def _relative_output_dir(project_dir: Path) -> None:
    """hls4ml records the absolute folder it wrote to (a stage's temporary `.partial` folder) in its
    config (OutputDir, KerasModel); record it relative to the project's parent, so the tree can be moved."""
    config = project_dir / "hls4ml_config.yml"
    config.write_text(config.read_text().replace(str(project_dir.resolve()), project_dir.name))


def accelerator(convert_dir: Path) -> Accelerator:
    """What the emulated board links behind accel.h: the generated emulator where the convert stage
    made one (checked bit for bit against the C simulation), else the adapter and the hls4ml top
    function, with the weight files to copy beside the binary (hls4ml's WEIGHTS_DIR then names that copy)."""
    if (convert_dir / emulator.SOURCE).is_file():
        return Accelerator(name="hls4ml emulator (C generated from the ModelGraph, bit-identical with the C simulation)",
                           sources=[convert_dir / EMU_ADAPTER.name, convert_dir / emulator.SOURCE], includes=[convert_dir])
    project = convert_dir / PROJECT
    return Accelerator(
        name="hls4ml C++ (bit-accurate ap_fixed)",
        sources=[convert_dir / ADAPTER.name, project / "firmware" / f"{TOP}.cpp"],
        includes=[convert_dir, project, project / "firmware", project / "firmware" / "ap_types"],
        defines={"WEIGHTS_DIR": "accel_weights_dir()"},
        cxx_prelude=convert_dir / ADAPTER_HEADER.name,
        data={"weights": project / "firmware" / "weights"},
    )


LOAD_BLOCK = re.compile(r"#ifndef __SYNTHESIS__\n(.*?)#endif", re.S)
LOAD_TXT = re.compile(r'nnet::load_weights_from_txt<\w+, \d+>\((\w+), "(\w+\.txt)"\);')


def _text_weights(project: Path) -> tuple[list[tuple[str, str]], str | None]:
    """[(array, text file)] that hls4ml's myproject.cpp loads at its first call (its one
    `#ifndef __SYNTHESIS__` block), or why they cannot be compiled in instead."""
    top = (project / "firmware" / f"{TOP}.cpp").read_text()
    blocks = LOAD_BLOCK.findall(top)
    if top.count("__SYNTHESIS__") != len(blocks) or len(blocks) > 1 or (blocks and "loaded_weights" not in blocks[0]):
        return [], (f"{TOP}.cpp uses __SYNTHESIS__ for more than its weight loading (e.g. tracing): "
                    f"the bare-metal build defines it for that file to skip the loading")
    calls = [line.strip() for line in (blocks[0] if blocks else "").splitlines() if "nnet::load_" in line]
    matches = [LOAD_TXT.fullmatch(c) for c in calls]
    other = [c for c, m in zip(calls, matches) if m is None]
    if other:  # e.g. hls4ml's compressed or exponent weights, read by loaders of their own
        return [], f"weights the bare-metal build cannot compile in: {other[0]}"
    weights = [(m.group(1), m.group(2)) for m in matches if m]
    missing = [f for _, f in weights if not (project / "firmware" / "weights" / f).is_file()]
    if missing:
        return [], f"hls4ml wrote no weights/{missing[0]}"
    return weights, None


def write_qemu_weights(project: Path, header: Path) -> str | None:
    """The header that compiles hls4ml's weight text files into the bare-metal build
    (accel_hls4ml_qemu.cpp): a constant double table per array whose initialiser is its text file,
    and accel_load_weights(), which fills the model's arrays from them at accel_init. Returns None,
    or why this project's weights cannot be compiled in (no header is written then)."""
    weights, why = _text_weights(project)
    if why:
        return why
    lines = ["/* Generated by toolchains/hls4ml/convert.py from hls4ml's myproject.cpp: the weight arrays its C",
             " * simulation loads from text files, with those files (firmware/weights/, one line of",
             " * comma-separated values) compiled in as the initialisers of constant tables. The table's size is",
             " * the file's; accel_weights_from_text takes only a table of the array's size. */",
             "#ifndef ACCEL_WEIGHTS_QEMU_H", "#define ACCEL_WEIGHTS_QEMU_H", ""]
    for array, text in weights:
        lines += [f"static const double accel_text_{array}[] = {{", f'#include "firmware/weights/{text}"', "};"]
    lines += ["", "static void accel_load_weights(void) {",
              *(f"    accel_weights_from_text({array}, accel_text_{array});" for array, _ in weights), "}", "", "#endif"]
    header.write_text("\n".join(lines) + "\n")
    return None


def qemu_accelerator(convert_dir: Path) -> Accelerator:
    """What the board's firmware for QEMU links behind accel.h: the same hls4ml C++ model as the
    emulated board, with its weight text files compiled in (accel_hls4ml_qemu.cpp); baremetal/ comes
    first on the include path (its hls::stream and <iostream> replace those that need the compiled
    libstdc++). Raises a BuildError saying why when this project's weights cannot be compiled in."""
    project = convert_dir / PROJECT
    _, why = _text_weights(project)
    if why:
        raise BuildError(f"hls4ml's model cannot be built for bare metal: {why}")
    return Accelerator(
        name="hls4ml C++ (bit-accurate ap_fixed), weights compiled in",
        sources=[convert_dir / QEMU_ADAPTER.name],
        includes=[convert_dir / BAREMETAL.name, convert_dir, project, project / "firmware", project / "firmware" / "ap_types"],
    )
