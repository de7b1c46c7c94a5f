"""The hls4ml emulator (C generated from hls4ml's ModelGraph) against hls4ml's own C simulation, and
the latency/resource estimates with the fit gate.

- Every ap_fixed conversion the emulator performs (7 quantization modes x 4 overflow modes, signed
  and unsigned, ap_int targets, from integers and from doubles) against hls4ml's ap_types headers
  compiled with g++.
- Small io_stream and io_parallel models with types chosen to exercise what a loose emulator would
  get wrong (products rounded into a narrower accumulator, wrapping and saturating results, every
  rounding mode, average pooling over a window that is not a power of two on signed values,
  residual adds, depthwise convolutions, batch normalization): the convert stage's gate compares the
  emulator with the C simulation on every input, and the emulated DUT links the emulator.
- A design the emulator does not cover keeps the C simulation as the DUT's model, saying why.
- Estimates: convolution cycles follow the reuse factor, and the fit gate refuses a deliberately huge
  reuse-1 network before anything is compiled.
"""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import numpy as np
import pytest

from frameworks import keras2  # noqa: F401  (Keras 2 before hls4ml)

ROUNDING = ("TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_INF", "RND_MIN_INF", "RND_CONV")
OVERFLOW = ("WRAP", "SAT", "SAT_ZERO", "SAT_SYM")


def _ap_types() -> Path:
    import hls4ml

    return Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types"


def test_every_conversion_is_ap_fixeds(tmp_path):
    """Integers at 2^-6 (ap_fixed<24,18>) and doubles into ap_fixed<8,3> and ap_ufixed<8,3> in every
    mode, and into ap_int<6>: the emulator's arithmetic gives ap_types' bits for all of them."""
    from toolchains.hls4ml.emulator import Fixed, quantize, requantize

    src = np.arange(-1500, 1500, dtype=np.int64)  # 2^-6 steps across both ranges, halves and overflow included
    reals = np.concatenate([src / 64.0, np.linspace(-40, 40, 2001), [-0.3, -0.5, -0.7, 0.5, 2.5, -2.5]])
    targets = [(f"ap_{'' if s else 'u'}fixed<8,3,AP_{q},AP_{o}>", Fixed(8, 5, s, q, o))
               for s, q, o in itertools.product((True, False), ROUNDING, OVERFLOW)]
    targets += [("ap_int<6>", Fixed(6, 0, True, "TRN_ZERO", "WRAP", integer_type=True)),
                ("ap_uint<6>", Fixed(6, 0, False, "TRN_ZERO", "WRAP", integer_type=True))]
    lines = ["#include <cstdio>", '#include "ap_fixed.h"', "int main() {",
             f"  static const long long src[{len(src)}] = {{{', '.join(map(str, src))}}};",
             f"  static const double reals[{len(reals)}] = {{{', '.join(repr(float(r)) for r in reals)}}};"]
    for i, (cpp, t) in enumerate(targets):
        lines += [f"  for (int k = 0; k < {len(src)}; ++k) {{ ap_fixed<24,18> x; x.V = src[k]; {cpp} y = x;"
                  f" std::printf(\"%lld \", (long long){'y' if t.integer_type else 'y.V'}); }} std::printf(\"\\n\");",
                  f"  for (int k = 0; k < {len(reals)}; ++k) {{ {cpp} y = reals[k];"
                  f" std::printf(\"%lld \", (long long){'y' if t.integer_type else 'y.V'}); }} std::printf(\"\\n\");"]
    lines.append("  return 0;\n}")
    (tmp_path / "conv.cpp").write_text("\n".join(lines))
    subprocess.run(["g++", "-O1", "-std=c++14", f"-I{_ap_types()}", "conv.cpp", "-o", "conv"], cwd=tmp_path, check=True,
                   capture_output=True)
    out = subprocess.run([str(tmp_path / "conv")], capture_output=True, text=True, check=True).stdout.splitlines()

    def bits(v: np.ndarray, t: Fixed) -> np.ndarray:  # ap_types' .V of a signed type prints its sign-extended value
        return v.astype(np.int64) if t.signed else v.astype(np.int64) & ((1 << t.width) - 1)

    for i, (cpp, t) in enumerate(targets):
        from_ints = np.array(out[2 * i].split(), dtype=np.int64)
        from_reals = np.array(out[2 * i + 1].split(), dtype=np.int64)
        assert np.array_equal(bits(requantize(src, 6, t), t), from_ints), f"{cpp} from ap_fixed<24,18>"
        if t.integer_type:  # ap_int_base(double): toward zero, and 1 for -0.5 < x < 0 (the emulator's input cast)
            expected = np.where((reals < 0) & (reals > -0.5), 1.0, np.trunc(reals))
            expected = expected - 2.0 ** t.width * np.floor((expected - t.lo) / 2.0 ** t.width)
            assert np.array_equal(bits(expected, t), from_reals), f"{cpp} from double"
        else:
            assert np.array_equal(bits(quantize(reals, t), t), from_reals), f"{cpp} from double"


