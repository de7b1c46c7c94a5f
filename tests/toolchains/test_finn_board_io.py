"""The FINN board driver's stream layout (finn_pack.c with a generated finn_io.h), compiled with
the host's gcc and checked byte for byte against FINN's own packing (finn.util.data_packing, as
FINN's PYNQ driver calls it) for the datatypes and folds our designs use and some awkward ones."""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path

import numpy as np
import pytest

from toolchains.finn import board_io

HERE = Path(board_io.__file__).resolve().parent


def _library(io: dict, tmp: Path, host_table=None) -> ctypes.CDLL:
    (tmp / board_io.HEADER).write_text(board_io.header(io, host_table))
    lib = tmp / "libfinn_pack.so"
    subprocess.run(["gcc", "-O2", "-Wall", "-Werror", "-shared", "-fPIC", f"-I{tmp}", f"-I{HERE}", str(HERE / "finn_pack.c"),
                    "-o", str(lib)], check=True)
    return ctypes.CDLL(str(lib))


def _io(idt: str, ishape, odt: str, oshape) -> dict:
    from qonnx.core.datatype import DataType

    return {"input": board_io.side(DataType[idt], ishape), "output": board_io.side(DataType[odt], oshape)}


CASES = [  # (input datatype, folded input, output datatype, folded output)
    ("INT9", (1, 49, 10), "FLOAT32", (1, 12, 1)),  # KWS-W3A3 on the Pynq-Z2
    ("UINT8", (1, 32, 32, 1, 3), "INT16", (1, 10, 1)),  # CNV-W1A1's pixels
    ("INT4", (1, 10, 64), "UINT4", (1, 2, 5)),
    ("INT3", (1, 7, 3), "INT9", (1, 3, 7)),  # words of 9 and 63 bits: padding inside a byte
    ("UINT32", (1, 4, 3), "FLOAT32", (1, 2, 2)),
]


@pytest.mark.parametrize("idt, ishape, odt, oshape", CASES)
def test_packing_equals_finns_own(tmp_path, idt, ishape, odt, oshape):
    from finn.util.data_packing import finnpy_to_packed_bytearray, packed_bytearray_to_finnpy
    from qonnx.core.datatype import DataType

    io = _io(idt, ishape, odt, oshape)
    lib = _library(io, tmp_path)
    rng = np.random.default_rng(7)
    i, o = io["input"], io["output"]
    n_in, n_out = i["words"] * i["fold"], o["words"] * o["fold"]
    for _ in range(5):
        x = rng.integers(DataType[idt].min(), DataType[idt].max(), size=n_in, endpoint=True)
        packed = (ctypes.c_uint8 * (i["words"] * i["word_bytes"]))()
        lib.finn_pack_input((ctypes.c_int32 * n_in)(*[int(v) for v in x]), packed)
        # FINN packs UINT32 from a uint32 container only (a float or int64 one turns values >= 2^31 into 0)
        container = np.uint32 if idt == "UINT32" else np.float64
        want = finnpy_to_packed_bytearray(x.reshape(ishape).astype(container), DataType[idt], reverse_endian=True,
                                          reverse_inner=True)
        assert bytes(packed) == want.tobytes()

        if odt == "FLOAT32":
            y = rng.normal(0, 100, size=n_out).astype(np.float32)
        else:
            y = rng.integers(DataType[odt].min(), DataType[odt].max(), size=n_out, endpoint=True).astype(np.float32)
        words = np.ascontiguousarray(finnpy_to_packed_bytearray(y.reshape(oshape), DataType[odt], reverse_endian=True,
                                                                reverse_inner=True))
        assert words.size == o["words"] * o["word_bytes"]
        got = (ctypes.c_double * n_out)()
        lib.finn_unpack_output((ctypes.c_uint8 * words.size)(*words.tobytes()), got)
        back = packed_bytearray_to_finnpy(words, DataType[odt], oshape, reverse_endian=True, reverse_inner=True)
        np.testing.assert_array_equal(np.array(got[:]), back.reshape(-1).astype(np.float64))
        np.testing.assert_array_equal(np.array(got[:]), y.astype(np.float64))


def test_an_imported_models_input_table_is_applied_before_packing(tmp_path):
    from finn.util.data_packing import finnpy_to_packed_bytearray
    from qonnx.core.datatype import DataType

    io = _io("INT4", (1, 2, 4), "INT8", (1, 1, 1))
    table = np.clip(np.round(np.arange(-128, 128) / 20.0), -8, 7)  # k in -128..127 -> a 4-bit integer
    lib = _library(io, tmp_path, host_table=(-128, table))
    k = np.array([-128, -90, -11, 0, 9, 10, 77, 127])
    packed = (ctypes.c_uint8 * 4)()
    lib.finn_pack_input((ctypes.c_int32 * 8)(*[int(v) for v in k]), packed)
    want = finnpy_to_packed_bytearray(table[k + 128].reshape(1, 2, 4).astype(np.float32), DataType["INT4"],
                                      reverse_endian=True, reverse_inner=True)
    assert bytes(packed) == want.tobytes()


@pytest.mark.parametrize("idt, odt, message", [("BIPOLAR", "INT8", "takes BIPOLAR"), ("INT8", "FIXED<8,4>", "gives FIXED"),
                                               ("INT8", "INT64", "gives INT64")])
def test_layouts_the_driver_cannot_move_are_refused(idt, odt, message):
    with pytest.raises(board_io.NotOnFabric, match=message):
        board_io.header(_io(idt, (1, 4, 2), odt, (1, 2, 1)))
    with pytest.raises(board_io.NotOnFabric, match="not INT4 integers"):
        board_io.header(_io("INT4", (1, 4, 2), "INT8", (1, 2, 1)), host_table=(0, np.array([0.5, 1.0])))
