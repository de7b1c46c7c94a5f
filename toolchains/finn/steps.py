"""The project's own FINN build steps, run by FINN's builder between its named steps (build.py puts
them in the step list); each is a function of (model, cfg) as FINN's steps are, made of FINN's and
qonnx's own transformations."""

from __future__ import annotations


def step_accumulate_global_pools(model, cfg):
    """Global average pooling as FINN builds it: an accumulator (GlobalAccPool) and a 1/N scale, then
    streamlining again so the scale is absorbed into the next thresholds. FINN's convert_to_hw does the
    same conversion, but after streamlining, so the scale would stay between two hardware layers, where
    the dataflow partition cannot take it (the MLPerf DS-CNN's 25 x 5 average pool). Nothing to do for a
    graph without GlobalAveragePool."""
    from finn.transformation.fpgadataflow.convert_to_hw.global_acc_pool import InferGlobalAccPoolLayer
    from finn.transformation.streamline import Streamline
    from finn.transformation.streamline.absorb import AbsorbConsecutiveTransposes
    from qonnx.transformation.infer_datatypes import InferDataTypes

    if not any(n.op_type == "GlobalAveragePool" for n in model.graph.node):
        return model
    model = model.transform(InferGlobalAccPoolLayer())
    model = model.transform(Streamline())
    model = model.transform(AbsorbConsecutiveTransposes())
    return model.transform(InferDataTypes())
