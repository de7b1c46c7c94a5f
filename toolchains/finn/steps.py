"""The project's own FINN build steps, run by FINN's builder between its named steps (build.py puts
them in the step list); each is a function of (model, cfg) as FINN's steps are, made of FINN's and
qonnx's own transformations."""

from __future__ import annotations

# how often _streamline_residual repeats its reorderings at most (each round carries an op past a fork or join)
_RESIDUAL_ROUNDS = 8  # a bound on the rounds; the MLPerf ResNet-8 is done after 2 (a third changes nothing)


def step_project_streamline(model, cfg):
    """The streamlining FINN's step_streamline leaves to the project, then FINN's Python verification of
    the result (as after FINN's own streamlining: a failure leaves a *FAIL* file, which build.py reports).

    - Residual forks and joins (`_streamline_residual`), for a graph that forks.
    - Global average pooling as FINN builds it: an accumulator (GlobalAccPool) and a 1/N scale, then
      streamlining again so the scale is absorbed into the next thresholds. FINN's convert_to_hw does the
      same conversion, but after streamlining, so the scale would stay between two hardware layers, where
      the dataflow partition cannot take it (the MLPerf DS-CNN's 25 x 5 average pool).

    - Then, for a graph imported from an int8 TF Lite model, its thresholds put where the interpreter's
      requantization steps (`tflite_thresholds.py`), after the verification: they are meant to depart
      from the float graph the verification compares with, by one step where the two arithmetics differ.

    A graph with none of these (an MLP, a plain CNN without a global pool) comes back unchanged."""
    from toolchains.finn import novivado  # noqa: F401  (before anything from finn.builder)

    # isort: split
    from finn.builder.build_dataflow_config import VerificationStepType
    from finn.builder.build_dataflow_steps import verify_step

    from toolchains.finn import tflite_thresholds

    forks = any(model.is_fork_node(n) for n in model.graph.node)
    pools = any(n.op_type == "GlobalAveragePool" for n in model.graph.node)
    if pools:
        model = _accumulate_global_pools(model)
    if forks:
        model = _streamline_residual(model)
    if (forks or pools) and cfg.verify_steps and VerificationStepType.STREAMLINED_PYTHON in cfg._resolve_verification_steps():
        verify_step(model, cfg, "project_streamlined_python", need_parent=False)
    tflite_thresholds.apply(model)
    return model


def _accumulate_global_pools(model):
    from finn.transformation.fpgadataflow.convert_to_hw.global_acc_pool import InferGlobalAccPoolLayer
    from finn.transformation.streamline import Streamline
    from finn.transformation.streamline.absorb import AbsorbConsecutiveTransposes
    from qonnx.transformation.infer_datatypes import InferDataTypes

    model = model.transform(InferGlobalAccPoolLayer())
    model = model.transform(Streamline())
    model = model.transform(AbsorbConsecutiveTransposes())
    return model.transform(InferDataTypes())


def _streamline_residual(model):
    """A residual block's input is a requantized activation: MultiThreshold, its scale (a Mul), a fork into
    the convolution branch and the shortcut, each behind a Transpose (FINN lowers convolutions to NHWC
    Im2Col + MatMul, the adds stay NCHW). FINN's step_streamline does not move the Mul past the fork
    ("is a fork-node, try MoveLinearPastFork first"), so the convolution after it reads floats and stays
    off the hardware. Here FINN's MoveLinearPastFork copies the Mul into each branch, where streamlining
    absorbs it into the next MatMul and thresholds; MoveTransposePastFork/MoveTransposePastEltwise/
    MoveTransposePastJoinAdd carry the transposes through the fork, the scalar Mul/Add and the join Add,
    where they cancel or are absorbed into a MultiThreshold. What stays is the residual add itself: each
    branch's scale (a Mul) and zero-point shift (an Add) and the join Add, which FINN maps to its
    elementwise layers. Repeated until nothing moves."""
    from finn.transformation.streamline import Streamline
    from finn.transformation.streamline.absorb import AbsorbConsecutiveTransposes, AbsorbTransposeIntoMultiThreshold
    from finn.transformation.streamline.reorder import (
        MoveLinearPastFork,
        MoveTransposePastEltwise,
        MoveTransposePastFork,
        MoveTransposePastJoinAdd,
    )
    from qonnx.transformation.general import GiveReadableTensorNames, GiveUniqueNodeNames
    from qonnx.transformation.infer_data_layouts import InferDataLayouts
    from qonnx.transformation.infer_datatypes import InferDataTypes

    rounds = [MoveLinearPastFork(), MoveTransposePastFork(), MoveTransposePastEltwise(), MoveTransposePastJoinAdd(),
              Streamline(), AbsorbTransposeIntoMultiThreshold(), AbsorbConsecutiveTransposes()]
    for _ in range(_RESIDUAL_ROUNDS):
        before = model.model.SerializeToString()
        for transformation in rounds:
            model = model.transform(transformation)
            for tidy in (GiveUniqueNodeNames(), GiveReadableTensorNames(), InferDataTypes(), InferDataLayouts()):
                model = model.transform(tidy)
        if model.model.SerializeToString() == before:
            break
    return model
