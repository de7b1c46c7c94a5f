"""Brevitas -> QONNX for FINN: the recipe's trained Brevitas model exported with its integer input
(the host or firmware quantizes; a float input plus an input quantizer would cost FINN about
62 000 LUT, docs/toolchains.md A.9), cleaned and shape-inferred by qonnx, the graph input annotated with
its integer type, and A2Q/A2Q+ layers' weights baked to their quantized values first (the exporter
otherwise writes the float weights, docs/toolchains.md A.6)."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def freeze_accumulator_aware_weights(model, example) -> int:
    """Replace the float weights of A2Q/A2Q+ layers by their quantized values (in place, eval mode);
    returns how many layers were changed."""
    import torch
    from brevitas.nn.quant_layer import QuantWeightBiasInputOutputLayer

    targets = [m for m in model.modules()
               if isinstance(m, QuantWeightBiasInputOutputLayer) and m.weight_quant.requires_quant_input]
    seen = {}
    hooks = [m.register_forward_pre_hook(lambda mod, args: seen.__setitem__(mod, args[0])) for m in targets]
    try:
        with torch.no_grad():
            model(example)
    finally:
        for h in hooks:
            h.remove()
    with torch.no_grad():
        for layer, quant_input in seen.items():
            layer.weight.copy_(layer.quant_weight(quant_input).value)
    return len(seen)


def input_datatype(model) -> str:
    """The QONNX datatype of the model's integer input (its first layer, an integer_input)."""
    first = next(iter(model.children()))
    bits = int(first.act_quant.bit_width())
    signed = bool(first.act_quant.is_signed)
    return f"{'INT' if signed else 'UINT'}{bits}"


def export(model, example: np.ndarray, out: Path) -> Path:
    """model: a recipe's Brevitas model (eval mode); example: a few inputs as the model takes them.
    Writes out/model.onnx (QONNX, cleaned) and returns its path."""
    import torch
    from brevitas.export import export_qonnx
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    model = copy.deepcopy(model).eval()
    x = torch.from_numpy(np.ascontiguousarray(example[:1], dtype=np.float32))
    baked = freeze_accumulator_aware_weights(model, x)
    if baked:
        log.info("export: baked the quantized weights of %d A2Q/A2Q+ layer(s) before export", baked)
    raw = out / "brevitas_export.onnx"
    export_qonnx(model, input_t=x, export_path=str(raw), dynamo=False)
    clean = cleanup_model(ModelWrapper(str(raw)))
    clean.set_tensor_datatype(clean.graph.input[0].name, DataType[input_datatype(model)])
    _drop_input_identity(clean)
    path = out / "model.onnx"
    clean.save(str(path))
    raw.unlink()
    return path


def _drop_input_identity(m) -> None:
    """The integer input's quantizer (scale 1, zero point 0, the input's own width) is an identity
    on an input already typed INTn/UINTn; FINN would turn it into a 255-threshold layer per input
    channel. Remove it, so the first MatMul/Conv reads the graph input directly."""
    name = m.graph.input[0].name
    node = next((n for n in m.graph.node if n.op_type == "Quant" and n.input[0] == name), None)
    if node is None:
        return
    scale, zero, bits = (m.get_initializer(t) for t in node.input[1:4])
    dtype = m.get_tensor_datatype(name)
    signed = next(a.i for a in node.attribute if a.name == "signed")
    if (scale is None or np.any(scale != 1) or np.any(zero != 0) or int(bits) != dtype.bitwidth()
        or bool(signed) != dtype.signed()):
        return
    for consumer in m.find_consumers(node.output[0]) or []:
        for i, t in enumerate(consumer.input):
            if t == node.output[0]:
                consumer.input[i] = name
    m.graph.node.remove(node)


def execute(path: Path, inputs: np.ndarray) -> np.ndarray:
    """qonnx's reference execution, one input at a time (exact, slow: for checks on a few inputs)."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx

    m = ModelWrapper(str(path))
    name_in, name_out = m.graph.input[0].name, m.graph.output[0].name
    return np.concatenate([execute_onnx(m, {name_in: x[None].astype(np.float32)})[name_out] for x in inputs])
