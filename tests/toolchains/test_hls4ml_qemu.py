"""hls4ml's C++ model in the Pynq-Z2's bare-metal firmware, in QEMU (dut=qemu with flow=hls4ml): a
small kws01 DS-CNN (the recipe's QKeras builder, narrow, untrained: io_stream, convolution,
depthwise convolution with its line buffers, dense) converted by hls4ml, the emulated board and the
firmware for QEMU built through the build stage's one request to boards/, and every test file's
printed result compared between the two: the same bit-accurate model, with its weights read from
text files on the host and compiled in on bare metal, must print the same results."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from boards import board, firmware
from boards.build import BuildRequest, build_all
from runner.dut import Dut
from runner.emulated import emulated_dut
from runner.qemu import qemu_dut
from runner.transport import SerialTransport
from tasks import load_recipe
from toolchains.base import Accelerator

FILES = 24


def _results(url: str, files) -> list[list[float]]:
    """Each file's m-results, in order, from the DUT at url."""
    with SerialTransport(url) as transport:
        dut = Dut(transport)
        dut.identify()
        out = []
        for f in files:
            dut.load(f.read_bytes())
            out.append(dut.infer(1, 0).results)
        return out


@pytest.mark.slow
def test_qemu_firmware_prints_the_emulated_boards_results(tmp_path):
    b = board.load("pynq_z2")
    compiler, found = firmware.cross_compiler(b)
    if found is None:
        pytest.skip(f"{compiler} not found: make setup installs the cross compilers")
    why = firmware.no_cross_cxx(b)
    if why:
        pytest.skip(f"no bare-metal C++ for {b.name}: {why}")
    if shutil.which(b.firmware.qemu.command[0]) is None:
        pytest.skip(f"{b.firmware.qemu.command[0]} not found: make setup installs QEMU")

    from tasks.kws import model_qkeras
    from toolchains.hls4ml import convert
    from toolchains.hls4ml.settings import Hls4mlSettings

    recipe = load_recipe("kws")
    folder = tmp_path / "eembc" / recipe.model_id
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    zero_point = recipe.cfg.input.zero_point
    files = []
    for i in range(FILES):  # int8 MFCC-like bytes around the zero point
        name = f"tst_{i:06d}_x_{i % 12}.bin"
        q = np.clip(np.round(rng.normal(zero_point, 40, recipe.input_bytes)), -128, 127).astype(np.int8)
        (folder / name).write_bytes(q.tobytes())
        files.append(folder / name)
    (folder / "y_labels.csv").write_text("".join(f"{f.name},12,{i % 12}\n" for i, f in enumerate(files)))

    cfg = recipe.cfg.model.model_copy(update={"filters": 4, "blocks": 1})
    shape = (recipe.cfg.features.frames, recipe.cfg.features.coefficients, 1)
    model = model_qkeras.build(cfg, shape, len(recipe.cfg.classes))
    conv = tmp_path / "convert"
    conv.mkdir()
    report = convert.convert(model, b.part, b.clock_period_ns, recipe.model_inputs(tmp_path / "eembc", {}), conv,
                             Hls4mlSettings(io_type="io_stream"))
    assert report["exact_fraction"] == 1.0 and report["qemu_weights"].startswith("compiled in")

    built = build_all(BuildRequest(
        board=b, task_sources=recipe.firmware_sources, task_defines=recipe.firmware_defines(None),
        input_bytes=recipe.input_bytes, accelerator=convert.accelerator(conv), out=tmp_path / "build",
        no_board_accelerator="not in this test", qemu=True, qemu_accelerator=convert.qemu_accelerator(conv)))
    assert "qemu_performance" in built.artifacts, built.skipped
    with emulated_dut(built.artifacts["dut_performance"]) as url:
        host = _results(url, files)
    with qemu_dut(built.artifacts["qemu_performance"], b.firmware.qemu.command) as url:
        qemu = _results(url, files)
    assert len({tuple(r) for r in host}) > FILES // 2  # the results tell the files apart: the comparison means something
    assert qemu == host


def test_a_board_whose_compiler_is_c_only_skips_a_cpp_model_in_qemu(tmp_path):
    """The MicroBlaze gcc (Arty A7) compiles C only: the firmware for QEMU is skipped, saying so."""
    b = board.load("arty_a7")
    compiler, found = firmware.cross_compiler(b)
    if found is None:
        pytest.skip(f"{compiler} not found (nor its toolchain archive)")
    recipe = load_recipe("ad")
    stub = firmware.stub_accelerator(tmp_path / "accel", recipe.stub_accelerator())
    cxx = Accelerator("a C++ model", [tmp_path / "model.cpp"], stub.includes)
    built = build_all(BuildRequest(
        board=b, task_sources=recipe.firmware_sources, task_defines=recipe.firmware_defines(None),
        input_bytes=recipe.input_bytes, accelerator=stub, out=tmp_path / "build", no_board_accelerator="not in this test",
        qemu=True, qemu_accelerator=cxx))
    assert built.skipped[f"{b.processor.name} firmware in QEMU"] == (
        f"skipped: the accelerator model (a C++ model) is C++, and {b.processor.cross_compiler} compiles C only "
        f"(no {b.processor.cross_compiler.removesuffix('gcc')}g++ beside it)")
    assert not any(name.startswith("qemu_") for name in built.artifacts)