def _convert(model, inputs, settings, tmp_path, board=None):
    from toolchains.hls4ml import convert

    out = tmp_path / "convert"
    out.mkdir()
    part, clock = (board.part, board.clock_period_ns) if board else ("xc7z020clg400-1", 10.0)
    return convert.convert(model, part, clock, inputs, out, settings, board), out


@pytest.mark.slow
def test_a_small_cnn_is_bit_identical_to_the_c_simulation(tmp_path):
    """io_stream: a strided 'same' convolution whose products have more fraction bits than its
    accumulator (rounded one by one, TRN; in int32 lanes), a depthwise convolution rounding its
    products in doubles, a pointwise convolution, a dense head rounding RND, a residual add,
    average pooling over 3 x 3 signed values (truncating division), ReLUs rounding RND_CONV/RND_ZERO
    and saturating SAT_SYM, a wrapping linear layer, a dense head; random weights, 60 inputs."""
    from frameworks.keras2 import keras
    from toolchains.hls4ml import convert
    from toolchains.hls4ml.settings import Hls4mlSettings

    L = keras.layers
    keras.utils.set_random_seed(3)
    x_in = keras.Input((12, 9, 2), name="x")
    x = L.Conv2D(8, (3, 2), strides=2, padding="same", name="c0")(x_in)
    x = L.Activation("relu", name="r0")(x)
    y = L.DepthwiseConv2D(3, padding="same", name="dw")(x)
    y = L.Activation("relu", name="r1")(y)
    y = L.Conv2D(8, 1, name="pw")(y)
    x = L.Add(name="add")([x, y])
    x = L.AveragePooling2D(3, name="pool")(x)  # 6 x 5 -> 2 x 1, windows of 9 (signed: no ReLU before it)
    x = L.Flatten(name="flat")(x)
    out = L.Dense(5, name="head")(x)
    model = keras.Model(x_in, out)
    inputs = np.random.default_rng(0).normal(0, 2, (60, 12, 9, 2)).astype(np.float32)
    settings = Hls4mlSettings(io_type="io_stream", input="fixed<12,5,RND,SAT>", agreement="argmax", min_agreement=0.1, layers={
        "c0": {"weight": "fixed<10,2,RND>", "accum": "fixed<20,9>", "result": "fixed<12,6,RND,SAT>"},
        "r0": {"result": "ufixed<8,4,RND_CONV,SAT>"},
        "dw": {"weight": "fixed<8,1>", "accum": "fixed<16,6>", "result": "fixed<10,4,RND_ZERO,SAT_SYM>"},
        "r1": {"result": "ufixed<7,3,RND_INF,SAT_ZERO>"},
        "pw": {"weight": "fixed<9,2,RND_MIN_INF>", "accum": "fixed<18,8>", "result": "fixed<10,5,TRN_ZERO,WRAP>"},
        "add": {"result": "fixed<11,6,RND,WRAP>"},
        "pool": {"accum": "fixed<16,8>", "result": "fixed<10,4,RND,SAT>"},
        "head": {"weight": "fixed<8,2>", "accum": "fixed<18,8,RND>", "result": "fixed<14,8,RND,SAT>"}})
    report, out_dir = _convert(model, inputs, settings, tmp_path)
    emu = report["emulator"]
    assert emu["bit_identical_to_csim"] == 1.0 and emu["inputs_checked"] == 60
    assert report["dut_model"] == "the generated emulator (C)"
    source = (out_dir / "hls4ml_model.c").read_text()
    assert "accum fixed<20,9,TRN,WRAP> (int32 lanes), weights fixed<10,2,RND,WRAP>, products 4 bits rounded" in source
    assert "accum fixed<16,6,TRN,WRAP>, weights fixed<8,1,TRN,WRAP>, products 1 bits rounded" in source  # dw: doubles
    assert "accum fixed<18,8,RND,WRAP> (int32 lanes), weights fixed<8,2,TRN,WRAP>, products 2 bits rounded" in source
    assert len(set(map(tuple, np.load(out_dir / "emulated_outputs.npy")))) > 50  # the inputs were told apart
    accel = convert.accelerator(out_dir)
    assert [s.name for s in accel.sources] == ["accel_hls4ml_emu.c", "hls4ml_model.c"]


