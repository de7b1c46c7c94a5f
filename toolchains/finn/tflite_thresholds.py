"""A streamlined FINN graph of an int8 TF Lite model (frameworks/tflite_qonnx.py), its thresholds moved
to where the interpreter's requantization steps (frameworks/tflite_requantization.py).

After streamlining, each convolution or fully connected layer is an integer MatMul whose accumulator
is the interpreter's (the inputs are q - zero_point, the weights TF Lite's int8 ones) and a
MultiThreshold whose threshold k counts q >= k - 128: the Quant node's boundary in float arithmetic,
which is the interpreter's but where a product lands within float error of it. The layers are matched
in the interpreter's order (a residual block's shortcut convolution can come before or after the branch
it runs beside, in either graph): the first layer not matched yet with the MultiThreshold's channel count
whose exact thresholds are within two steps of FINN's nearly everywhere an accumulator can reach (a
wrong match would be off almost everywhere). Thresholds FINN put far from the layer's arithmetic (a
clamp: a ReLU6's never-reached levels) or beyond any accumulator stay. MultiThresholds that belong to no
such layer (after a pool, a residual add) are left as FINN made them."""

from __future__ import annotations

import json

import numpy as np

from frameworks import tflite_requantization as tr

APPLIED_KEY = "tflite_thresholds_applied"

# A match: of FINN's thresholds that an accumulator can reach, this share is within _NEAR steps of the exact
# ones, and this share equal to them (its integer thresholds are the ceiling of its float ones). A wrong
# layer is near almost nowhere; the right one measured 99.8-100 % near and 97.8-100 % equal (vww, kws, ic, ad).
NEAR_SHARE, EQUAL_SHARE = 0.95, 0.9
_NEAR = 2  # accumulator steps: an exact threshold this close to FINN's replaces it; farther is a clamp FINN made
# float32 holds every integer up to 2^24, the largest exact accumulator; thresholds beyond it (a channel of
# tiny scale: 1e12 in the vww MobileNet) no accumulator reaches, and float32 could not hold the exact ones
_REACHABLE = 2.0 ** 24


def apply(model) -> dict:
    """Moves the thresholds in place; returns what moved (layers matched, thresholds changed, of how many),
    also kept in the model's metadata (`applied`)."""
    text = model.get_metadata_prop(tr.METADATA_KEY)
    if text is None:
        return {}
    layers = dict(enumerate(tr.from_metadata(text)))  # the ones not matched yet, in the interpreter's order
    matched, moved, total = 0, 0, 0
    for node in [n for n in model.graph.node if n.op_type == "MultiThreshold"]:
        finn = model.get_initializer(node.input[1]).astype(np.float64)
        if finn.shape[1] != 255:  # not an 8-bit output (levels -127 .. 127)
            continue
        reachable = np.isfinite(finn) & (np.abs(finn) < _REACHABLE)
        ceiling = np.ceil(np.where(np.isfinite(finn), finn, 0.0))  # FINN's integer thresholds
        found = _match(ceiling, reachable, layers)
        if found is None:
            continue
        index, exact, near = found
        del layers[index]
        moved += int(np.sum(near & (exact != ceiling)))
        total += int(reachable.sum())
        matched += 1
        model.set_initializer(node.input[1], np.where(near, exact, finn).astype(np.float32))
    done = {"layers": matched, "thresholds_moved": moved, "thresholds": total,
            "what": "thresholds put where TF Lite's XNNPACK kernels requantize (toolchains/finn/tflite_thresholds.py)"}
    model.set_metadata_prop(APPLIED_KEY, json.dumps(done))  # for the convert stage: this runs inside FINN's builder
    return done


def applied(model) -> dict | None:
    """What `apply` did to this (streamlined) model, or None for a model it did not touch."""
    text = model.get_metadata_prop(APPLIED_KEY)
    return None if text is None else json.loads(text)


def _match(ceiling: np.ndarray, reachable: np.ndarray,
           candidates: dict[int, tr.Layer]) -> tuple[int, np.ndarray, np.ndarray] | None:
    """(key among candidates, exact thresholds, which of FINN's to replace) for the first layer FINN's
    integer thresholds (`ceiling`, trusted where `reachable`) belong to."""
    if not reachable.any():
        return None
    for i, layer in candidates.items():
        if layer.channels != ceiling.shape[0]:
            continue
        exact = layer.thresholds(np.arange(1, ceiling.shape[1] + 1) - 128)
        near = reachable & (np.abs(exact - ceiling) <= _NEAR)
        if near.sum() >= NEAR_SHARE * reachable.sum() and np.sum(near & (exact == ceiling)) >= EQUAL_SHARE * reachable.sum():
            return i, exact, near
    return None
