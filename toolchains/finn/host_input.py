"""A QONNX model brought from elsewhere (model=path.onnx) made ready for FINN: its float input is
replaced by the integers the firmware already has, and its input quantizer moves to the host side.

The firmware turns each test file's bytes into integers k (the recipe's rule, e.g. kws: int8 -
zero point); the model's float input is x = k * input_scale, as the user declares. FINN would turn
an input quantizer on a float input into a thresholding layer of 255 thresholds per input channel
(about 62 000 LUT for KWS, docs/toolchains.md A.9). So the graph input becomes the quantizer's integers
q (typed INTn/UINTn) followed by the quantizer's dequantization (q - zero point) * scale, which
streamlining absorbs into the next layer; and q = T[k] is a table the emulator applies, computed
here with qonnx's own Quant arithmetic on every possible k: exact for any declared scale. A table
that is the identity is left out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.errors import ConfigError
from frameworks.qonnx_import import float_input

QUANT_OPS = ("Quant", "IntQuant")


@dataclass
class HostInput:
    dtype: str  # the FINN graph input's datatype, e.g. INT8
    k_min: int  # the firmware integers T is indexed by: k_min .. k_min + len(table) - 1
    table: np.ndarray | None  # q = table[k - k_min]; None: q = k

    def apply(self, k: np.ndarray) -> np.ndarray:
        """The integers the FINN graph takes for firmware integers k (float32, as FINN's tensors)."""
        k = np.asarray(k)
        q = k if self.table is None else self.table[(k - self.k_min).astype(np.int64)]
        return q.astype(np.float32)


def datatype_for(lo: int, hi: int) -> str:
    """The narrowest QONNX integer type holding lo..hi."""
    if lo >= 0:
        return f"UINT{max(1, int(hi).bit_length())}"
    bits = max(int(-lo - 1).bit_length(), int(hi).bit_length()) + 1
    return f"INT{bits}"


def _attr(node, name: str, default: int) -> int:
    return next((a.i for a in node.attribute if a.name == name), default)


def prepare(m, input_scale: float, k_range: tuple[int, int]):
    """m: a cleaned qonnx ModelWrapper with one float input (changed). Returns the model rewritten
    as described above (cleaned, shapes inferred) and the HostInput the emulator and the checks
    apply to the firmware integers."""
    from onnx import TensorProto, helper
    from qonnx.core.datatype import DataType
    from qonnx.custom_op.general.quant import quant
    from qonnx.util.cleanup import cleanup_model

    if len(m.graph.input) != 1:
        raise ConfigError(f"the QONNX model has {len(m.graph.input)} inputs: the harness feeds one")
    name = m.graph.input[0].name
    k = np.arange(k_range[0], k_range[1] + 1)
    consumers = m.find_consumers(name) or []
    quantizer = consumers[0] if len(consumers) == 1 and consumers[0].op_type in QUANT_OPS else None
    if quantizer is None:  # no input quantizer: the integers k themselves, times the declared scale
        dtype, table, scale, zero = datatype_for(*k_range), None, np.float32(input_scale), 0.0
        targets = consumers
    else:
        scale, zero, bits = (m.get_initializer(t) for t in quantizer.input[1:4])
        if scale is None or zero is None or bits is None or np.size(scale) != 1 or np.size(zero) != 1:
            raise ConfigError(f"the model's input quantizer {quantizer.name or quantizer.op_type} is not per-tensor with "
                              f"constant scale, zero point and bit width: the harness cannot move it to the host")
        signed, narrow = _attr(quantizer, "signed", 1), _attr(quantizer, "narrow", 0)
        rounding = next((a.s.decode() for a in quantizer.attribute if a.name == "rounding_mode"), "ROUND")
        x = float_input(k, input_scale)
        dequantized = quant(x, scale, zero, bits, signed, narrow, rounding)
        q = np.round(dequantized / scale + zero).astype(np.int64)
        dtype = f"{'INT' if signed else 'UINT'}{int(bits)}"
        table = None if np.array_equal(q, k) else q
        targets = m.find_consumers(quantizer.output[0]) or []
        scale, zero = np.float32(np.asarray(scale).item()), float(np.asarray(zero).item())
        m.graph.node.remove(quantizer)

    # q -> (q - zero) * scale, ahead of whatever read the float input (or its quantizer)
    source = name
    nodes = []
    if zero != 0:
        m.set_initializer(f"{name}_zero_point", np.asarray(-zero, dtype=np.float32))
        nodes.append(helper.make_node("Add", [source, f"{name}_zero_point"], [f"{name}_centred"], name="host_input_zero_point"))
        source = f"{name}_centred"
    m.set_initializer(f"{name}_scale", np.asarray(scale, dtype=np.float32))
    nodes.append(helper.make_node("Mul", [source, f"{name}_scale"], [f"{name}_dequantized"], name="host_input_scale"))
    old = quantizer.output[0] if quantizer is not None else name
    for consumer in targets:
        for i, t in enumerate(consumer.input):
            if t == old:
                consumer.input[i] = f"{name}_dequantized"
    for n in reversed(nodes):
        m.graph.node.insert(0, n)
    m.graph.input[0].type.tensor_type.elem_type = TensorProto.FLOAT
    m.set_tensor_datatype(name, DataType[dtype])
    return cleanup_model(m), HostInput(dtype=dtype, k_min=int(k_range[0]), table=table)
