"""A fast, bit-exact emulator of an hls4ml design: C generated from hls4ml's own converted
ModelGraph (its layer order, weights as hls4ml wrote them for the C simulation, and every layer's
ap_fixed types: widths, rounding and saturation modes, accumulators), compiled into the emulated DUT
(accel_hls4ml_emu.c) and, as a shared library run batched on every core, checked against hls4ml's C
simulation on every test input by the convert stage.

hls4ml 1.3 offers no numerical emulator of its own: its bit-exact machinery (model/optimizer/passes/
bit_exact.py, HGQ's proxy models) derives types from value intervals and needs HGQ's quantizer layers
(Keras 3), and `predict`/`trace` run the C simulation itself. So the arithmetic the HLS templates
perform (nnet_utils, read for 1.3.0) is written here once, per layer:

- every value is an integer: the ap_fixed value times 2^frac, held in a double (exact: the
  generator bounds every product and every partial sum below 2^52 from the weights and the input
  ranges, and refuses a layer where it cannot);
- Dense and convolutions (nnet_dense_latency.h, nnet_conv_stream.h, nnet_depthwise_product.h):
  acc = (accum_t)bias; acc += (accum_t)(x * w) for every product, in any order (a wrapping
  accumulator is arithmetic modulo 2^width, so the order does not matter; a saturating one is taken
  only where it provably never saturates); result = (result_t)acc. A product with more fraction
  bits than the accumulator is rounded one by one, as the C++ does;
- a conversion between types rounds as the target's quantization mode says (ap_fixed_base.h:
  TRN floor, TRN_ZERO toward zero, RND half up, RND_ZERO, RND_INF, RND_MIN_INF, RND_CONV half to
  even), then wraps or saturates as its overflow mode says; into an ap_int, C's truncation toward
  zero;
- ReLU and linear activations, zero padding, clones, reshapes, Add/Subtract/Multiply merges,
  BatchNormalization (x * scale + bias at full precision), max and average pooling (the sum in
  accum_t, divided with ap_fixed's truncating division), global pooling, io_stream and io_parallel
  alike (the same arithmetic; io_stream's line buffers only change when values arrive).

Anything else (softmax, tables, other activations, binary or exponent weights, ...) raises
Unsupported with the layer's name: the convert stage then keeps hls4ml's C simulation as the DUT's
model and says why.

Speed (none of it changes a value): GCC vector types, register-blocked tiles, activations folded
into the layer before them, only the nonzero inputs of a dense layer visited one input at a time,
narrow wrapping accumulators in int32 lanes. Where dense layers do most of the work (the AD
autoencoders), a batch of inputs goes through the model together and each dense layer takes them
several at a time against each weight vector, so its weights are read once per batch rather than
streamed from memory per input; the DUT runs its one input at a time through the same C."""

from __future__ import annotations

import ctypes
import math
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common import shared_library
from common.errors import BuildError

SOURCE, HEADER, LIBRARY = "hls4ml_model.c", "hls4ml_model.h", "libhls4ml_model.so"
EXACT = 2.0 ** 52  # integers below this are exact in a double, and so is adding 0.5 to them scaled down
# Inputs a thread runs through the model together where dense layers do most of its multiply-
# accumulates (an MLP: each weight is then read once for the batch, where one input at a time streams
# them all from memory; a CNN's convolutions reuse theirs within an input and run one input at a
# time): as many workspaces as fit BATCH_BYTES (a core's L2 holds them beside a weight block: 1 MB
# on the EPYC this was measured on), at most MAX_BATCH (a multiple of every BATCH_P in the C), and
# no batch below MIN_BATCH.
BATCH_BYTES, MAX_BATCH, MIN_BATCH = 512 * 1024, 48, 6
ROUNDING = ("TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_INF", "RND_MIN_INF", "RND_CONV")
OVERFLOW = ("WRAP", "SAT", "SAT_ZERO", "SAT_SYM")


class Unsupported(BuildError):
    """A design the emulator does not cover (the message names the layer and what)."""