@pytest.mark.slow
def test_a_small_mlp_with_batch_norm_is_bit_identical(tmp_path):
    """io_parallel: Dense -> BatchNormalization (unfolded: x * scale + bias at full precision) ->
    ReLU -> Dense, with the Resource strategy and reuse factor 4 on the last layer."""
    from frameworks.keras2 import keras
    from toolchains.hls4ml.settings import Hls4mlSettings

    L = keras.layers
    keras.utils.set_random_seed(5)
    x_in = keras.Input((20,), name="x")
    x = L.Dense(16, name="d0")(x_in)
    x = L.BatchNormalization(name="bn")(x)
    x = L.Activation("relu", name="r0")(x)
    out = L.Dense(6, name="d1")(x)
    model = keras.Model(x_in, out)
    model.get_layer("bn").set_weights([np.linspace(0.5, 2, 16), np.linspace(-1, 1, 16), np.linspace(-.3, .3, 16),
                                       np.linspace(0.5, 1.5, 16)])
    inputs = np.random.default_rng(1).normal(0, 1.5, (200, 20)).astype(np.float32)
    layers = {"d0": {"result": "fixed<14,6,RND,WRAP>"},
              "bn": {"scale": "fixed<10,3,RND>", "bias": "fixed<10,3,RND>", "result": "fixed<12,5,RND,SAT>"},
              "r0": {"result": "ufixed<8,4,RND,SAT>"},
              "d1": {"ReuseFactor": 4, "Strategy": "Resource", "result": "fixed<16,7,RND_CONV,SAT>"}}
    settings = Hls4mlSettings(io_type="io_parallel", input="fixed<10,4,RND,SAT>", agreement="argmax", min_agreement=0.1,
                              layers=layers)
    report, _ = _convert(model, inputs, settings, tmp_path)
    assert report["emulator"]["bit_identical_to_csim"] == 1.0 and report["emulator"]["inputs_checked"] == 200


