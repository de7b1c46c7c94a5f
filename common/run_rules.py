"""The MLPerf Tiny run rules that code enforces (docs/mlperf-tiny.md 4.2, "Rules enforced in code"):
the runner applies them while it runs, the report and the submission gate check a finished run
against them. One definition here, below both."""

from __future__ import annotations

# Performance: exactly 5 windows, on the first 5 inputs; the score is their median throughput
# (MLC script.py: "ERROR 1 - loop_count was not exactly 5.").
PERFORMANCE_WINDOWS = 5

# Each performance window and each energy trial lasts at least 10 s (MLC script.py: "ERROR 2 - loop
# exited before 10 seconds elapsed."; energy: "All inference times must be at least 10 seconds.").
MIN_WINDOW_S = 10.0

# Energy: exactly 5 trials; the score is their median energy per inference.
ENERGY_TRIALS = 5
