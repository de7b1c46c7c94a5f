"""The protocol parser under libFuzzer with ASan and UBSan: every seed and every kept regression
input passes, then a short fuzzing run finds nothing. (The long run is bench/fuzz_protocol.py.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from boards import firmware
from tests.conftest import REPO

FUZZ = REPO / "boards" / "emulated" / "fuzz"


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory) -> Path:
    if firmware.fuzz_compiler() is None:
        pytest.skip("no clang with libFuzzer on PATH (make setup installs Debian's clang-14)")
    from tasks import load_recipe

    out = tmp_path_factory.mktemp("fuzz")
    recipe = load_recipe("ad")
    accel = firmware.stub_accelerator(out / "accel", recipe.stub_accelerator())
    return firmware.build_fuzzer(recipe.firmware_sources, recipe.firmware_defines(None), recipe.input_bytes, accel, out,
                                 max_iterations=8)


def test_seeds_and_regressions_pass(fuzzer):
    inputs = sorted((FUZZ / "seeds").iterdir()) + sorted(p for p in (FUZZ / "regressions").iterdir() if p.suffix != ".md")
    assert len(inputs) >= 5
    proc = subprocess.run([str(fuzzer), *map(str, inputs)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_a_short_fuzzing_run_finds_nothing(fuzzer, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for seed in (FUZZ / "seeds").iterdir():
        (corpus / seed.name).write_bytes(seed.read_bytes())
    proc = subprocess.run([str(fuzzer), "-runs=30000", f"-artifact_prefix={tmp_path}/", str(corpus)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not list(tmp_path.glob("crash-*")) and "Done 30000 runs" in proc.stderr
