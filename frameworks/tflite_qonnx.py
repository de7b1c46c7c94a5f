"""An official int8 TF Lite model (the MLPerf Tiny references: post-training quantized by MLPerf) as a
QONNX graph FINN can take, keeping its arithmetic: tf2onnx writes the QuantizeLinear/DequantizeLinear
(QDQ) form, then named passes make it QONNX (qonnx's QCDQToQuant) and FINN-ready. Each pass keeps what
the graph computes, except where its docstring says what moves out of the graph and where it goes.

The passes, in order (docs/toolchains.md C.z has the trial behind each):
  batch_one                 the batch dimension tf2onnx leaves dynamic becomes 1 (FINN's shapes are static)
  fold_bias_dequantizers    int32 biases become float initializers (qonnx's ExtractBiasFromConv cannot take
                            per-channel Quant nodes on biases; the values are exactly bias * scale)
  broadcast_channel_scales  per-channel (axis) scales and zero points reshaped to broadcast against their
                            weights, as Quant nodes need (QCDQToQuant fails on 1-D per-channel scales)
  float_input               the graph input becomes the float x = (q - zero_point) * scale the firmware feeds
                            as exact integers (q - zero_point); the input's own dequantizer leaves the graph
  float_output              the output requantization leaves the graph, and with it a classifier's softmax and
                            the softmax's quantizer: it ends at the float logits (or an autoencoder's float
                            reconstruction); the firmware requantizes where it needs TF Lite's int8 values
  global_average_pools      an AveragePool whose window is the whole map becomes GlobalAveragePool (FINN maps
                            that to an accumulator and a scale; the same average)
  adjacent_qdq              Quantize -> Reshape -> Dequantize becomes Quantize -> Dequantize -> Flatten, so the
                            pair becomes one Quant node
  QCDQToQuant               qonnx: every QDQ pair becomes a Quant node
  average_pool_rounding     the requantization after a whole-map average pool rounds TF Lite's way: half away
                            from the int8 zero (a tie-break scaling of the mean about that point, see its docstring)
  unsigned_activations      an int8 activation quantizer with zero point -128 becomes uint8 with zero point 0:
                            clip(round(x/s) - 128, -128, 127) + 128 = clip(round(x/s), 0, 255), the same
                            values; FINN takes only zero point 0
  shifted_zero_points       any other zero point z (the ResNet-8's residual branches: no ReLU before them) is
                            moved out of its quantizer: x + z*s, quantized with zero point 0 (the same clip to
                            int8), then - z*s; the same values but for float rounding on an exact tie
  input_layout              a 4-D input that tf2onnx transposes to NCHW inside the graph is annotated NHWC, what
                            TF Lite feeds: qonnx's layout inference otherwise assumes NCHW for the input, and once
                            the transposes are absorbed FINN refuses the first thresholds as NCHW in, NHWC out (an
                            input of one channel, reshaped rather than transposed, is NCHW-shaped from the reshape on)

What stays inexact here: the interpreter requantizes in its own float32 steps (XNNPACK's), a Quant node
rounds the product reached in others, so an output within float error of a rounding boundary may differ
by one step (measured, not assumed: the import reports how often the int8 logits match the
interpreter's). The graph carries each layer's requantization in its metadata
(frameworks/tflite_requantization.py), from which FINN's thresholds are made exact after streamlining."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.errors import ConfigError
from frameworks import tflite_requantization as requantization


@dataclass(frozen=True)
class Requantization:
    """int8 = clip(round(x / scale) + zero_point, -128, 127): how TF Lite quantizes a float tensor."""

    scale: float
    zero_point: int

    def apply(self, x: np.ndarray) -> np.ndarray:
        return np.clip(np.round(np.asarray(x, dtype=np.float64) / self.scale) + self.zero_point, -128, 127).astype(np.int8)


@dataclass(frozen=True)
class Converted:
    input: Requantization  # the test files' int8 encoding (x = (q - zero_point) * scale)
    output: Requantization  # the interpreter's int8 logits or reconstruction (the graph now stops before them)
    output_tensor: str  # the TF Lite tensor of those int8 values


def agreement(outputs: np.ndarray, interpreter: np.ndarray, output: Requantization, classifier: bool) -> float:
    """How often float outputs (N, n) give what the interpreter's int8 ones give: the class (a
    classifier: the fraction of inputs whose argmax is one of the classes the interpreter scores highest;
    int8 logits can tie, and which of the tied classes an argmax names is only index order); otherwise
    the values once requantized as TF Lite requantizes them (an autoencoder: the fraction of all N x n
    values, as its score is their mean error)."""
    if classifier:
        picked = outputs.argmax(1)
        return float(np.mean(interpreter[np.arange(len(picked)), picked] == interpreter.max(1)))
    return float(np.mean(output.apply(outputs) == interpreter))


def _attr(node, name: str, default: int) -> int:
    return next((a.i for a in node.attribute if a.name == name), default)


def _only_consumer(m, tensor: str, op_type: str, what: str):
    consumers = m.find_consumers(tensor) or []
    if len(consumers) != 1 or consumers[0].op_type != op_type:
        raise ConfigError(f"not an int8 TF Lite graph of the expected form: {what} is not followed by one {op_type}")
    return consumers[0]


def batch_one(m) -> None:
    for value in list(m.graph.input) + list(m.graph.output):
        dim = value.type.tensor_type.shape.dim[0]
        dim.ClearField("dim_param")
        dim.dim_value = 1


def fold_bias_dequantizers(m) -> None:
    for node in list(m.graph.node):
        if node.op_type != "DequantizeLinear" or m.get_initializer(node.input[0]) is None:
            continue
        q = m.get_initializer(node.input[0])
        if q.dtype == np.int32:
            scale, zero = m.get_initializer(node.input[1]), m.get_initializer(node.input[2])
            m.set_initializer(node.output[0], ((q.astype(np.float64) - zero) * scale).astype(np.float32))
            m.graph.node.remove(node)


def broadcast_channel_scales(m) -> None:
    for node in m.graph.node:
        weights = m.get_initializer(node.input[0]) if node.op_type == "DequantizeLinear" else None
        if weights is None:
            continue
        scale, zero = m.get_initializer(node.input[1]), m.get_initializer(node.input[2])
        if scale.ndim == 1 and scale.size > 1:
            shape = [1] * weights.ndim
            shape[_attr(node, "axis", 1)] = -1
            m.set_initializer(node.input[1], scale.reshape(shape))
            m.set_initializer(node.input[2], zero.reshape(shape))
        for a in [a for a in node.attribute if a.name == "axis"]:
            node.attribute.remove(a)


def float_input(m) -> Requantization:
    from onnx import TensorProto

    name = m.graph.input[0].name
    first = m.find_consumer(name)
    # NHWC -> NCHW ahead of the dequantizer: a Transpose, or for one channel a Reshape
    source = first.output[0] if first is not None and first.op_type in ("Reshape", "Transpose") else name
    dequantize = _only_consumer(m, source, "DequantizeLinear", "the int8 input")
    scale, zero = (m.get_initializer(t) for t in dequantize.input[1:3])
    for consumer in m.find_consumers(dequantize.output[0]) or []:
        consumer.input[:] = [source if t == dequantize.output[0] else t for t in consumer.input]
    m.graph.node.remove(dequantize)
    m.graph.input[0].type.tensor_type.elem_type = TensorProto.FLOAT
    return Requantization(float(scale), int(zero))


def float_output(m) -> tuple[Requantization, str]:
    """Returns the output's requantization and the name of its int8 tensor (tf2onnx keeps TF Lite's names)."""
    from onnx import TensorProto

    quantize = m.find_producer(m.graph.output[0].name)
    if quantize is None or quantize.op_type != "QuantizeLinear":
        raise ConfigError("not an int8 TF Lite graph of the expected form: its output is not quantized")
    removed = [quantize]
    softmax = m.find_producer(quantize.input[0])
    if softmax is not None and softmax.op_type == "Softmax":  # a classifier: back to the quantized logits
        dequantize = m.find_producer(softmax.input[0])
        quantize = m.find_producer(dequantize.input[0]) if dequantize is not None else None
        if dequantize is None or quantize is None or quantize.op_type != "QuantizeLinear":
            raise ConfigError("not an int8 TF Lite graph of the expected form: the softmax does not read quantized logits")
        removed += [softmax, dequantize, quantize]
    scale, zero = (m.get_initializer(t) for t in quantize.input[1:3])
    for node in removed:
        m.graph.node.remove(node)
    out = m.graph.output[0]
    out.name = quantize.input[0]
    out.type.tensor_type.elem_type = TensorProto.FLOAT  # same shape: the logits are what the softmax read
    return Requantization(float(scale), int(zero)), quantize.output[0]


def global_average_pools(m) -> None:
    for node in m.graph.node:
        if node.op_type != "AveragePool":
            continue
        kernel = next(list(a.ints) for a in node.attribute if a.name == "kernel_shape")
        if list(m.get_tensor_shape(node.input[0])[2:]) != kernel:
            raise ConfigError(f"average pooling {kernel} over a {m.get_tensor_shape(node.input[0])} map: only a pool "
                              f"over the whole map is mapped")
        node.op_type = "GlobalAveragePool"
        del node.attribute[:]


def adjacent_qdq(m) -> None:
    from onnx import helper

    for reshape in [n for n in m.graph.node if n.op_type == "Reshape"]:
        before = m.find_producer(reshape.input[0])
        after = m.find_consumers(reshape.output[0]) or []
        if before is None or before.op_type != "QuantizeLinear" or len(after) != 1 or after[0].op_type != "DequantizeLinear":
            continue
        dequantize, final = after[0], after[0].output[0]
        if len(m.get_tensor_shape(final)) != 2:
            raise ConfigError("a reshape between a quantizer pair that is not a flatten")
        dequantize.input[0] = before.output[0]
        dequantize.output[0] = f"{final}_unflattened"
        m.graph.node.remove(reshape)
        position = list(m.graph.node).index(dequantize) + 1
        m.graph.node.insert(position, helper.make_node("Flatten", [dequantize.output[0]], [final], axis=1))


def average_pool_rounding(m) -> None:
    """TF Lite's int8 AVERAGE_POOL_2D rounds the mean of the int8 values q half away from zero (measured on the
    ResNet-8's pool: all of 12 800 pooled channels, 211 of them ties), a Quant node rounds half to even and
    FINN's thresholds half up. The mean x goes through c + (1 + eps)(x - c) before its quantizer, c the real
    value of q = 0 (-zero_point * scale): a tie moves away from c, so it rounds away from q = 0, and no other
    mean crosses a rounding boundary. The means of n integers are 1/n apart (in steps of q), so a mean that
    is not a tie is at least gap = 1/n from a boundary (1/(2n) for an odd n, which has no ties); the largest
    move, 2^(bits-1) * eps at the end of the range, must stay below that, the smallest tie's move is eps/2:
    eps = 2 gap / (2^bits + 1) makes both margins gap / (2^bits + 1). On FINN's integer sums that is 1/257 of
    a sum step, and the thresholds fall on the right side of every tie; in the float graph it is 6e-5 of a
    step for the 8 x 8 pool, about the float32 error of the mean (7e-5 at most, measured), so there a tie
    can still go either way. TF Lite's pool keeps its input's scale and zero point: other ones are refused."""
    from onnx import helper

    for pool in [n for n in m.graph.node if n.op_type == "GlobalAveragePool"]:
        quant = _only_consumer(m, pool.output[0], "Quant", "an average pool")
        before = m.find_producer(pool.input[0])
        params = [tuple(float(m.get_initializer(t)) for t in node.input[1:4]) for node in (quant, before)
                  if node is not None and node.op_type == "Quant"]
        if len(params) != 2 or params[0] != params[1]:
            raise ConfigError(f"{pool.name}: the average pool's input and output quantizers differ ({params}): TF Lite's "
                              f"int8 pool keeps its input's scale and zero point")
        scale, zero, bits = params[0]
        n = int(np.prod(m.get_tensor_shape(pool.input[0])[2:]))
        gap = 1.0 / n if n % 2 == 0 else 0.5 / n
        eps = 2 * gap / (2 ** bits + 1)
        centre = -zero * scale
        name = f"{quant.name}_tie_break"
        m.set_initializer(f"{name}_scale", np.array(1.0 + eps, dtype=np.float32))
        m.set_initializer(f"{name}_shift", np.array(-eps * centre, dtype=np.float32))
        position = list(m.graph.node).index(quant)
        m.graph.node.insert(position, helper.make_node("Mul", [pool.output[0], f"{name}_scale"], [f"{name}_scaled"]))
        m.graph.node.insert(position + 1, helper.make_node("Add", [f"{name}_scaled", f"{name}_shift"], [f"{name}_out"]))
        quant.input[0] = f"{name}_out"


def unsigned_activations(m) -> None:
    for node in m.graph.node:
        if node.op_type != "Quant" or m.get_initializer(node.input[0]) is not None:
            continue  # weights keep zero point 0 (TF Lite's are symmetric)
        zero = m.get_initializer(node.input[2])
        if np.all(zero == 0):
            continue
        if not (np.all(zero == -128) and _attr(node, "signed", 1) == 1 and float(m.get_initializer(node.input[3])) == 8):
            continue  # another zero point: shifted_zero_points
        m.set_initializer(node.input[2], np.zeros_like(zero))
        next(a for a in node.attribute if a.name == "signed").i = 0


def shifted_zero_points(m) -> None:
    from onnx import helper

    for node in list(m.graph.node):
        if node.op_type != "Quant" or m.get_initializer(node.input[0]) is not None:
            continue
        zero, scale = m.get_initializer(node.input[2]), m.get_initializer(node.input[1])
        if np.all(zero == 0):
            continue
        if zero.size != 1 or scale.size != 1:
            raise ConfigError(f"activation quantizer {node.name} has per-channel zero points {zero.ravel()[:4]}: only a "
                              f"tensor's one zero point is shifted out")
        shift = np.float32(float(zero) * float(scale))
        position = list(m.graph.node).index(node)
        before, after = f"{node.name}_shifted_in", f"{node.name}_shifted_out"
        m.set_initializer(f"{node.name}_zero_shift", np.array(shift, dtype=np.float32))
        m.set_initializer(f"{node.name}_zero_unshift", np.array(-shift, dtype=np.float32))
        m.graph.node.insert(position, helper.make_node("Add", [node.input[0], f"{node.name}_zero_shift"], [before]))
        output = node.output[0]
        node.input[0], node.output[0] = before, after
        m.graph.node.insert(position + 2, helper.make_node("Add", [after, f"{node.name}_zero_unshift"], [output]))
        m.set_initializer(node.input[2], np.zeros_like(zero))


def input_layout(m) -> None:
    from qonnx.core.data_layout import NHWC

    name = m.graph.input[0].name
    first = m.find_consumer(name)
    perm = next((list(a.ints) for a in first.attribute if a.name == "perm"), None) if first is not None else None
    if len(m.get_tensor_shape(name)) == 4 and first.op_type == "Transpose" and perm == [0, 3, 1, 2]:
        m.set_tensor_layout(name, NHWC)


def convert(tflite: Path, out: Path) -> Converted:
    """Write out (QONNX) from the int8 TF Lite file; returns what left the graph."""
    import tf2onnx
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.infer_shapes import InferShapes
    from qonnx.transformation.qcdq_to_qonnx import QCDQToQuant
    from qonnx.util.cleanup import cleanup_model

    qdq, _ = tf2onnx.convert.from_tflite(str(tflite), opset=13)
    m = ModelWrapper(qdq)
    batch_one(m)
    fold_bias_dequantizers(m)
    broadcast_channel_scales(m)
    given = float_input(m)
    output, output_tensor = float_output(m)
    m = cleanup_model(m)  # shapes for the pool pass
    global_average_pools(m)
    adjacent_qdq(m)
    m = cleanup_model(m).transform(QCDQToQuant())
    m = cleanup_model(m)
    average_pool_rounding(m)
    unsigned_activations(m)
    shifted_zero_points(m)
    m = m.transform(InferShapes())  # the tensors those two passes added
    input_layout(m)
    # what FINN's thresholds need to requantize as the interpreter does (toolchains/finn/tflite_thresholds.py)
    m.set_metadata_prop(requantization.METADATA_KEY, requantization.to_metadata(requantization.layers(tflite)))
    left = sorted({n.op_type for n in m.graph.node} & {"QuantizeLinear", "DequantizeLinear"})
    if left:
        raise ConfigError(f"{Path(tflite).name}: {', '.join(left)} left after QCDQToQuant: a quantizer pair the passes "
                          f"do not know")
    m.save(str(out))
    return Converted(given, output, output_tensor)


def interpreter_tensor(tflite: Path, q: np.ndarray, tensor: str) -> np.ndarray:
    """TF Lite's own interpreter on int8 inputs q (N, *input shape): the int8 values of `tensor`, one
    row per input. One input per invoke: a batch would change no value but costs a resize per shape."""
    from frameworks.keras2 import tf

    interpreter = tf.lite.Interpreter(model_path=str(tflite), experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    entry = interpreter.get_input_details()[0]
    index = next((t["index"] for t in interpreter.get_tensor_details() if t["name"] == tensor), None)
    if index is None:
        raise ConfigError(f"{Path(tflite).name} has no tensor {tensor}")
    rows = []
    for qi in np.asarray(q, dtype=np.int8):
        interpreter.set_tensor(entry["index"], qi.reshape(entry["shape"]))
        interpreter.invoke()
        rows.append(interpreter.get_tensor(index).reshape(-1).copy())
    return np.stack(rows)