@pytest.mark.slow
def test_dense_layers_run_batched_and_stay_bit_identical(tmp_path):
    """The batched variant of dense layers (P inputs a time against each weight vector, in doubles):
    a narrow wrapping accumulator whose products are rounded (int32 lanes one input at a time, so the
    batch applies the wrap itself), a 40-bit accumulator rounding products RND_CONV in doubles, and
    output rows of 13 and 8 values (1 and 2 vectors wide); 500 inputs, so batches of 48 end in a
    partial one and in the single-input tiles. The convert gate compares every input with the C
    simulation, and the C the DUT runs one input at a time is the unbatched one."""
    from frameworks.keras2 import keras
    from toolchains.hls4ml import emulator
    from toolchains.hls4ml.settings import Hls4mlSettings

    L = keras.layers
    keras.utils.set_random_seed(7)
    x_in = keras.Input((30,), name="x")
    x = L.Dense(24, name="d0")(x_in)
    x = L.Activation("relu", name="r0")(x)
    x = L.Dense(13, name="d1")(x)
    x = L.Activation("relu", name="r1")(x)
    out = L.Dense(8, name="d2")(x)
    model = keras.Model(x_in, out)
    inputs = np.random.default_rng(4).normal(0, 2, (500, 30)).astype(np.float32)
    layers = {"d0": {"weight": "fixed<8,2>", "accum": "fixed<10,3>", "result": "fixed<12,5,RND,SAT>"},
              "r0": {"result": "ufixed<8,4,RND,SAT>"},
              "d1": {"weight": "fixed<18,3,RND>", "accum": "fixed<40,30,RND_CONV>", "result": "fixed<16,7,RND_INF,SAT>"},
              "r1": {"result": "ufixed<10,5,RND,SAT>"},
              "d2": {"ReuseFactor": 4, "Strategy": "Resource", "result": "fixed<16,7,RND_CONV,SAT>"}}
    settings = Hls4mlSettings(io_type="io_parallel", input="fixed<10,4,RND,SAT>", agreement="close", tolerance=1e6,
                              layers=layers)
    report, out_dir = _convert(model, inputs, settings, tmp_path)
    emu = report["emulator"]
    assert emu["bit_identical_to_csim"] == 1.0 and emu["inputs_checked"] == 500 and emu["batch"] == 48
    source = (out_dir / "hls4ml_model.c").read_text()
    assert "accum fixed<10,3,TRN,WRAP> (int32 lanes), weights fixed<8,2,TRN,WRAP>, products 5 bits rounded" in source
    assert "accum fixed<40,30,RND_CONV,WRAP>, weights fixed<18,3,RND,WRAP>, products 9 bits rounded" in source
    for i in range(3):
        assert f"if (nb > 1) layer_{i}_batch(" in source
    assert "v = v - 1024.0 * fl((v - -512.0) * 0x1.0000000000000p-10); out[b * WORDS + e] = store_0(v);" in source
    assert len(set(map(tuple, np.load(out_dir / "emulated_outputs.npy")))) > 400  # the inputs were told apart
    lib = out_dir / emulator.LIBRARY  # float inputs go in as they are, others as doubles: the same outputs
    assert np.array_equal(emulator.run(lib, inputs, 8), emulator.run(lib, inputs.astype(np.float64), 8))


@pytest.mark.slow
def test_a_layer_the_emulator_lacks_keeps_the_c_simulation(tmp_path):
    """A sigmoid (a table in hls4ml) is not emulated: the C simulation is the DUT's model, and the
    report says why."""
    from frameworks.keras2 import keras
    from toolchains.hls4ml import convert
    from toolchains.hls4ml.settings import Hls4mlSettings

    x_in = keras.Input((8,), name="x")
    out = keras.layers.Dense(3, activation="sigmoid", name="d")(x_in)
    model = keras.Model(x_in, out)
    inputs = np.random.default_rng(2).normal(0, 1, (20, 8)).astype(np.float32)
    report, out_dir = _convert(model, inputs, Hls4mlSettings(agreement="argmax", min_agreement=0.5), tmp_path)
    assert report["emulator"] == {"none": "d_sigmoid: activation 'sigmoid' (the emulator has linear and relu)"}
    assert report["dut_model"] == "hls4ml C simulation (C++)"
    assert not (out_dir / "hls4ml_model.c").exists()
    assert convert.accelerator(out_dir).name.startswith("hls4ml C++")


