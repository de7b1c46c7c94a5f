"""DSP slices of FINN's RTL MVU as its RTL (finn-rtllib/mvu/mvu.sv) packs them: two 8-bit products per
DSP48E1, where finn-plus's own estimate assumes four (toolchains/finn/dsp_lanes.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from toolchains.finn import dsp_lanes

PYNQ_Z2 = "xc7z020clg400-1"


def _mvau_rtl(weight: str, activation: str, pe: int, simd: int, weights: np.ndarray):
    """One MVAU_rtl node (FINN's real custom op) in a model of its own."""
    from onnx import TensorProto, helper
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.basic import qonnx_make_model

    mw, mh = weights.shape
    node = helper.make_node("MVAU_rtl", ["x", "w"], ["y"], domain="finn.custom_op.fpgadataflow.rtl", backend="fpgadataflow",
                            MW=mw, MH=mh, SIMD=simd, PE=pe, inputDataType=activation, weightDataType=weight,
                            outputDataType="INT32", noActivation=1, mem_mode="internal_decoupled", name="MVAU_rtl_0")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, mw])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, mh])])
    model = ModelWrapper(qonnx_make_model(graph))
    model.set_initializer("w", weights.astype(np.float32))
    model.set_tensor_datatype("w", DataType[weight])
    return model, node


@pytest.mark.parametrize(("weight", "activation", "lanes"), [("INT8", "UINT8", 2), ("INT8", "INT8", 2), ("INT4", "UINT4", 4),
                                                             ("INT3", "UINT3", 5)])
def test_an_rtl_mvu_takes_one_slice_per_simd_lane_for_every_group_of_pe_that_fits_a_dsp48e1(weight, activation, lanes, tmp_path):
    from qonnx.core.datatype import DataType
    from qonnx.custom_op.registry import getCustomOp

    low = DataType[weight].min() + 1  # narrow weights, as an int8 TF Lite model's (-127..127)
    weights = np.random.default_rng(0).integers(low, DataType[weight].max() + 1, (64, 64))
    model, node = _mvau_rtl(weight, activation, pe=32, simd=4, weights=weights)
    assert dsp_lanes.mvau_rtl_dsps(model, node, PYNQ_Z2) == math.ceil(32 / lanes) * 4
    assert getCustomOp(node).dsp_estimation(PYNQ_Z2) == 8 * 4  # finn-plus 1.6.1's estimate: four lanes, whatever the widths
    model.save(str(tmp_path / "m.onnx"))
    fixed = dsp_lanes.corrected(tmp_path / "m.onnx", {"MVAU_rtl_0": {"DSP": 32, "LUT": 0}, "Other_0": {"DSP": 3}}, PYNQ_Z2)
    assert fixed == {"MVAU_rtl_0": {"DSP": math.ceil(32 / lanes) * 4, "DSP_finn": 32, "LUT": 0}, "Other_0": {"DSP": 3}}


def test_full_range_weights_take_one_bit_of_the_slice_and_other_cores_keep_finns_figure():
    assert dsp_lanes.lanes("DSP48E1", 4, 4, narrow_weights=True) == 4  # where FINN's estimate is right
    assert dsp_lanes.lanes("DSP48E1", 4, 4, narrow_weights=False) == 3
    assert dsp_lanes.lanes("DSP48E2", 8, 8, narrow_weights=True) == 2
    assert dsp_lanes.lanes("DSP58", 8, 8, narrow_weights=True) is None
