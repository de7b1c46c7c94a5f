"""A latency model of an hls4ml design from its layer sizes and reuse factors (no HLS report
exists without Vitis HLS), for the board's modeled timing. Modeled, and labelled so.

io_parallel designs (the MLPs): the accelerator reads its n_in input words and writes its n_out
output words over its AXI master, one word per cycle (as the published AD08 top, myproject_axi,
moves them), and in between each Dense layer with reuse factor R takes R cycles of multiplies plus
an adder tree of ceil(log2(n_in / R)) levels and 2 cycles of registers; an activation or
BatchNormalization takes one cycle. io_stream designs (the CNNs) have no model here: their
dataflow overlap needs the HLS report (None is returned and nothing modeled is printed)."""

from __future__ import annotations

import math


def dense_cycles(n_in: int, reuse: int) -> int:
    return reuse + math.ceil(math.log2(max(n_in // reuse, 1))) + 2


def model(keras_model, io_type: str, reuse_factors: dict[str, int], board) -> dict | None:
    """{accelerator_cycles, accelerator_latency_us, call_overhead_us, modeled_latency_us, what}."""
    if io_type != "io_parallel":
        return None
    n_in = math.prod(keras_model.input_shape[1:])
    n_out = math.prod(keras_model.output_shape[1:])
    cycles, parts = n_in + n_out, [f"{n_in} + {n_out} I/O words"]
    for layer in keras_model.layers:
        kind = type(layer).__name__
        if kind in ("Dense", "QDense"):
            reuse = int(reuse_factors.get(layer.name, 1))
            c = dense_cycles(math.prod(layer.input.shape[1:]), reuse)
            cycles += c
            parts.append(f"{layer.name} {c}")
        elif kind in ("Activation", "QActivation", "BatchNormalization", "QBatchNormalization"):
            cycles += 1
    accelerator_us = cycles * board.clock_period_ns / 1000.0
    return {"accelerator_cycles": cycles, "accelerator_latency_us": accelerator_us,
            "call_overhead_us": board.call_overhead.us, "modeled_latency_us": accelerator_us + board.call_overhead.us,
            "what": f"hls4ml latency model (layer sizes and reuse factors: {', '.join(parts)} cycles) at "
                    f"{board.fabric_clock_mhz:g} MHz, + {board.call_overhead.us:g} us firmware overhead per call"}
