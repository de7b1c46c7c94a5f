"""Reuse factors chosen for a budget (toolchains/hls4ml/reuse.py, settings `reuse: fit`): on a small CNN whose
fully parallel design is far over the budget, every MAC layer gets one of hls4ml's valid factors, the largest
within one cycle target, the smallest target at which the modeled design fits; a factor task.yaml gives is
kept; the convert stage converts with the chosen factors (the written project declares them, the emulator
stays bit-identical with hls4ml's C simulation) and records them."""

from __future__ import annotations

import numpy as np
import pytest

from frameworks import keras2  # noqa: F401  (Keras 2 before hls4ml)
from toolchains.hls4ml import resources, reuse

GENEROUS = {"lut": 1e9, "ff": 1e9, "bram18": 1e9}


def _cnn():
    from frameworks.keras2 import keras

    L = keras.layers
    x_in = keras.Input((12, 12, 4), name="x")
    x = L.Conv2D(8, 3, padding="same", name="c0")(x_in)
    x = L.Activation("relu", name="r0")(x)
    x = L.Conv2D(16, 3, strides=2, name="c1")(x)
    x = L.Activation("relu", name="r1")(x)
    x = L.GlobalAveragePooling2D(name="pool")(x)
    out = L.Dense(10, name="d")(x)
    model = keras.Model(x_in, out)
    rng = np.random.default_rng(0)
    model.set_weights([rng.uniform(-0.2, 0.2, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def _graph(model, tmp_path, given: dict | None = None):
    """hls4ml's graph with Strategy Resource on every MAC layer, as reuse: fit converts it."""
    import hls4ml

    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis")
    for name, keys in (given or {}).items():
        config["LayerName"][name].update(keys)
    reuse.resource_strategy(model, config, set())
    return hls4ml.converters.convert_from_keras_model(model, hls_config=config, backend="Vitis", io_type="io_stream",
                                                      output_dir=str(tmp_path / "prj"), part="xc7z020clg400-1",
                                                      clock_period=10)


def _factors(hls_model) -> dict[str, int]:
    return {layer.name: int(layer.get_attr("reuse_factor")) for layer in hls_model.get_layers()
            if layer.class_name in resources.MAC_KINDS}


def test_each_layer_takes_the_largest_valid_factor_within_the_smallest_target_that_fits(tmp_path):
    model = _cnn()
    hls_model = _graph(model, tmp_path)
    assert resources.model(hls_model)["dsp"] == 288 + 1152 + 160  # reuse 1: a 16 x 16-bit DSP per weight
    limit = {**GENEROUS, "dsp": 40}
    result = reuse.fit(hls_model, limit)
    chosen = _factors(hls_model)
    assert result["fits"] and not result["over"] and result["estimate"]["dsp"] <= 40
    assert resources.model(hls_model)["dsp"] == result["estimate"]["dsp"]  # the graph holds the chosen factors
    target = result["target_cycles"]
    layers = {layer.name: layer for layer in hls_model.get_layers()}
    for name, r in chosen.items():
        assert result["layers"][name]["reuse_factor"] == r > 1
        valid = reuse.valid_factors(layers[name])
        assert r in valid
        assert reuse.layer_cycles(layers[name], r) <= target or r == min(valid)
        # the largest within the target: the next valid factor up would be slower than it
        assert all(reuse.layer_cycles(layers[name], v) > target for v in valid if v > r)
    # balanced: the layers' own cycles within the target, the slowest at it
    assert max(c["cycles"] for c in result["layers"].values()) == target
    # the smallest target that fits: at the next smaller target the design is over the budget
    below = max(c for layer in layers.values() if layer.name in chosen
                for c in (reuse.layer_cycles(layer, v) for v in reuse.valid_factors(layer)) if c < target)
    for name in chosen:
        valid = reuse.valid_factors(layers[name])
        within = [v for v in valid if reuse.layer_cycles(layers[name], v) <= below]
        layers[name].set_attr("reuse_factor", max(within) if within else min(valid))
    assert resources.model(hls_model)["dsp"] > 40

def test_a_given_factor_is_kept_and_a_resource_no_factor_saves_is_reported(tmp_path):
    model = _cnn()
    hls_model = _graph(model, tmp_path, {"d": {"ReuseFactor": 4}})
    result = reuse.fit(hls_model, {**GENEROUS, "dsp": 50}, fixed={"d"})
    assert _factors(hls_model)["d"] == 4 and "d" not in result["layers"] and result["given"] == ["d"]
    assert result["fits"] and result["estimate"]["dsp"] <= 50  # the dense layer's 40 DSPs leave 10 to the others
    # 10 FFs: the windows' and results' registers are there whatever the factors: reported, and the factors keep
    # the FFs near their least (every product's registers count) instead of ignoring them
    floor = reuse.fit(hls_model, {**GENEROUS, "ff": 10, "dsp": 50}, fixed={"d"})
    assert not floor["fits"] and floor["beyond"] == ["ff"] and floor["over"][0].startswith("FF ")
    assert floor["estimate"]["dsp"] <= 50 and floor["estimate"]["ff"] < result["estimate"]["ff"]
    assert floor["target_cycles"] > result["target_cycles"]


@pytest.mark.slow
def test_the_convert_stage_converts_with_the_chosen_factors(tmp_path):
    """pynq_z2's budget at 10 %: 22 of its 220 DSPs; the written project declares each chosen factor, and the
    convert stage's gate (emulator bit for bit against hls4ml's C simulation) passes."""
    from boards import board
    from common.errors import ConfigError
    from toolchains.hls4ml import convert
    from toolchains.hls4ml.settings import Hls4mlSettings

    model = _cnn()
    inputs = np.random.default_rng(1).uniform(0, 1, (8, 12, 12, 4)).astype(np.float32)
    settings = Hls4mlSettings(io_type="io_stream", agreement="argmax", min_agreement=0.75, reuse="fit", reuse_budget=0.1,
                              layers={"c0": {"ReuseFactor": 36}})
    pynq = board.load("pynq_z2")
    out = tmp_path / "convert"
    out.mkdir()
    with pytest.raises(ConfigError, match="reuse: fit chooses reuse factors for a board"):
        convert.convert(model, pynq.part, pynq.clock_period_ns, inputs, out, settings, None)
    report = convert.convert(model, pynq.part, pynq.clock_period_ns, inputs, out, settings, pynq)
    folding = report["reuse"]
    assert folding["fits"] and folding["budget"]["dsp"] == 22 and report["estimates"]["dsp"] <= 22
    assert set(folding["layers"]) == {"c1", "d"} and folding["given"] == ["c0"]
    assert report["emulator"]["bit_identical_to_csim"] == 1.0
    assert report["estimates"]["layers"]["c0"]["reuse_factor"] == 36
    parameters = (out / convert.PROJECT / "firmware" / "parameters.h").read_text()
    for name, chosen in folding["layers"].items():
        assert report["estimates"]["layers"][name]["reuse_factor"] == chosen["reuse_factor"] > 1
        assert f"static const unsigned reuse_factor = {chosen['reuse_factor']};" in parameters
    assert "static const unsigned reuse_factor = 36;" in parameters


def test_modeled_branches_keep_only_the_skip_branch_of_a_residual_block_at_full_depth(tmp_path):
    """fifo_depth: modeled_branches (toolchains/hls4ml/fifo_depths.py behind_branches, which `reuse: fit` sizes
    with): in a residual block the branch that runs ahead (the skip: its packets wait at the add) keeps hls4ml's
    depth on every stream; the convolution branch shrinks to its modeled occupancy; `modeled` alone keeps both."""
    import hls4ml

    from frameworks.keras2 import keras
    from toolchains.hls4ml import fifo_depths, latency

    L = keras.layers
    x_in = keras.Input((16, 16, 4), name="x")
    x = L.Conv2D(16, 3, padding="same", name="c0")(x_in)
    x = L.Activation("relu", name="r0")(x)
    y = L.Conv2D(16, 3, padding="same", name="c1")(x)
    y = L.Activation("relu", name="r1")(y)
    y = L.Conv2D(16, 3, padding="same", name="c2")(y)
    x = L.Activation("relu", name="r2")(L.Add(name="add")([x, y]))
    out = L.Conv2D(8, 1, name="c3")(x)
    config = hls4ml.utils.config_from_keras_model(keras.Model(x_in, out), granularity="name", backend="Vitis")
    hls_model = hls4ml.converters.convert_from_keras_model(keras.Model(x_in, out), hls_config=config, backend="Vitis",
                                                           io_type="io_stream", output_dir=str(tmp_path / "prj"),
                                                           part="xc7z020clg400-1", clock_period=10)
    layers = {layer.name: layer for layer in hls_model.get_layers()}
    clone = next(layer for layer in layers.values() if layer.class_name == "Clone")
    skip, branch = clone.outputs if clone.outputs[0] in layers["add"].inputs else clone.outputs[::-1]
    inside = [skip, branch] + [layers[n].outputs[0] for n in ("c1", "r1", "c2")]  # zero padding layers too, if any
    inside += [layer.outputs[0] for layer in layers.values() if layer.class_name.startswith("ZeroPadding")
               and layer.inputs[0] in (branch, layers["r1"].outputs[0])]

    def depths():
        return {name: layer.get_output_variable(name).pragma[1] for layer in layers.values() for name in layer.outputs
                if name in inside}

    timing = latency.model(hls_model)
    assert fifo_depths.behind_branches(hls_model, timing) == set(inside) - {skip}
    fifo_depths.apply(hls_model, timing)
    assert all(d >= 256 for d in depths().values())  # modeled: the block's streams keep their tensor's depth (padded: 324)
    changed = fifo_depths.apply(hls_model, timing, branches=True)
    after = depths()
    assert after[skip] == 256 and skip not in changed
    assert all(after[name] < 256 and name in changed for name in inside if name != skip)


def test_an_io_parallel_mlp_folds_too(tmp_path):
    """io_parallel (the MLPs): each Dense layer one kernel of R cycles; 64 -> 32 -> 10 into 8 DSPs."""
    import hls4ml

    from frameworks.keras2 import keras

    x_in = keras.Input((64,), name="x")
    model = keras.Model(x_in, keras.layers.Dense(10, name="d1")(keras.layers.Dense(32, name="d0")(x_in)))
    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis")
    reuse.resource_strategy(model, config, set())
    hls_model = hls4ml.converters.convert_from_keras_model(model, hls_config=config, backend="Vitis", io_type="io_parallel",
                                                           output_dir=str(tmp_path / "prj"), part="xc7z020clg400-1",
                                                           clock_period=10)
    result = reuse.fit(hls_model, {**GENEROUS, "dsp": 8})
    chosen = _factors(hls_model)
    assert result["fits"] and result["estimate"]["dsp"] <= 8 and set(chosen) == {"d0", "d1"}
    assert 64 * 32 / chosen["d0"] + 32 * 10 / chosen["d1"] <= 8  # the multipliers, one weight per R cycles each
    assert result["target_cycles"] == max(reuse.layer_cycles(layer, chosen[layer.name]) for layer in hls_model.get_layers()
                                          if layer.name in chosen)
