"""Benchmark: fuzz the firmware's command parser and `db` loader (ee_core.c with the ad01 task code
and the stub accelerator) with libFuzzer under ASan and UBSan, and print a table.

    .venv/bin/python bench/fuzz_protocol.py [--runs 10000000] [--seconds N]

Ctrl-C stops it early and still prints the table (libFuzzer's exit code 72 then means interrupted).

The fuzz build's ad01 window is 8 float32 values (32 bytes; the task's own is 640 values, 2 560
bytes): the protocol core is the same code for any buffer size (EE_DB_BUFFER_SIZE), and a whole
load, `infer` and `results` then fit in about 100 input bytes. Inputs are capped at MAX_LEN bytes.
Why: a fuzz execution costs time in proportion to its input's length (every byte goes through the
instrumented parser). Without -max_len libFuzzer takes the longest seed's length as the cap, and a
seed holding a whole 2 560-byte window as hex was 5 503 bytes: inputs grew to that, and fuzzing
ran at about 2 000 to 7 000 executions/s instead of tens of thousands.

Needs clang with libFuzzer (Debian: clang-14; `make test` installs it). Every finding is a crash
file in build/fuzz/findings/: fix it and keep the input in boards/emulated/fuzz/regressions/.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from boards import firmware  # noqa: E402
from common.paths import build_root  # noqa: E402
from tasks import load_recipe  # noqa: E402

FUZZ = Path(__file__).resolve().parent.parent / "boards" / "emulated" / "fuzz"


# the fuzz build's window: 1 frame of 8 mel bins (task.yaml's model.inputs must equal frames x n_mels)
FUZZ_WINDOW = {"model.inputs": 8, "features.frames": 1, "features.n_mels": 8}
MAX_LEN = 512  # bytes per input: a few whole loads and inferences of the fuzz window


def build(out: Path) -> Path:
    """The fuzz target (boards/emulated/fuzz/fuzz_protocol.c) over the ad01 code with the fuzz window."""
    recipe = load_recipe("ad", FUZZ_WINDOW)
    accel = firmware.stub_accelerator(out / "accel", recipe.stub_accelerator())
    return firmware.build_fuzzer(recipe.firmware_sources, recipe.firmware_defines(None), recipe.input_bytes, accel, out,
                                 max_iterations=8)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=10_000_000)
    p.add_argument("--seconds", type=int, default=0, help="stop after this long (0: no limit)")
    args = p.parse_args()
    out = build_root() / "fuzz"
    shutil.rmtree(out, ignore_errors=True)
    (out / "corpus").mkdir(parents=True)
    (out / "findings").mkdir()
    for seed in (FUZZ / "seeds").iterdir():
        shutil.copy(seed, out / "corpus" / seed.name)
    binary = build(out)
    start = time.monotonic()
    proc = subprocess.run([str(binary), f"-runs={args.runs}", f"-max_total_time={args.seconds}", f"-max_len={MAX_LEN}",
                           "-print_final_stats=1", f"-artifact_prefix={out / 'findings'}/", str(out / "corpus")],
                          capture_output=True, text=True)
    seconds = time.monotonic() - start
    stats = dict(re.findall(r"stat::(\w+):\s+(\d+)", proc.stderr))
    findings = sorted(p.name for p in (out / "findings").iterdir())
    sanitizer = len(re.findall(r"ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|libFuzzer)", proc.stderr)) + \
        len(re.findall(r"runtime error:", proc.stderr))
    rows = [("executions", stats.get("number_of_executed_units", "?")),
            ("executions per second", stats.get("average_exec_per_sec", "?")),
            ("wall time", f"{seconds:.0f} s"), ("corpus units added", stats.get("new_units_added", "?")),
            ("peak RSS", f"{stats.get('peak_rss_mb', '?')} MB"), ("crashes / findings", str(len(findings))),
            ("sanitizer reports", str(sanitizer)),
            ("libFuzzer exit code", f"{proc.returncode}{' (interrupted)' if proc.returncode == 72 else ''}")]
    print(f"fuzzing ee_core.c + ad_model.c (8-value window) + stub accelerator (libFuzzer, ASan, UBSan; inputs <= {MAX_LEN} B; "
          "host CPU)")
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}} | {value}")
    if findings:
        print("findings:", ", ".join(findings), f"(in {out / 'findings'})")
    return 0 if proc.returncode in (0, 72) and not findings and not sanitizer else 1


if __name__ == "__main__":
    sys.exit(main())
