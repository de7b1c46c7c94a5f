"""How the FINN accelerator's input and output cross the data movers on a board: the layout FINN's
own PYNQ driver uses (finn.util.data_packing with reverse_endian and reverse_inner), written as
finn_io.h for the bare-metal driver (accel_finn_board.c, finn_pack.c).

The dataflow partition's first layer takes its input folded as (words, fold): each word holds
`fold` values of the input datatype, value 0 in the lowest bits, padded to whole bytes, bytes
little-endian; the output is the same with the last layer's folded output shape. The driver packs
the integers the firmware puts in the accelerator's words and unpacks the output, so the whole
graph must be on the fabric (but for reshapes): a graph with layers outside the dataflow partition
has no board driver here (the emulator still runs it)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

HEADER = "finn_io.h"
WHY_NOT = "finn_io.why_not.txt"  # written instead of the header: why this design has no board driver
PARENT = "intermediate_models/dataflow_parent.onnx"
DATAFLOW = "intermediate_models/step_hw_codegen.onnx"
SAME_ORDER = ("Flatten", "Reshape")  # outside the partition, these leave the values in memory order: nothing to run


class NotOnFabric(Exception):
    """The design cannot be driven by the board driver; the message says why."""


def layout(parent_path: Path, dataflow_path: Path) -> dict:
    """The input and output layouts of the dataflow partition: datatype, words, fold, bytes per word."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    parent = ModelWrapper(str(parent_path))
    partitions = [n for n in parent.graph.node if n.op_type == "StreamingDataflowPartition"]
    outside = [n.op_type for n in parent.graph.node if n.op_type not in ("StreamingDataflowPartition", *SAME_ORDER)]
    if outside or len(partitions) != 1:
        raise NotOnFabric("the graph has layers outside the one dataflow partition "
                          f"({', '.join(outside) or 'several partitions'}): "
                          "they would run on the CPU, and the board driver runs only a graph wholly on the fabric")
    flow = ModelWrapper(str(dataflow_path))
    first, last = getCustomOp(flow.graph.node[0]), getCustomOp(flow.graph.node[-1])
    return {"input": side(first.get_input_datatype(), first.get_folded_input_shape()),
            "output": side(last.get_output_datatype(), last.get_folded_output_shape())}


def side(datatype, folded_shape) -> dict:
    """One direction's layout: a qonnx DataType and the folded shape (..., fold)."""
    fold = int(folded_shape[-1])
    words = int(np.prod(folded_shape[:-1]))
    return {"datatype": datatype.name, "bits": datatype.bitwidth(), "signed": datatype.signed(),
            "float": datatype.name == "FLOAT32", "words": words, "fold": fold,
            "word_bytes": math.ceil(fold * datatype.bitwidth() / 8), "folded_shape": [int(d) for d in folded_shape]}


def write_or_explain(finn_build: Path, out: Path, host_table: tuple[int, np.ndarray] | None = None) -> dict | str:
    """finn_io.h under out from a FINN build folder: its layout, or why there is none (kept on
    disk for the build stage, which then skips the board's firmware with that reason)."""
    for stale in (out / HEADER, out / WHY_NOT):
        stale.unlink(missing_ok=True)
    try:
        return write(finn_build / PARENT, finn_build / DATAFLOW, out, host_table)
    except NotOnFabric as e:
        (out / WHY_NOT).write_text(f"{e}\n")
        return str(e)


def reason(out: Path) -> str:
    """Why the convert stage in out wrote no finn_io.h."""
    why = out / WHY_NOT
    return why.read_text().strip() if why.is_file() else f"{out / HEADER} is missing: convert again"


def write(parent_path: Path, dataflow_path: Path, out: Path, host_table: tuple[int, np.ndarray] | None = None) -> dict:
    """Write finn_io.h under out; returns the layout."""
    io = layout(parent_path, dataflow_path)
    (out / HEADER).write_text(header(io, host_table))
    return io


def header(io: dict, host_table: tuple[int, np.ndarray] | None = None) -> str:
    """finn_io.h for a layout. host_table: an imported model's input quantizer (host_input.py),
    applied by the driver before packing; its values must be integers of the input datatype, as
    the partition's first layer takes them."""
    i, o = io["input"], io["output"]
    if not i["datatype"].startswith(("INT", "UINT")) or i["bits"] > 32:
        raise NotOnFabric(f"the dataflow partition takes {i['datatype']}: the driver packs INT/UINT of up to 32 bits")
    if not (o["float"] or (o["datatype"].startswith(("INT", "UINT")) and o["bits"] <= 32)):
        raise NotOnFabric(f"the dataflow partition gives {o['datatype']}: "
                          "the driver unpacks FLOAT32 or INT/UINT of up to 32 bits")
    defines = {"FINN_IN_WORDS": i["words"], "FINN_IN_FOLD": i["fold"], "FINN_IN_BITS": i["bits"],
               "FINN_IN_WORD_BYTES": i["word_bytes"], "FINN_OUT_WORDS": o["words"], "FINN_OUT_FOLD": o["fold"],
               "FINN_OUT_BITS": o["bits"], "FINN_OUT_WORD_BYTES": o["word_bytes"], "FINN_OUT_SIGNED": int(o["signed"]),
               "FINN_OUT_FLOAT": int(o["float"])}
    table = ""
    if host_table is not None:
        k_min, values = host_table
        values = np.asarray(values, dtype=np.float64)
        lo, hi = (-(1 << (i["bits"] - 1)), (1 << (i["bits"] - 1)) - 1) if i["signed"] else (0, (1 << i["bits"]) - 1)
        if not (np.all(values == np.round(values)) and values.min() >= lo and values.max() <= hi):
            raise NotOnFabric(f"the host-side input table gives values that are not {i['datatype']} integers")
        defines.update(FINN_IN_TABLE=1, FINN_IN_TABLE_MIN=int(k_min), FINN_IN_TABLE_LEN=len(values))
        table = ("static const int32_t finn_in_table[FINN_IN_TABLE_LEN] = {"
                 + ", ".join(str(int(v)) for v in values) + "};\n")
    body = "".join(f"#define {k} {v}\n" for k, v in defines.items())
    return ("/* Generated by toolchains/finn/board_io.py from the FINN build: do not edit.\n"
            f" * input  {i['datatype']} folded {i['folded_shape']}, output {o['datatype']} folded {o['folded_shape']}. */\n"
            "#ifndef FINN_IO_H\n#define FINN_IO_H\n#include <stdint.h>\n" + body + table + "#endif\n")
