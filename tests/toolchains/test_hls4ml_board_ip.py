"""The hls4ml board IP (toolchains/hls4ml/board_project.py): our AXI-stream top around the Vitis
backend's project, for Vitis HLS of the one release every vendor step is written for.

- The top compiled with g++ in C simulation (hls4ml's ap_types and hls::stream) gives, word for word,
  the integers hls4ml's own top gives through the emulated board's accel_run, on random inputs over
  the input type's whole range: io_stream here (a small CNN), io_parallel in tests/test_flow.py (the
  AD flow on the Pynq-Z2). A wrong sign extension fails it.
- A type wider than its 32-bit word is refused when the project is written.
- The build stage's vendor step is Vitis HLS (vitis-run), skipped where it is not installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from frameworks import keras2  # noqa: F401  (Keras 2 before hls4ml)

REPO = Path(__file__).resolve().parents[2]
CHECK = Path(__file__).with_name("axis_top_check.cpp")


def check_axis_top(convert_dir: Path, work: Path, inputs: int = 20) -> str:
    """Compile the board IP's top with hls4ml's project and the emulated board's accel_run, run both on
    random inputs and return the check's last line; fails on any word that differs."""
    project = convert_dir / "hls4ml_prj"
    work.mkdir(parents=True, exist_ok=True)
    command = ["g++", "-O1", "-std=c++14", f"-I{project}", f"-I{project / 'firmware'}",
               f"-I{project / 'firmware' / 'ap_types'}", f"-I{convert_dir}", f"-I{REPO / 'boards' / 'common' / 'firmware'}",
               f"-DWEIGHTS_DIR=\"{project / 'firmware' / 'weights'}\"", str(CHECK), str(project / "accel_axis.cpp"),
               str(project / "firmware" / "myproject.cpp"), "-o", str(work / "axis_check")]
    built = subprocess.run(command, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-3000:]
    ran = subprocess.run([str(work / "axis_check"), str(inputs)], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout[-2000:]
    return ran.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_the_board_ip_top_gives_hls4mls_integers_for_a_streaming_cnn(tmp_path):
    from boards import board
    from frameworks.keras2 import keras
    from toolchains.hls4ml import convert, ip
    from toolchains.hls4ml.settings import Hls4mlSettings
    from toolchains.hls4ml.toolchain import Toolchain

    L = keras.layers
    keras.utils.set_random_seed(4)
    x_in = keras.Input((6, 5, 2), name="x")
    x = L.Conv2D(4, 3, padding="same", name="c0")(x_in)
    x = L.Activation("relu", name="r0")(x)
    x = L.Flatten(name="flat")(x)
    out = L.Dense(5, name="head")(x)
    model = keras.Model(x_in, out)
    inputs = np.random.default_rng(2).normal(0, 2, (20, 6, 5, 2)).astype(np.float32)
    settings = Hls4mlSettings(io_type="io_stream", input="fixed<10,4,RND,SAT>", agreement="argmax", min_agreement=0.1,
                              layers={"c0": {"result": "fixed<12,6,RND,SAT>"}, "r0": {"result": "ufixed<8,4,RND,SAT>"},
                                      "head": {"result": "fixed<14,7,RND,SAT>"}})
    pynq = board.load("pynq_z2")
    out = tmp_path / "convert"
    out.mkdir()
    report = convert.convert(model, pynq.part, pynq.clock_period_ns, inputs, out, settings, pynq)
    assert report["board_ip"] == {"top": "accel_axis", "script": "accel_axis.tcl", "word_bits": 32, "tool": "vitis-run"}
    header = (out / "hls4ml_prj" / "accel_axis.h").read_text()
    assert "#define ACCEL_IO_STREAM 1" in header and "#define ACCEL_IN_SIGNED 1" in header
    assert check_axis_top(out, tmp_path / "check").startswith("0 mismatches in 20 inputs")
    assert ip.output_words(out) == 5  # the words the block design counts to mark an inference's end
    assert Toolchain().vendor_steps(pynq) == [("vitis-run", "HLS synthesis and IP export of the hls4ml board IP "
                                                            "(Vitis HLS, accel_axis.tcl)")]


def test_a_type_wider_than_a_word_is_refused():
    from hls4ml.model.types import FixedPrecisionType

    from common.errors import BuildError
    from toolchains.hls4ml import board_project

    with pytest.raises(BuildError, match="32 bits: input .* or output .* does not fit one"):
        board_project.write(Path("/nonexistent"), 4, 4, FixedPrecisionType(16, 8), FixedPrecisionType(40, 12), "myproject", False)
    with pytest.raises(BuildError, match="does not fit one"):  # an unsigned 32-bit value would read back negative
        board_project.write(Path("/nonexistent"), 4, 4, FixedPrecisionType(16, 8), FixedPrecisionType(32, 12, False),
                            "myproject", False)


@pytest.mark.skipif(shutil.which("vitis-run") is not None, reason="Vitis HLS is installed: the build runs it")
def test_the_board_ip_build_needs_vitis_hls(tmp_path):
    from common.errors import BuildError
    from toolchains.hls4ml import board_project

    (tmp_path / "hls4ml_prj").mkdir()
    with pytest.raises(BuildError, match="has no accel_axis.tcl: convert again"):
        board_project.build(tmp_path / "hls4ml_prj", tmp_path / "out")
