"""systems/<system_desc_id>.json (docs/mlperf-tiny.md 5.3): every field of the template, filled from
the board description and from what ran, as the run's manifests record it: the operating system
from the name the DUT reported (the bare-metal build names itself as the board, the PYNQ Linux
program with `_linux`), the inference framework from the toolchain and its convert stage, and the
quantization from the model (model=reference: post-training; a trained model: quantization-aware)."""

from __future__ import annotations

import importlib.metadata

from boards import board as boards
from common.provenance import LINK_TEXT
from results.runs import Run

INFERENCE_PACKAGES = {"hls4ml": ["hls4ml"], "finn": ["finn-plus", "qonnx"]}
TRAINING = {"hls4ml": "QKeras on TensorFlow/Keras 2", "finn": "Brevitas on PyTorch"}


def _version(package: str) -> str:
    try:
        return f"{package} {importlib.metadata.version(package)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{package} (not installed)"


def operating_system(run: Run, b: boards.Board) -> str:
    """What the DUT program ran on, from the name it reported (boards/firmware.py names each build)."""
    name = run.summary.get("name")
    if run.provenance.link != "board":
        return f"none on the board: {LINK_TEXT[run.provenance.link]}"
    if name == b.vendor_name:
        return "none (bare metal)"
    if name == f"{b.vendor_name}_linux":
        return f"PYNQ Linux (the board's image; the DUT program of boards/{b.name}/linux/)"
    return f"not known: the DUT reported the name {name!r}, not one of this harness's {b.name} builds"


def _compiler(b: boards.Board, os_name: str) -> str:
    return b.linux.compiler if b.linux is not None and os_name.startswith("PYNQ Linux") else b.processor.cross_compiler


def inference_framework(run: Run) -> str:
    tools = ", ".join(_version(p) for p in INFERENCE_PACKAGES.get(run.flow, [run.flow]))
    backend = ((run.stage_manifest("convert") or {}).get("outputs") or {}).get("backend")
    return tools + (f" ({backend} backend)" if backend else "") + " (versions installed when exported)"


def quantization(run: Run) -> tuple[str, str]:
    """(Quantization Method, Training framework) of the model that ran."""
    if run.model == "reference":
        recorded = ((run.stage_manifest("train") or {}).get("outputs") or {}).get("quantization")
        how = recorded or "fixed-point types chosen for the reference weights, no retraining"
        return f"post-training quantization (PTQ): {how}", "none: the MLPerf reference model, not retrained"
    if run.model == "trained":
        return f"quantization-aware training (QAT) with {TRAINING.get(run.flow, 'the toolchain framework')}", \
            TRAINING.get(run.flow, "not stated")
    return f"as the imported model {run.model_name} was quantized before import (not stated)", "not stated (imported model)"


def describe(run: Run, organization: str, division: str, status: str, practice: str | None) -> dict:
    """Every field of the MLPerf Tiny system description template; no `system_type` (the checker rejects it)."""
    b = boards.load(run.board)
    notes = f"{practice}. " if practice else ""
    os_name = operating_system(run, b)
    method, training = quantization(run)
    framework = inference_framework(run)
    return {
        "Submitter": organization, "Division": division, "Status": status,
        "Board Name": b.title,
        "Board Memory capacity (not including SoC, processor, or accelerator)": b.memory, "Board Memory type": b.memory,
        "Board storage capacity": "microSD / SPI flash (boot image)", "Board storage type": "microSD / SPI flash",
        "SoC Name": b.part,
        "SoC Memory capacity (not including processor or accelerator)": "on-chip BRAM, see Board Memory",
        "SoC Memory type": "BRAM", "SoC storage capacity": "none", "SoC storage type": "none",
        "Processor(s) Name": b.processor.name, "Processor(s) Frequencies": f"{b.processor.clock_mhz:g} MHz",
        "Processor memory type and capacity": b.memory, "Processor storage type and capacity": "none",
        "Accelerator": f"{run.flow} dataflow accelerator in the {b.part} fabric",
        "Accelerator(s) Frequencies": f"{b.fabric_clock_mhz:g} MHz",
        "Accelerator memory type and capacity": "on-chip BRAM/registers (weights in the fabric)",
        "Accelerator storage type and capacity": "none",
        "Hardware Notes": f"{notes}Energy set-up: {b.power.method}, {b.power.supply}, {b.power.monitor}.",
        "Inference Framework": framework,
        "Software Libraries": f"EEMBC test-harness protocol core (this project); operating system: {os_name}",
        "Operating System ": os_name, "Operating System": os_name,
        "Other Software Stack": "mlperf-tiny-fpga harness",
        "Software Notes": f"{notes}Model: {run.provenance.model_origin or 'not stated'}.",
        "Quantization Method": method, "Training framework (open division)": training,
        "ML Model Compiler(s)": framework, "General Compiler(s)": _compiler(b, os_name), "Other Software": "none",
        "Training and Quantization Notes": f"{notes}{method}. See code/{run.benchmark}/.",
    }
