"""The project's layers and which may import which: the one place the order is written (the test
tests/test_layers.py walks every module's imports against it; README "Layout" explains it).

    common                         what every layer may use: errors, paths, YAML, JSON, file formats
    frameworks                     Keras 2/QKeras set-up, Brevitas QAT pieces, QONNX import
    tasks       toolchains         siblings: a recipe never names a toolchain, nor a toolchain a task
    boards                         integrates any toolchain's accelerator through the toolchain interface
    runner                         the EEMBC host tool: on common alone (it must run beside any board)
    results                        report and export: reads board descriptions for the systems JSON
    pipeline                       the stage graph: the only layer below sweep that knows all the others
    sweep                          design-space sweeps: many pipelines on Ray

bench/ and tests/ sit above everything and may import any layer."""

from __future__ import annotations

# layer -> the other layers it may import (a layer may always import itself)
MAY_IMPORT: dict[str, frozenset[str]] = {
    "common": frozenset(),
    "frameworks": frozenset({"common"}),
    "tasks": frozenset({"common", "frameworks"}),
    "toolchains": frozenset({"common", "frameworks"}),
    "boards": frozenset({"common", "toolchains"}),
    "runner": frozenset({"common"}),
    "results": frozenset({"common", "boards"}),
    "pipeline": frozenset({"common", "frameworks", "tasks", "toolchains", "boards", "runner", "results"}),
    "sweep": frozenset({"common", "frameworks", "tasks", "toolchains", "boards", "runner", "results", "pipeline"}),
}