@dataclass(frozen=True)
class Fixed:
    """An ap_fixed / ap_ufixed / ap_int / ap_uint type: its values are integers v (value v * 2^-frac)
    in [lo, hi]; a conversion into it rounds (`rounding`) and then wraps or saturates (`overflow`)."""

    width: int
    frac: int
    signed: bool
    rounding: str = "TRN"
    overflow: str = "WRAP"
    integer_type: bool = False  # an ap_int: a fractional source is truncated toward zero, as C does

    @property
    def lo(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        return (1 << (self.width - self.signed)) - 1

    @property
    def bound(self) -> float:
        return float(max(-self.lo, self.hi))

    @classmethod
    def of(cls, precision, what: str) -> Fixed:
        """From an hls4ml precision type (model/types.py)."""
        from frameworks import keras2  # noqa: F401  (Keras 2 aliasing must precede any hls4ml import)

        # isort: split
        from hls4ml.model.types import FixedPrecisionType, IntegerPrecisionType

        if isinstance(precision, IntegerPrecisionType):
            return cls(precision.width, 0, bool(precision.signed), "TRN_ZERO", "WRAP", integer_type=True)
        if not isinstance(precision, FixedPrecisionType):
            raise Unsupported(f"{what}: type {precision} ({type(precision).__name__}) is not ap_fixed or ap_int")
        rounding, overflow = precision.rounding_mode.name, precision.saturation_mode.name
        if rounding not in ROUNDING or overflow not in OVERFLOW or precision.saturation_bits:
            raise Unsupported(f"{what}: type {precision} (rounding {rounding}, overflow {overflow}, "
                              f"{precision.saturation_bits} saturation bits)")
        return cls(precision.width, precision.width - precision.integer, bool(precision.signed), rounding, overflow)

    def __str__(self) -> str:
        kind = "int" if self.integer_type else "fixed"
        return (f"{'' if self.signed else 'u'}{kind}<{self.width},{self.width - self.frac}"
                f"{'' if self.integer_type else f',{self.rounding},{self.overflow}'}>")


# ---- the same conversions on numpy arrays, for the constants (weights, biases) -------------------------

def _round(y: np.ndarray, mode: str) -> np.ndarray:
    """y (exact doubles) rounded to integers as the quantization mode says."""
    f = np.floor(y)
    r = y - f  # exact
    up = {"TRN": np.zeros_like(y, dtype=bool), "RND": r >= 0.5, "RND_MIN_INF": r > 0.5,
          "RND_INF": (r > 0.5) | ((r == 0.5) & (y >= 0)), "RND_ZERO": (r > 0.5) | ((r == 0.5) & (y < 0)),
          "RND_CONV": (r > 0.5) | ((r == 0.5) & (np.mod(f, 2) != 0))}
    if mode == "TRN_ZERO":
        return np.trunc(y)
    return f + up[mode]


def _overflow(v: np.ndarray, t: Fixed) -> np.ndarray:
    lo, hi = float(t.lo), float(t.hi)
    if t.overflow == "WRAP":
        span = 2.0 ** t.width
        return v - span * np.floor((v - lo) / span)
    if t.overflow == "SAT_ZERO":
        return np.where((v < lo) | (v > hi), 0.0, v)
    if t.overflow == "SAT_SYM" and t.signed:
        lo = -hi
    return np.clip(v, lo, hi)


def quantize(values: np.ndarray, t: Fixed) -> np.ndarray:
    """Real values (as parsed from hls4ml's weight files) -> integers of type t, as ap_fixed's
    constructor from double does."""
    y = np.ldexp(np.asarray(values, dtype=np.float64), t.frac)
    if np.max(np.abs(y), initial=0.0) >= EXACT:
        raise Unsupported(f"a constant too large for {t}")
    return _overflow(_round(y, "TRN_ZERO" if t.integer_type else t.rounding), t)


def requantize(v: np.ndarray, frac: int, t: Fixed) -> np.ndarray:
    """Integers at 2^-frac -> integers of type t (an ap_fixed assignment)."""
    return _overflow(_round(np.ldexp(np.asarray(v, dtype=np.float64), t.frac - frac), t.rounding), t)


# ---- C generation ------------------------------------------------------------------------------------

PRELUDE = r"""#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "hls4ml_model.h"

/* The convolutions and dense layers run on GCC vector types of the target's width (VL doubles). */
#if defined(__AVX512F__)
#define VL 8
#elif defined(__AVX__)
#define VL 4
#else
#define VL 2
#endif
typedef double vd __attribute__((vector_size(8 * VL)));
typedef double vdu __attribute__((vector_size(8 * VL), aligned(8))); /* an unaligned load */
typedef int32_t vi __attribute__((vector_size(8 * VL)));  /* 2 VL products of a 32-bit wrapping accumulator */
typedef uint32_t vu __attribute__((vector_size(8 * VL))); /* its sums, modulo 2^32 */
/* output pixels per tile: about 16 accumulator registers */
#define TILE(f8) (16 * VL / (f8) < 1 ? 1 : 16 * VL / (f8) > 8 ? 8 : 16 * VL / (f8))
/* A dense layer over a batch: JB output vectors of P inputs at a time, about 24 accumulators of the
 * 32 vector registers AVX-512 has (12 of 16 below it); each weight vector loaded once for P inputs. */
#define BATCH_JB(fv) ((fv) % 4 == 0 ? 4 : (fv) % 2 == 0 ? 2 : 1)
#define BATCH_P(fv) ((VL == 8 ? 24 : 12) / BATCH_JB(fv) > 16 ? 16 : (VL == 8 ? 24 : 12) / BATCH_JB(fv))
#define RINT_MAGIC 6755399441055744.0 /* 1.5 * 2^52: (y + M) - M rounds |y| < 2^51 to nearest, ties to even */
static inline vd v_rint(vd y) { return (y + RINT_MAGIC) - RINT_MAGIC; }
static inline vd v_floor(vd y) { vd r = v_rint(y); return r + __builtin_convertvector(r > y, vd); }
static inline vd v_neg(vd y) { return __builtin_convertvector(y < 0.0, vd) * -1.0; } /* 1.0 where y < 0 */
/* The same on scalars: GCC vectorises loops of these (libm's floor only with -fno-trapping-math) */
static inline double rn(double y) { return (y + RINT_MAGIC) - RINT_MAGIC; }
static inline double fl(double y) { double r = rn(y); return r - (double)(r > y); }
"""


def _round_c(y: str, mode: str, small: bool = False) -> str:
    """A C expression rounding the exact double y as the mode says (y may be evaluated more than
    once; adding 0.5 to it is exact). small: |y| < 2^50, so rn/fl (RINT_MAGIC) may stand for libm's
    rint/floor, which keeps the loops around it vectorised."""
    f, r = ("fl", "rn") if small else ("floor", "rint")
    return {
        "TRN": f"{f}({y})",
        "TRN_ZERO": f"(({y}) >= 0.0 ? {f}({y}) : -{f}(-({y})))",
        "RND": f"{f}({y} + 0.5)",
        "RND_MIN_INF": f"(-{f}(0.5 - ({y})))",
        "RND_CONV": f"{r}({y})",  # the default rounding mode: to nearest, ties to even
        "RND_INF": f"(({y}) >= 0.0 ? {f}({y} + 0.5) : -{f}(0.5 - ({y})))",
        "RND_ZERO": f"(({y}) >= 0.0 ? -{f}(0.5 - ({y})) : {f}({y} + 0.5))",
    }[mode]


def _product_v(x: str, ws: str, d: int, mode: str) -> str:
    """(accum_t)(x * w) on vectors, where the product y = x * ws (ws: the weight scaled by 2^-d) has
    d > 0 fraction bits beyond the accumulator's. Having at most d, y never lies halfway between
    y - 2^-(d+1) and an integer: floor(y) = rint(y - 1/2 + 2^-(d+1)), one fused multiply-add and
    the rounding (ceil and the half-way rules likewise); the sign-dependent modes take longer."""
    eps = 2.0 ** -(d + 1)
    offset = {"TRN": eps - 0.5, "RND": eps, "RND_MIN_INF": -eps, "RND_CONV": 0.0}.get(mode)
    if offset is None:
        return _round_v(f"{x} * {ws}", mode)
    return f"v_rint({x} * {ws}{f' + {_c(offset)}' if offset else ''})"


def _round_v(y: str, mode: str) -> str:
    """The same on a vector y (an expression without side effects)."""
    up, down = f"v_floor({y} + 0.5)", f"(-v_floor(0.5 - ({y})))"  # half up; half down (ceil(y - 0.5))
    return {
        "TRN": f"v_floor({y})",
        "TRN_ZERO": f"(v_floor({y}) + v_neg({y}) * __builtin_convertvector(v_floor({y}) != ({y}), vd) * -1.0)",
        "RND": up,
        "RND_MIN_INF": down,
        "RND_CONV": f"v_rint({y})",
        "RND_INF": f"({up} + ({down} - {up}) * v_neg({y}))",
        "RND_ZERO": f"({down} + ({up} - {down}) * v_neg({y}))",
    }[mode]


def _overflow_c(t: Fixed, v: str = "v", small: bool = True) -> str:
    """C statements bringing the integer v into t's range as its overflow mode says (small: |v| < 2^50,
    as every value inside the model is; not so a real input)."""
    lo, hi = float(t.lo), float(t.hi)
    if t.overflow == "WRAP":
        return f"{v} = {v} - {_c(2.0 ** t.width)} * {'fl' if small else 'floor'}(({v} - {_c(lo)}) * {_c(2.0 ** -t.width)});"
    # one plain select a statement (no && or nested ?:), so that GCC vectorises the loops around them
    if t.overflow == "SAT_ZERO":
        return f"{v} = (({v} < {_c(lo)}) | ({v} > {_c(hi)})) ? 0.0 : {v};"
    if t.overflow == "SAT_SYM" and t.signed:
        lo = -hi
    return f"{v} = {v} < {_c(lo)} ? {_c(lo)} : {v}; {v} = {v} > {_c(hi)} ? {_c(hi)} : {v};"


def _c(x: float) -> str:
    """A double literal, exact (hexadecimal where it is not an integer)."""
    if float(x).is_integer() and abs(x) < 2 ** 53:
        return f"{int(x)}.0"
    return float(x).hex()


def _pad8(n: int) -> int:
    return -(-n // 8) * 8


@dataclass
class _Op:
    """One generated function: its body from (store function, padding of its output or None), and
    the statements its store function applies to each result v (the layer's cast, then those of the
    activations fused into it)."""

    what: str
    args: list[int]
    out: int
    body: Callable[[str, tuple[int, int, int, int] | None], str]
    steps: list[str]
    spatial: bool  # writes pixel by pixel: can write straight into a zero-padded layout
    pad: tuple[int, int, int, int] | None = None  # (top, left, height, width) of the padded output
    batch: Callable[[int, str], str] | None = None  # (index, store function) -> its variant over nb inputs at once
    macs: int = 0  # multiply-accumulates per inference (dense layers and convolutions)


@dataclass
class _Tensor:
    id: int
    shape: tuple[int, ...]
    t: Fixed
    bound: float  # the largest magnitude of its integers

    @property
    def size(self) -> int:
        return math.prod(self.shape)


def _pad_body(ih: int, iw: int, c: int, oh: int, ow: int, pt: int, pl: int, cast: str) -> str:
    """C: out (oh x ow x c) zero, in (ih x iw x c) copied in at (pt, pl) through cast; rows and
    columns that fall outside out are left out (an unused border)."""
    rows, cols = min(ih, oh - pt), min(iw, ow - pl)
    return (f"    for (int e = 0; e < {oh * ow * c}; ++e) out[e] = 0.0;\n"
            f"    for (int y = 0; y < {rows}; ++y)\n        for (int e = 0; e < {cols * c}; ++e)\n"
            f"            out[((y + {pt}) * {ow} + {pl}) * {c} + e] = {cast}(in0[y * {iw * c} + e]);\n")


def _out_pixel(oy: str, ox: str, ow: int, pad, c: int) -> str:
    """The offset of output pixel (oy, ox) of c values, in the output or in its padded layout."""
    if pad is None:
        return f"({oy} * {ow} + {ox}) * {c}"
    pt, pl, _, pw = pad
    return f"(({oy} + {pt}) * {pw} + {ox} + {pl}) * {c}"


def _store_all(store: str, pad, n: int, c: int) -> str:
    """C applying the store function to each of the n results in out (c values a pixel), in one
    vectorisable pass (over the zero border of a padded output too: every cast and activation keeps
    0 at 0)."""
    size = n if pad is None else pad[2] * pad[3] * c
    return f"    for (int e = 0; e < {size}; ++e) out[e] = {store}(out[e]);\n"


def _zero_border(pad, c: int) -> str:
    """C zeroing a padded output first (its inside is written after)."""
    return "" if pad is None else f"    for (int e = 0; e < {pad[2] * pad[3] * c}; ++e) out[e] = 0.0;\n"


def _geometry(layer, one_d: bool) -> dict[str, int]:
    """Input/output sizes, kernel, strides and padding of a convolution or pooling layer (1D as H=1)."""
    a = layer.get_attr
    kernel = "pool" if "Pool" in layer.class_name else "filt"
    pads = [a(k, 0) or 0 for k in ("pad_top", "pad_bottom", "pad_left", "pad_right")]
    if one_d:
        return {"IH": 1, "IW": a("in_width"), "OH": 1, "OW": a("out_width"), "KH": 1, "KW": a(f"{kernel}_width"),
                "SH": 1, "SW": a("stride_width"), "PT": 0, "PL": pads[2], "padded": any(pads[2:])}
    return {"IH": a("in_height"), "IW": a("in_width"), "OH": a("out_height"), "OW": a("out_width"),
            "KH": a(f"{kernel}_height"), "KW": a(f"{kernel}_width"), "SH": a("stride_height"), "SW": a("stride_width"),
            "PT": pads[0], "PL": pads[2], "padded": any(pads)}


def _tile_func(tile: str, vec: str, lane: str, fv: str, pixels: str, bias: str, g: dict, per_tap: str, row: int,
               n_out: int, result: str) -> str:
    """C: the function computing `pb` (up to PB) output pixels of a dense layer or convolution from
    the pixel at xp0 into o (n_out values each): accumulators of vector type vec (FV of them a
    pixel, `lane` each lane) start at the bias, per_tap adds each kernel tap's products, and each
    output f of pixel p is then `result` of the accumulator's lanes a (rows of `row` lanes)."""
    return (f"static inline __attribute__((always_inline)) void {tile}(const double *restrict xp0, double *restrict o, "
            f"const int pb) {{\n"
            f"    enum {{ FV = {fv}, PB = {pixels} }};\n    {vec} acc[PB][FV];\n"
            f"    #pragma GCC unroll 8\n    for (int p = 0; p < pb; ++p)\n"
            f"        #pragma GCC unroll 16\n        for (int j = 0; j < FV; ++j) acc[p][j] = ((const {vec} *){bias})[j];\n"
            f"    for (int ky = 0; ky < {g['KH']}; ++ky)\n        for (int kx = 0; kx < {g['KW']}; ++kx) {{\n" + per_tap +
            f"    }}\n"
            f"    {lane} a[PB * {row}] __attribute__((aligned(64)));\n"
            f"    #pragma GCC unroll 8\n    for (int p = 0; p < pb; ++p)\n"
            f"        #pragma GCC unroll 16\n        for (int j = 0; j < FV; ++j) (({vec} *)a)[p * FV + j] = acc[p][j];\n"
            f"    for (int p = 0; p < pb; ++p)\n"
            f"        for (int f = 0; f < {n_out}; ++f) o[p * {n_out} + f] = {result};\n"
            f"}}\n")


def _tile_body(tile: str, pixels: str, g: dict, c_in: int, n_out: int) -> Callable[[str, tuple | None], str]:
    """The layer's body(store, pad): the tile function over every output row, PB pixels at a time
    and then one by one, then the store function over every result."""
    def body(store_fn: str, pad) -> str:
        at = _out_pixel("oy", "ox", g["OW"], pad, n_out)
        step = f"(oy * {g['SH'] * g['IW']} + ox * {g['SW']}) * {c_in}"
        return (f"    enum {{ PB = {pixels} }};\n" + _zero_border(pad, n_out) +
                f"    for (int oy = 0; oy < {g['OH']}; ++oy) {{\n        int ox = 0;\n"
                f"        for (; ox + PB <= {g['OW']}; ox += PB)\n"
                f"            {tile}(in0 + {step}, out + {at}, PB);\n"
                f"        for (; ox < {g['OW']}; ++ox)\n"
                f"            {tile}(in0 + {step}, out + {at}, 1);\n"
                f"    }}\n" + _store_all(store_fn, pad, g["OH"] * g["OW"] * n_out, n_out))
    return body


class _Model:
    """The C for one ModelGraph: a function per layer, except that a ReLU or linear activation is
    folded into the layer before it (its cast applied as that layer stores each result) and a zero
    padding into the convolution or pooling before it (which then writes the padded layout), where
    nothing else reads the tensor in between. The tensors live in one workspace of doubles, a region
    each, reused once a tensor's last reader has run."""

    def __init__(self, hls_model, project: Path):
        self.m = hls_model
        self.project = Path(project)
        self.data: list[str] = []
        self.casts: dict[tuple, str] = {}
        self.cast_funcs: list[str] = []
        self.funcs: list[str] = []
        self.ops: list[_Op] = []
        self.producer: dict[int, _Op] = {}  # tensor id -> the op that writes it
        self.tensors: dict[str, _Tensor] = {}
        self.all: list[_Tensor] = []
        self.readers: dict[str, int] = {}  # tensor name -> how many layers read it
        for layer in hls_model.get_layers():
            for name in layer.inputs:
                self.readers[name] = self.readers.get(name, 0) + 1

    # -- helpers ------------------------------------------------------------------------------------
    def new(self, name: str, shape, t: Fixed, bound: float) -> _Tensor:
        tensor = _Tensor(len(self.all), tuple(int(d) for d in shape), t, min(bound, t.bound))
        self.all.append(tensor)
        self.tensors[name] = tensor
        return tensor

    def inp(self, layer, i: int = 0) -> _Tensor:
        name = layer.inputs[i]
        if name not in self.tensors:
            raise Unsupported(f"{layer.name}: its input {name} is not computed before it")
        return self.tensors[name]

    def out_type(self, layer) -> Fixed:
        return Fixed.of(layer.get_output_variable().type.precision, f"{layer.name} result")

    def output(self, layer, t: Fixed, bound: float) -> _Tensor:
        return self.new(layer.outputs[0], layer.get_output_variable().shape, t, bound)

    def op(self, what: str, body, args: list[_Tensor], out: _Tensor, cast: str, spatial: bool = False,
           wrap: str = "", batch: Callable[[int, str], str] | None = None, macs: int = 0) -> None:
        """A generated function; body(store, pad) is its C, storing each result v as store(v); batch(store),
        where given, gives the C of its variant over a batch of inputs."""
        op = _Op(what, [a.id for a in args], out.id, body, ([wrap] if wrap else []) + ([f"v = {cast}(v);"] if cast else []),
                 spatial, batch=batch, macs=macs)
        self.ops.append(op)
        self.producer[out.id] = op

    def fusable(self, layer, x: _Tensor) -> _Op | None:
        """The op x comes from, where this layer is x's only reader and can be folded into it."""
        op = self.producer.get(x.id)
        readers = sum(self.readers.get(n, 0) for n, t in self.tensors.items() if t.id == x.id)  # under any name
        return op if op is not None and readers == 1 and op.pad is None else None

    def cast(self, frac: int, bound: float, t: Fixed, what: str, src: Fixed | None = None) -> tuple[str, float]:
        """The name of a C function converting an integer at 2^-frac (|v| <= bound; of type src
        where there is one) into type t, and the bound of its results. Overflow code only where the
        value can leave t's range."""
        d = frac - t.frac  # fraction bits dropped
        if t.integer_type and d > 0 and src is not None and src.width <= src.frac:
            # ap_fixed_base::to_ap_int_base gives 1 for a negative value without integer bits
            raise Unsupported(f"{what}: {src} (no integer bits) into {t}")
        mode = "TRN_ZERO" if t.integer_type else t.rounding
        scaled = bound * 2.0 ** -d + (1.0 if d > 0 else 0.0)
        if bound >= EXACT or scaled >= EXACT:
            raise Unsupported(f"{what}: values up to {bound:.3g} do not stay exact in a double")
        fits = -scaled >= t.lo and scaled <= t.hi
        key = (d, mode, None if fits else (t.width, t.signed, t.overflow))
        if key not in self.casts:
            name = f"cast{len(self.casts)}"
            lines = [f"static inline double {name}(double v) {{  /* into {t} from 2^-{frac} */"]
            if d > 0:
                lines.append(f"    v = {_round_c(f'v * {_c(2.0 ** -d)}', mode, small=bound * 2.0 ** -d < 2.0 ** 50)};")
            elif d < 0:
                lines.append(f"    v = v * {_c(2.0 ** -d)};")
            if not fits:
                lines.append(f"    {_overflow_c(t)}")
            lines.append("    return v;\n}\n")
            self.cast_funcs.append("\n".join(lines))
            self.casts[key] = name
        return self.casts[key], min(scaled, t.bound)

    def weights(self, layer, key: str) -> tuple[np.ndarray, Fixed]:
        """A weight array as the C simulation loads it (hls4ml's text file, each value parsed as a
        double and converted to its type), as integers, in the layer's own data layout."""
        var = layer.weights[key]
        t = Fixed.of(var.type.precision, f"{layer.name} {key}")
        path = self.project / "firmware" / "weights" / f"{var.name}.txt"
        if not path.is_file():
            raise Unsupported(f"{layer.name}: no weight file {path.name} (write the hls4ml project first)")
        values = np.array([float(s) for s in path.read_text().split(",")], dtype=np.float64)
        if values.size != var.data.size:
            raise Unsupported(f"{layer.name}: {path.name} holds {values.size} values, {var.data.size} expected")
        if t.integer_type and not np.all(values == np.round(values)):
            raise Unsupported(f"{layer.name}: fractional values in the integer weights {path.name}")
        return quantize(values, t).reshape(var.data.shape), t

    def array(self, name: str, values: np.ndarray) -> str:
        flat = np.asarray(values, dtype=np.float64).ravel()
        rows = [", ".join(_c(v) for v in flat[i:i + 12]) for i in range(0, len(flat), 12)]
        self.data.append(f"static const double {name}[{max(len(flat), 1)}] __attribute__((aligned(64))) = {{\n  "
                         + ",\n  ".join(rows) + "\n};\n")
        return name

    # -- layers -------------------------------------------------------------------------------------
    def elementwise(self, layer, expr: str, srcs: list[_Tensor], frac: int, bound: float, src: Fixed | None = None) -> None:
        """out[e] = (result_t)(expr) over every element; expr's integer is at 2^-frac (of type src,
        where expr is one input's value)."""
        t = self.out_type(layer)
        cast, out_bound = self.cast(frac, bound, t, layer.name, src)
        out = self.output(layer, t, out_bound)
        if any(out.size != x.size for x in srcs):
            raise Unsupported(f"{layer.name}: {[x.size for x in srcs]} values in, {out.size} out")
        self.op(f"{layer.name} ({layer.class_name}) -> {t}",
                lambda store, pad: f"    for (int e = 0; e < {out.size}; ++e) out[e] = {store}({expr});\n", srcs, out, cast)

    def activation(self, layer) -> None:
        x = self.inp(layer)
        kind = str(layer.get_attr("activation", "")).lower()
        if kind not in ("linear", "relu"):
            raise Unsupported(f"{layer.name}: activation '{kind}' (the emulator has linear and relu)")
        relu = kind == "relu"  # nnet_activation(_stream).h: data > 0 ? data : 0, then the cast
        into = self.fusable(layer, x)
        if into is None:
            expr = "(in0[e] > 0.0 ? in0[e] : 0.0)" if relu else "in0[e]"
            self.elementwise(layer, expr, [x], x.t.frac, x.bound, x.t)
            return
        t = self.out_type(layer)
        cast, bound = self.cast(x.t.frac, x.bound, t, layer.name, x.t)
        into.steps += (["v = v > 0.0 ? v : 0.0;"] if relu else []) + [f"v = {cast}(v);"]
        into.what += f"; {layer.name} ({kind}) -> {t}"
        out = self.output(layer, t, bound)
        into.out = out.id
        self.producer[out.id] = into

    def merge(self, layer) -> None:
        """nnet_merge(_stream).h: the full-precision sum, difference or product, then the cast."""
        a, b = self.inp(layer, 0), self.inp(layer, 1)
        op = str(layer.get_attr("op", "")).lower()
        if op in ("add", "subtract"):
            frac = max(a.t.frac, b.t.frac)
            sa, sb = 2.0 ** (frac - a.t.frac), 2.0 ** (frac - b.t.frac)
            self.elementwise(layer, f"in0[e] * {_c(sa)} {'+' if op == 'add' else '-'} in1[e] * {_c(sb)}", [a, b], frac,
                             a.bound * sa + b.bound * sb)
        elif op == "multiply":
            self.elementwise(layer, "in0[e] * in1[e]", [a, b], a.t.frac + b.t.frac, a.bound * b.bound)
        else:
            raise Unsupported(f"{layer.name}: merge '{op}' (the emulator has add, subtract, multiply)")

    def batchnorm(self, layer) -> None:
        """nnet_batchnorm(_stream).h: x * scale + bias at full precision, then the cast."""
        x = self.inp(layer)
        scale, ts = self.weights(layer, "scale")
        bias, tb = self.weights(layer, "bias")
        frac = max(x.t.frac + ts.frac, tb.frac)
        scale = scale.ravel() * 2.0 ** (frac - x.t.frac - ts.frac)
        bias = bias.ravel() * 2.0 ** (frac - tb.frac)
        s, b = self.array(f"s_{layer.index}", scale), self.array(f"b_{layer.index}", bias)
        idx = "e" if scale.size == x.size else f"e % {scale.size}"
        self.elementwise(layer, f"in0[e] * {s}[{idx}] + {b}[{idx}]", [x], frac,
                         x.bound * float(np.max(np.abs(scale))) + float(np.max(np.abs(bias))))

    def padding(self, layer, one_d: bool) -> None:
        x = self.inp(layer)
        a = layer.get_attr
        ih, iw = (1, a("in_width")) if one_d else (a("in_height"), a("in_width"))
        oh, ow = (1, a("out_width")) if one_d else (a("out_height"), a("out_width"))
        pt, pl, c = (0 if one_d else a("pad_top")), a("pad_left"), a("n_chan")
        if oh < ih + pt or ow < iw + pl:
            raise Unsupported(f"{layer.name}: cropping padding")
        t = self.out_type(layer)
        cast, bound = self.cast(x.t.frac, x.bound, t, layer.name, x.t)
        into = self.fusable(layer, x)
        out = self.output(layer, t, bound)
        if into is not None and into.spatial and t == x.t:  # the layer before writes the padded layout itself
            into.pad, into.out = (pt, pl, oh, ow), out.id
            into.what += f"; {layer.name} (zero padding)"
            self.producer[out.id] = into
            return
        self.op(f"{layer.name} ({layer.class_name}) -> {t}",
                lambda store, pad: _pad_body(ih, iw, c, oh, ow, pt, pl, cast), [x], out, "")

    def padded(self, layer, x: _Tensor, g: dict, c: int) -> tuple[_Tensor, dict]:
        """A zero-padded copy of x for a layer that pads inside (io_parallel), and its geometry then."""
        ih, iw = (g["OH"] - 1) * g["SH"] + g["KH"], (g["OW"] - 1) * g["SW"] + g["KW"]
        out = self.new(f"{layer.name}:padded", (ih, iw, c), x.t, x.bound)
        body = _pad_body(g["IH"], g["IW"], c, ih, iw, g["PT"], g["PL"], "")
        self.op(f"{layer.name}: its zero padding", lambda store, pad: body, [x], out, "")
        return out, {**g, "IH": ih, "IW": iw, "PT": 0, "PL": 0, "padded": False}

    def mac(self, layer, kind: str, one_d: bool = False) -> None:
        """Dense, Conv1D/2D, PointwiseConv and DepthwiseConv: per output, acc = (accum_t)bias +
        sum of (accum_t)(x * w), then (result_t)acc."""
        x = self.inp(layer)
        name = layer.name
        if str(layer.get_attr("strategy", "latency")).lower() not in ("latency", "resource", "resource_unrolled"):
            raise Unsupported(f"{name}: strategy {layer.get_attr('strategy')}")
        w, tw = self.weights(layer, "weight")
        b, tb = self.weights(layer, "bias")
        acc_t = Fixed.of(layer.get_attr("accum_t").precision, f"{name} accum_t")
        if layer.get_attr("_weights_transposed", False):  # the Resource strategy's layout (resource_strategy.py)
            w = np.transpose(w) if w.ndim == 2 else np.moveaxis(w, 0, -1)
        if kind == "dense":
            g = {"IH": 1, "IW": 1, "OH": 1, "OW": 1, "KH": 1, "KW": 1, "SH": 1, "SW": 1, "PT": 0, "PL": 0, "padded": False}
            c_in = x.size
        else:
            g = _geometry(layer, one_d)
            c_in = int(layer.get_attr("n_chan"))
            if x.size != g["IH"] * g["IW"] * c_in:
                raise Unsupported(f"{name}: input of {x.size} values for {g['IH']}x{g['IW']}x{c_in}")
        depthwise = kind == "depthwise"
        if depthwise:
            if w.shape[-1] != 1:
                raise Unsupported(f"{name}: depth multiplier {w.shape[-1]}")
            w = w.reshape(g["KH"] * g["KW"], c_in)
        else:
            w = w.reshape(g["KH"] * g["KW"] * c_in, -1)
        n_out = w.shape[1]
        macs = g["OH"] * g["OW"] * w.size
        bias = requantize(b.ravel(), tb.frac, acc_t)  # acc = (accum_t)bias
        d = x.t.frac + tw.frac - acc_t.frac  # product fraction bits the accumulator drops
        w = w * 2.0 ** -d  # products at the accumulator's binary point (exact; d > 0: rounded below)
        if d < 0:
            d = 0
        terms = np.abs(w).sum(axis=0) * x.bound  # per output: the largest sum of |x * w|
        if float(np.max(np.abs(w))) * x.bound * 2.0 ** d >= EXACT / 2 or float(np.max(terms)) >= EXACT / 2:
            raise Unsupported(f"{name}: products or sums beyond 2^51 (not exact in a double)")
        bound = float(np.max(np.abs(bias) + terms + (w.shape[0] if d else 0)))
        if bound > acc_t.bound and acc_t.overflow != "WRAP":
            raise Unsupported(f"{name}: a saturating accumulator {acc_t} that may saturate (order-dependent)")
        wrap = _overflow_c(acc_t) if bound > acc_t.bound else ""  # a wrapping sum: modulo 2^width at the end
        t = self.out_type(layer)
        cast, out_bound = self.cast(acc_t.frac, min(bound, acc_t.bound), t, name, acc_t)
        if g["padded"]:
            x, g = self.padded(layer, x, g, c_in)  # io_parallel pads inside the layer: pad first, the same zeros
        out = self.output(layer, t, out_bound)
        f8 = _pad8(n_out)  # weight rows and accumulators padded to whole vectors (zero weights)
        wp = np.zeros((w.shape[0], f8))
        wp[:, :n_out] = w
        bp = np.zeros(f8)
        bp[:n_out] = bias
        # A wrapping accumulator of at most 32 bits whose products fit in 31: exact in int32 lanes,
        # twice as many as doubles, with the rounding of a product an arithmetic shift (TRN) or an
        # add and a shift (RND); sums modulo 2^32, then sign-extended from the accumulator's width.
        product_bound = float(np.max(np.abs(w))) * 2.0 ** d * x.bound
        use_int = (not depthwise and acc_t.overflow == "WRAP" and acc_t.width <= 32 and product_bound < 2.0 ** 30
                   and (d == 0 or acc_t.rounding in ("TRN", "RND")) and np.all(w * 2.0 ** d == np.round(w * 2.0 ** d)))
        product = _product_v("x", "wr[j]", d, acc_t.rounding) if d else "x * wr[j]"
        if use_int:
            batch = None if kind != "dense" else self.dense_batch(  # its double arrays only where it is used
                lambda: (self.array(f"wd_{layer.index}", wp), self.array(f"bd_{layer.index}", bp)), c_in, n_out, product, wrap)
            return self.mac_int(layer, x, g, np.round(w * 2.0 ** d), bias, d, acc_t, cast, out, kind, c_in, n_out, tw,
                                batch, macs)
        wn, bn = self.array(f"w_{layer.index}", wp), self.array(f"b_{layer.index}", bp)
        batch = self.dense_batch(lambda: (wn, bn), c_in, n_out, product, "") if kind == "dense" else None  # wrap: in its store
        iw, kw, sw = g["IW"], g["KW"], g["SW"]
        tile = f"tile_{len(self.ops)}"
        if depthwise:  # one pixel at a time, vectorised over the channels
            pixels = "1"
            per_tap = (f"        const double *xr = xp0 + (ky * {iw} + kx) * {c_in};\n"
                       f"        const vd *wr = (const vd *)({wn} + (ky * {kw} + kx) * {f8});\n"
                       f"        #pragma GCC unroll 16\n"
                       f"        for (int j = 0; j < FV; ++j) {{\n"
                       f"            const vd xv = *(const vdu *)(xr + j * VL);\n"
                       f"            acc[0][j] += {_product_v('xv', 'wr[j]', d, acc_t.rounding) if d else 'xv * wr[j]'};\n"
                       f"        }}\n")
        elif kind == "dense" or d:
            # one pixel, over its nonzero inputs only ((accum_t)(0 * w) == 0; ReLU leaves about half
            # zero): where products are rounded (4 operations each) or a dense layer reuses no weights
            pixels = "1"
            per_tap = (f"        const double *xp = xp0 + (ky * {iw} + kx) * {c_in};\n"
                       f"        const vd *wp = (const vd *)({wn} + (ky * {kw} + kx) * {c_in * f8});\n"
                       f"        int nz[{c_in}], n = 0;\n"
                       f"        for (int c = 0; c < {c_in}; ++c) {{ nz[n] = c; n += xp[c] != 0.0; }}\n"
                       f"        for (int k = 0; k < n; ++k) {{\n"
                       f"            const double x = xp[nz[k]];\n"
                       f"            const vd *wr = wp + nz[k] * FV;\n"
                       f"            #pragma GCC unroll 16\n"
                       f"            for (int j = 0; j < FV; ++j) acc[0][j] += "
                       f"{product};\n"
                       f"        }}\n")
        else:  # `pixels` output pixels at once: each weight row loaded once for all of them
            pixels = f"TILE({f8})"
            per_tap = (f"        const double *xp = xp0 + (ky * {iw} + kx) * {c_in};\n"
                       f"        const vd *wp = (const vd *)({wn} + (ky * {kw} + kx) * {c_in * f8});\n"
                       f"        for (int c = 0; c < {c_in}; ++c) {{\n"
                       f"            const vd *wr = wp + c * FV;\n"
                       f"            #pragma GCC unroll 8\n"
                       f"            for (int p = 0; p < pb; ++p) {{\n"
                       f"                const double x = xp[p * {sw * c_in} + c];\n"
                       f"                #pragma GCC unroll 16\n"
                       f"                for (int j = 0; j < FV; ++j) acc[p][j] += "
                       f"{product};\n"
                       f"            }}\n        }}\n")
        self.funcs.append(_tile_func(tile, "vd", "double", f"{f8} / VL", pixels, bn, g, per_tap, f8, n_out,
                                     f"a[p * {f8} + f]"))
        body = _tile_body(tile, pixels, g, c_in, n_out)
        self.op(f"{name} ({layer.class_name}) -> {t}, accum {acc_t}, weights {tw}, products {d} bits rounded",
                body, [x], out, cast, spatial=True, wrap=wrap, batch=batch, macs=macs)

    def dense_batch(self, arrays: Callable[[], tuple[str, str]], c_in: int, n_out: int, product: str,
                    wrap: str) -> Callable[[int, str], str]:
        """A dense layer over nb inputs (workspaces WORDS apart) in doubles: (op index, store function)
        -> the C of layer_<index>_batch and its tile function; arrays() names the weights (rows of whole
        vectors, scaled to the accumulator's binary point) and the bias, `product` is the C of
        (accum_t)(x * wr[j]), wrap the accumulator's wrap where the store function does not do it.
        Per column block of the weights, P inputs at a time: each weight vector is loaded once for
        them (from L2 while the block is reused), so the layer runs at the FMA units' rate rather than
        at memory's, as one input at a time does; the sums, exact in any order, are the same."""
        f8 = _pad8(n_out)
        finish = f"{wrap} " if wrap else ""

        def c(i: int, store_fn: str) -> str:
            wn, bn = arrays()
            return (
                f"static inline __attribute__((always_inline)) void btile_{i}(const double *restrict xp, "
                f"double *restrict o, const int j0, const int pb) {{\n"
                f"    enum {{ FV = {f8} / VL, JB = BATCH_JB(FV), P = BATCH_P(FV) }};\n    vd acc[P][JB];\n"
                f"    #pragma GCC unroll 16\n    for (int p = 0; p < pb; ++p)\n"
                f"        #pragma GCC unroll 4\n        for (int j = 0; j < JB; ++j) acc[p][j] = ((const vd *){bn})[j0 + j];\n"
                f"    for (int c = 0; c < {c_in}; ++c) {{\n"
                f"        const vd *wr = (const vd *){wn} + c * FV + j0;\n"
                f"        #pragma GCC unroll 16\n        for (int p = 0; p < pb; ++p) {{\n"
                f"            const double x = xp[p * WORDS + c];\n"
                f"            #pragma GCC unroll 4\n            for (int j = 0; j < JB; ++j) acc[p][j] += {product};\n"
                f"        }}\n    }}\n"
                f"    #pragma GCC unroll 16\n    for (int p = 0; p < pb; ++p)\n"
                f"        #pragma GCC unroll 4\n"
                f"        for (int j = 0; j < JB; ++j) *(vd *)(o + p * WORDS + (j0 + j) * VL) = acc[p][j];\n"
                f"}}\n\n"
                f"static void layer_{i}_batch(const double *restrict in0, double *restrict out, const int nb) {{\n"
                f"    enum {{ FV = {f8} / VL, JB = BATCH_JB(FV), P = BATCH_P(FV) }};\n"
                f"    for (int j0 = 0; j0 < FV; j0 += JB) {{\n        int b = 0;\n"
                f"        for (; b + P <= nb; b += P) btile_{i}(in0 + b * WORDS, out + b * WORDS, j0, P);\n"
                f"        for (; b < nb; ++b) btile_{i}(in0 + b * WORDS, out + b * WORDS, j0, 1);\n    }}\n"
                f"    for (int b = 0; b < nb; ++b)\n        for (int e = 0; e < {n_out}; ++e) {{\n"
                f"            double v = out[b * WORDS + e];\n            {finish}out[b * WORDS + e] = {store_fn}(v);\n"
                f"        }}\n}}\n")
        return c

    def mac_int(self, layer, x: _Tensor, g: dict, w: np.ndarray, bias: np.ndarray, d: int, acc_t: Fixed, cast: str,
                out: _Tensor, kind: str, c_in: int, n_out: int, tw: Fixed, batch: Callable[[int, str], str] | None,
                macs: int) -> None:
        """mac() in int32 lanes (its conditions there); w: the integer products' weights (at x * w's
        binary point), bias: at the accumulator's; batch: the batched body (in doubles) of a dense layer."""
        f16 = -(-n_out // 16) * 16  # rows padded to whole vectors of up to 16 lanes
        wp = np.zeros((w.shape[0], f16))
        wp[:, :n_out] = w
        bp = np.zeros(f16)
        bp[:n_out] = np.mod(bias, 2.0 ** 32)  # two's complement, modulo 2^32
        wn, bn = self.int_array(f"w_{layer.index}", wp, "int32_t"), self.int_array(f"b_{layer.index}", bp, "uint32_t")
        iw, kw, sw = g["IW"], g["KW"], g["SW"]
        term = {0: "x * wr[j]", "TRN": f"(x * wr[j]) >> {d}", "RND": f"(x * wr[j] + {1 << max(d - 1, 0)}) >> {d}"}
        product = f"(vu)({term[0] if d == 0 else term[acc_t.rounding]})"
        tile = f"tile_{len(self.ops)}"
        if kind == "dense" or d:  # one pixel, over its nonzero inputs only
            pixels = "1"
            per_tap = (f"        const double *xp = xp0 + (ky * {iw} + kx) * {c_in};\n"
                       f"        const vi *wp = (const vi *)({wn} + (ky * {kw} + kx) * {c_in * f16});\n"
                       f"        int nz[{c_in}], n = 0;\n"
                       f"        for (int c = 0; c < {c_in}; ++c) {{ nz[n] = c; n += xp[c] != 0.0; }}\n"
                       f"        for (int k = 0; k < n; ++k) {{\n"
                       f"            const int32_t x = (int32_t)xp[nz[k]];\n"
                       f"            const vi *wr = wp + nz[k] * FV;\n"
                       f"            #pragma GCC unroll 16\n"
                       f"            for (int j = 0; j < FV; ++j) acc[0][j] += {product};\n"
                       f"        }}\n")
        else:
            pixels = f"TILE({f16 // 2})"
            per_tap = (f"        const double *xp = xp0 + (ky * {iw} + kx) * {c_in};\n"
                       f"        const vi *wp = (const vi *)({wn} + (ky * {kw} + kx) * {c_in * f16});\n"
                       f"        for (int c = 0; c < {c_in}; ++c) {{\n"
                       f"            const vi *wr = wp + c * FV;\n"
                       f"            #pragma GCC unroll 8\n"
                       f"            for (int p = 0; p < pb; ++p) {{\n"
                       f"                const int32_t x = (int32_t)xp[p * {sw * c_in} + c];\n"
                       f"                #pragma GCC unroll 16\n"
                       f"                for (int j = 0; j < FV; ++j) acc[p][j] += {product};\n"
                       f"            }}\n        }}\n")
        shift = 32 - acc_t.width  # sign-extend the accumulator's bits: its wrapped value
        extend = f"(int32_t)(a[p * {f16} + f] << {shift}) >> {shift}" if shift else f"(int32_t)a[p * {f16} + f]"
        self.funcs.append(_tile_func(tile, "vu", "uint32_t", f"{f16} / (2 * VL)", pixels, bn, g, per_tap, f16, n_out,
                                     f"(double)({extend})"))
        body = _tile_body(tile, pixels, g, c_in, n_out)
        self.op(f"{layer.name} ({layer.class_name}) -> {out.t}, accum {acc_t} (int32 lanes), weights {tw}, "
                f"products {d} bits rounded", body, [x], out, cast, spatial=True, batch=batch, macs=macs)

    def int_array(self, name: str, values: np.ndarray, ctype: str) -> str:
        flat = np.asarray(values, dtype=np.float64).ravel()
        rows = [", ".join(str(int(v)) + ("u" if ctype == "uint32_t" else "") for v in flat[i:i + 16])
                for i in range(0, len(flat), 16)]
        self.data.append(f"static const {ctype} {name}[{max(len(flat), 1)}] __attribute__((aligned(64))) = {{\n  "
                         + ",\n  ".join(rows) + "\n};\n")
        return name

    def pooling(self, layer, one_d: bool, global_: bool) -> None:
        """nnet_pooling(_stream).h: every value into accum_t; the max, or the sum (in accum_t)
        divided by the window's size (ap_fixed / int: truncated toward zero); then the cast."""
        x = self.inp(layer)
        name = layer.name
        op = str(layer.get_attr("pool_op", "")).capitalize()
        if op not in ("Max", "Average"):
            raise Unsupported(f"{name}: pooling '{op}'")
        acc_t = Fixed.of(layer.get_attr("accum_t").precision, f"{name} accum_t")
        c = int(layer.get_attr("n_filt"))
        if global_:
            ih, iw = (1 if one_d else layer.get_attr("in_height")), layer.get_attr("in_width")
            g = {"IH": ih, "IW": iw, "OH": 1, "OW": 1, "KH": ih, "KW": iw, "SH": ih, "SW": iw}
        else:
            g = _geometry(layer, one_d)
            if g["padded"]:
                raise Unsupported(f"{name}: padded pooling")
        n = g["KH"] * g["KW"]
        into, in_bound = self.cast(x.t.frac, x.bound, acc_t, name, x.t)
        if op == "Max":
            acc_bound, init, step, finish, result = in_bound, "-INFINITY", "m = v > m ? v : m;", "", "m"
        else:
            acc_bound, finish = in_bound * n, ""
            if acc_bound > acc_t.bound:
                if acc_t.overflow != "WRAP":
                    raise Unsupported(f"{name}: a saturating pooling accumulator {acc_t} that may saturate")
                finish = f"                {_overflow_c(acc_t, 'm')}\n"
                acc_bound = acc_t.bound
            init, step, result = "0.0", "m += v;", f"(double)((int64_t)m / {n})"
        t = self.out_type(layer)
        cast, out_bound = self.cast(acc_t.frac, acc_bound, t, name, acc_t)
        out = self.output(layer, t, out_bound)
        if out.size != g["OH"] * g["OW"] * c or x.size != g["IH"] * g["IW"] * c:
            raise Unsupported(f"{name}: {x.size} values in, {out.size} out for {g}")
        def body(store: str, pad) -> str:
            return (_zero_border(pad, c) +
                    f"    for (int oy = 0; oy < {g['OH']}; ++oy)\n        for (int ox = 0; ox < {g['OW']}; ++ox)\n"
                    f"            for (int ch = 0; ch < {c}; ++ch) {{\n                double m = {init};\n"
                    f"                for (int ky = 0; ky < {g['KH']}; ++ky)\n"
                    f"                    for (int kx = 0; kx < {g['KW']}; ++kx) {{\n"
                    f"                        const double v = {into}(in0[((oy * {g['SH']} + ky) * {g['IW']}"
                    f" + ox * {g['SW']} + kx) * {c} + ch]);\n"
                    f"                        {step}\n                    }}\n" + finish +
                    f"                out[{_out_pixel('oy', 'ox', g['OW'], pad, c)} + ch] = {result};\n            }}\n"
                    + _store_all(store, pad, g["OH"] * g["OW"] * c, c))

        self.op(f"{name} ({layer.class_name}, {op}) -> {t}, accum {acc_t}", body, [x], out, cast, spatial=True)

    # -- the graph ----------------------------------------------------------------------------------
    def build(self) -> tuple[_Tensor, _Tensor]:
        ins, outs = list(self.m.inputs), list(self.m.outputs)  # the graph's tensor names
        if len(ins) != 1 or len(outs) != 1:
            raise Unsupported(f"{len(ins)} inputs and {len(outs)} outputs (the emulator takes one of each)")
        for layer in self.m.get_layers():
            kind = layer.class_name
            if layer.get_attr("data_format", "channels_last") != "channels_last":
                raise Unsupported(f"{layer.name}: data format {layer.get_attr('data_format')}")
            if kind == "Input":
                t = self.out_type(layer)
                self.output(layer, t, t.bound)
            elif kind in ("Reshape", "Clone"):  # the same values in the same order, under other names
                src = self.inp(layer)
                for name in layer.outputs:
                    if Fixed.of(layer.get_output_variable(name).type.precision, layer.name) != src.t:
                        raise Unsupported(f"{layer.name}: a {kind.lower()} that changes the type")
                    self.tensors[name] = src
            elif kind == "Activation":
                self.activation(layer)
            elif kind == "Merge":
                self.merge(layer)
            elif kind == "BatchNormalization":
                self.batchnorm(layer)
            elif kind in ("ZeroPadding1D", "ZeroPadding2D"):
                self.padding(layer, one_d=kind.endswith("1D"))
            elif kind == "Dense":
                self.mac(layer, "dense")
            elif kind in ("Conv1D", "Conv2D", "PointwiseConv1D", "PointwiseConv2D"):
                self.mac(layer, "conv", one_d=kind.endswith("1D"))
            elif kind in ("DepthwiseConv1D", "DepthwiseConv2D"):
                self.mac(layer, "depthwise", one_d=kind.endswith("1D"))
            elif kind in ("Pooling1D", "Pooling2D"):
                self.pooling(layer, one_d=kind.endswith("1D"), global_=False)
            elif kind in ("GlobalPooling1D", "GlobalPooling2D"):
                self.pooling(layer, one_d=kind.endswith("1D"), global_=True)
            else:
                raise Unsupported(f"{layer.name}: hls4ml layer {kind}")
        if outs[0] not in self.tensors:
            raise Unsupported(f"the output {outs[0]} is not computed")
        return self.tensors[ins[0]], self.tensors[outs[0]]

    def layout(self, x: _Tensor, y: _Tensor) -> tuple[dict[int, int], int]:
        """Workspace offsets (doubles, multiples of 8): a tensor's region is free again after the
        last layer that reads it (first fit); the input is written before the first layer, the
        output read after the last."""
        last = {x.id: -1, y.id: len(self.ops)}
        first = {x.id: -1}
        for step, op in enumerate(self.ops):
            first[op.out] = step
            for a in op.args:
                last[a] = max(last.get(a, step), step)
        offsets: dict[int, int] = {}
        live: list[tuple[int, int, int]] = []  # (offset, size, last step)
        for tid in sorted(first, key=lambda i: first[i]):
            live = [r for r in live if r[2] >= first[tid]]
            size = _pad8(self.all[tid].size) + 8  # + a vector of slack: a vector load may read past a row
            at = 0
            for off, sz, _ in sorted(live):
                if at + size <= off:
                    break
                at = max(at, off + sz)
            offsets[tid] = at
            live.append((at, size, last.get(tid, first[tid])))
        return offsets, max(off + _pad8(self.all[t].size) + 8 for t, off in offsets.items())


def _input_cast_c(t: Fixed) -> str:
    """C for the C simulation's input conversion (nnet::convert_data: a double into input_t by
    ap_fixed's constructor from double), of x into v."""
    if t.integer_type:  # ap_int_base(double): truncation toward zero, and 1 for -0.5 < x < 0 (ap_int_base.h)
        return f"double v = (x < 0.0 && x > -0.5) ? 1.0 : trunc(x);\n                    {_overflow_c(t, small=False)}"
    return (f"double v = {_round_c(f'(x * {_c(2.0 ** t.frac)})', t.rounding)};\n"
            f"                    {_overflow_c(t, small=False)}")


def generate(hls_model, project: Path, out: Path) -> dict:
    """Write hls4ml_model.c/.h under out for the converted hls4ml model whose project (and weight
    files) is at `project`; returns its interface: input and output types and sizes. Raises
    Unsupported, naming the layer, for what it does not cover."""
    model = _Model(hls_model, project)
    x, y = model.build()
    if y.t.width > 53 or x.t.width > 32:
        raise Unsupported(f"input {x.t} or output {y.t} too wide for the firmware's words")
    in_cast, _ = model.cast(x.t.frac, 2.0 ** 31, x.t, "input")
    offsets, words = model.layout(x, y)
    batched = [op.batch is not None and op.pad is None for op in model.ops]
    batch = min(MAX_BATCH, BATCH_BYTES // (8 * words))
    dense = sum(op.macs for op, b in zip(model.ops, batched, strict=True) if b)
    if batch < MIN_BATCH or not dense or 2 * dense < sum(op.macs for op in model.ops):
        batch, batched = 1, [False] * len(model.ops)
    calls = []
    for i, op in enumerate(model.ops):
        params = ", ".join(f"const double *restrict in{k}" for k in range(len(op.args)))
        steps = "\n".join(f"    {st}" for st in op.steps)
        model.funcs.append(f"/* {op.what} */\nstatic void layer_{i}({params}, double *restrict out) {{\n"
                           f"{op.body(f'store_{i}', op.pad)}}}\n")
        model.cast_funcs.append(f"static inline double store_{i}(double v) {{\n{steps}\n    return v;\n}}\n")
        tensors = [*op.args, op.out]
        if batched[i] and op.batch is not None:  # nb inputs at once, or the one the DUT runs as before
            model.funcs.append(op.batch(i, f"store_{i}"))
            at = ", ".join(f"ws + {offsets[a]}" for a in tensors)
            calls.append(f"    if (nb > 1) layer_{i}_batch({at}, nb);\n    else layer_{i}({at});")
        else:
            calls.append(f"    for (int b = 0; b < nb; ++b) "
                         f"layer_{i}({', '.join(f'ws + b * WORDS + {offsets[a]}' for a in tensors)});")
    n_in, n_out, xo, yo = x.size, y.size, offsets[x.id], offsets[y.id]
    (out / HEADER).write_text(
        "/* Generated from hls4ml's ModelGraph by toolchains/hls4ml/emulator.py: do not edit. */\n"
        "#ifndef HLS4ML_MODEL_H\n#define HLS4ML_MODEL_H\n#include <stdint.h>\n"
        f"#define HLS4ML_N_IN {n_in}\n#define HLS4ML_N_OUT {n_out}\n"
        f"#define HLS4ML_IN_FRAC {x.t.frac}\n#define HLS4ML_OUT_FRAC {y.t.frac}\n"
        "/* One inference: the input type's integers (value * 2^HLS4ML_IN_FRAC) in, the output type's out. */\n"
        "void hls4ml_model_raw(const int32_t *in, int64_t *out);\n"
        "/* n inferences of real inputs (converted to the input type as the C simulation does), on every core;\n"
        " * the same of float inputs (each exact as a double). */\n"
        "void hls4ml_model_batch(const double *x, int64_t *y, int n);\n"
        "void hls4ml_model_batch_f32(const float *x, int64_t *y, int n);\n#endif\n")
    (out / SOURCE).write_text(
        "/* Generated from hls4ml's ModelGraph by toolchains/hls4ml/emulator.py: do not edit.\n"
        " * Every value is an ap_fixed integer (value * 2^frac) held exactly in a double. */\n" + PRELUDE +
        f"\n#define WORDS {words}\n#define BATCH {batch}\n\n" + "".join(model.data) + "\n" +
        "\n".join(model.cast_funcs) + "\n" + "\n".join(model.funcs) +
        "\n/* nb inferences, their workspaces WORDS apart */\nstatic void model(double *ws, const int nb, int64_t *out) {\n" +
        "\n".join(calls) + "\n    for (int b = 0; b < nb; ++b)\n"
        f"        for (int i = 0; i < {n_out}; ++i) out[b * {n_out} + i] = (int64_t)ws[b * WORDS + {yo} + i];\n}}\n\n"
        "void hls4ml_model_raw(const int32_t *in, int64_t *out) {\n"
        "    static double ws[WORDS] __attribute__((aligned(64)));\n"
        f"    for (int i = 0; i < {n_in}; ++i) ws[{xo} + i] = {in_cast}((double)in[i]);\n"
        "    model(ws, 1, out);\n}\n\n"
        "/* n inferences of the inputs xd, or (xd NULL) xf */\n"
        "static inline __attribute__((always_inline)) void batch(const double *xd, const float *xf, int64_t *ys, "
        "const int n) {\n"
        "#ifdef _OPENMP\n#pragma omp parallel\n#endif\n    {\n"
        "        double *ws = aligned_alloc(64, sizeof(double) * WORDS * BATCH);\n"
        "        for (int i = 0; i < WORDS * BATCH; ++i) ws[i] = 0.0;\n"
        "        /* dynamic: a core that other processes share takes fewer batches */\n"
        "#ifdef _OPENMP\n#pragma omp for schedule(dynamic)\n#endif\n"
        "        for (int k = 0; k < n; k += BATCH) {\n"
        "            const int nb = n - k < BATCH ? n - k : BATCH;\n"
        "            for (int b = 0; b < nb; ++b) {\n"
        f"                const long at = (long)(k + b) * {n_in};\n"
        f"                for (int i = 0; i < {n_in}; ++i) {{\n"
        f"                    const double x = xd ? xd[at + i] : (double)xf[at + i];\n"
        f"                    {_input_cast_c(x.t)}\n"
        f"                    ws[b * WORDS + {xo} + i] = v;\n                }}\n            }}\n"
        f"            model(ws, nb, ys + (long)k * {n_out});\n        }}\n        free(ws);\n    }}\n}}\n\n"
        "void hls4ml_model_batch(const double *xs, int64_t *ys, int n) { batch(xs, 0, ys, n); }\n"
        "void hls4ml_model_batch_f32(const float *xs, int64_t *ys, int n) { batch(0, xs, ys, n); }\n")
    return {"n_in": n_in, "n_out": n_out, "input_type": str(x.t), "output_type": str(y.t),
            "in_width": x.t.width, "in_frac": x.t.frac, "out_width": y.t.width, "out_frac": y.t.frac,
            "functions": len(model.ops), "workspace_bytes": 8 * words, "batch": batch}


def compile_library(out: Path) -> Path:
    """The shared library for host-side runs: -O3 for this CPU, OpenMP over the batch. FMA
    contraction cannot change a result: every product and sum is an integer exact in a double."""
    lib = out / LIBRARY
    proc = subprocess.run(["gcc", "-std=gnu11", "-O3", "-march=native", "-ffp-contract=fast", "-fopenmp", "-shared",
                           "-fPIC", str(out / SOURCE), "-o", str(lib), "-lm"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"compiling the hls4ml emulator failed:\n{proc.stderr[-3000:]}")
    return lib


def run(lib: Path, inputs: np.ndarray, n_out: int) -> np.ndarray:
    """The emulator on every input (N x anything, real values) -> N x n_out output integers (int64:
    the output type's value * 2^frac). Float32 inputs go in as they are (a copy into doubles would
    cost about as long as an MLP's emulation), anything else as doubles."""
    so = shared_library.load(lib)
    x = np.asarray(inputs).reshape(len(inputs), -1)
    if x.dtype == np.float32 and hasattr(so, "hls4ml_model_batch_f32"):  # (not in a library from before it)
        x, fn, ptr = np.ascontiguousarray(x), so.hls4ml_model_batch_f32, ctypes.c_float
    else:
        x, fn, ptr = np.ascontiguousarray(x, dtype=np.float64), so.hls4ml_model_batch, ctypes.c_double
    y = np.empty((len(x), n_out), dtype=np.int64)  # every row written
    fn(x.ctypes.data_as(ctypes.POINTER(ptr)), y.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)), ctypes.c_int(len(x)))
    return y