def _hls(model, io_type: str, layers: dict | None = None):
    """hls4ml's ModelGraph of a Keras model (converted, not compiled)."""
    import hls4ml

    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis")
    for name, keys in (layers or {}).items():
        config["LayerName"][name].update(keys)
    return hls4ml.converters.convert_from_keras_model(model, hls_config=config, backend="Vitis", io_type=io_type,
                                                      part="xc7z020clg400-1", clock_period=10)


def test_convolution_cycles_and_multipliers_follow_the_reuse_factor(tmp_path, monkeypatch):
    """io_stream: a 3x3 convolution on 16 x 16 x 1 reads its 256 pixels at II = R; with R = 4 it
    takes about 4 times the cycles and a quarter of the multipliers of R = 1. With 4 channels the
    board IP's top brings a pixel every 4 cycles (a 32-bit word a cycle), and R = 1 waits for them."""
    from frameworks.keras2 import keras
    from toolchains.hls4ml import convert

    monkeypatch.chdir(tmp_path)  # hls4ml's default output folder
    x_in = keras.Input((16, 16, 1), name="x")
    out = keras.layers.Conv2D(8, 3, name="c", kernel_initializer="ones")(x_in)
    model = keras.Model(x_in, out)
    one = convert.estimates(_hls(model, "io_stream"), 10.0)
    four = convert.estimates(_hls(model, "io_stream", {"c": {"ReuseFactor": 4}}), 10.0)
    assert one["layers"]["c"]["multipliers"] == 3 * 3 * 8 and four["layers"]["c"]["multipliers"] == 3 * 3 * 8 // 4
    assert one["layers"]["c"]["cycles"] == pytest.approx(256, abs=10)  # 256 input pixels at II 1, + the kernel's depth
    assert four["layers"]["c"]["cycles"] == pytest.approx(4 * 256, abs=12)
    assert four["accelerator_latency_us"] == pytest.approx(four["critical_path_cycles"] / 100)
    assert four["lut"] < one["lut"] and four["bram18"] >= 1  # the FIFOs of 196 pixels x 8 channels are BRAM
    x_in = keras.Input((16, 16, 4), name="x")
    wide = convert.estimates(_hls(keras.Model(x_in, keras.layers.Conv2D(8, 3, name="c")(x_in)), "io_stream"), 10.0)
    assert wide["layers"]["c"]["cycles"] == pytest.approx(4 * 256, abs=12)  # R = 1, input-bound: 4 words a pixel


def test_the_fit_gate_refuses_a_huge_reuse_1_network(tmp_path):
    """A 1024 -> 1024 -> 1024 dense network at reuse factor 1 (two million 16-bit multipliers) cannot
    fit the Pynq-Z2: with hls4ml.fit: refuse the convert stage stops with the numbers before it
    compiles anything; with warn it records the overrun and goes on."""
    from boards import board
    from common.errors import GateError
    from frameworks.keras2 import keras
    from toolchains.hls4ml.settings import Hls4mlSettings

    x_in = keras.Input((1024,), name="x")
    out = keras.layers.Dense(1024, name="d1")(keras.layers.Dense(1024, name="d0")(x_in))
    model = keras.Model(x_in, out)
    pynq = board.load("pynq_z2")
    inputs = np.zeros((2, 1024), dtype=np.float32)
    with pytest.raises(GateError, match=r"does not fit the pynq_z2 \(LUT [\d,]+ > 53,200; FF [\d,]+ > 106,400; "
                                        r"DSP [\d,]+ > 220\): raise the reuse factors"):
        _convert(model, inputs, Hls4mlSettings(fit="refuse"), tmp_path, pynq)
    assert not (tmp_path / "convert" / "hls4ml_prj").exists()  # stopped before writing and compiling the project
