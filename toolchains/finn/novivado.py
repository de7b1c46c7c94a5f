"""finn-plus without Vivado (docs/toolchains.md A.7): import this before anything from finn.builder.

Three work-arounds, each for an error finn-plus 1.6.1 raises on a machine without Xilinx tools:
settings built from FINN_BUILD_DIR (else 'Could not find global settings'), a placeholder for
finn.xsi.SimEngine (only a type annotation, but importing it needs XILINX_VIVADO), and an exit hook
that does not ask for the Vivado root (else a finished build returns -1). Where Vivado is
installed nothing is replaced."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from common.paths import build_root

VIVADO = os.environ.get("XILINX_VIVADO") or shutil.which("vivado")

if not os.environ.get("FINN_BUILD_DIR"):  # FINN's scratch files (code generation): under the build folder
    os.environ["FINN_BUILD_DIR"] = str((build_root() / "finn_tmp").resolve())
Path(os.environ["FINN_BUILD_DIR"]).mkdir(parents=True, exist_ok=True)

if not VIVADO:
    import finn.xsi

    finn.xsi.SimEngine = object

from finn.util.settings import get_settings  # noqa: E402

get_settings()

import finn.builder.build_dataflow as build_dataflow  # noqa: E402

if not VIVADO:
    build_dataflow.get_vivado_root = lambda: "/nonexistent/vivado (not installed)"
