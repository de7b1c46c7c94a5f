"""io_stream FIFO depths from the modeled timeline (toolchains/hls4ml/fifo_depths.py): a chain's streams
shrink to their modeled occupancy and the written HLS project declares those depths; the streams of a
residual block (a fork that joins again) keep hls4ml's full depth; the resource model follows."""

from __future__ import annotations

from frameworks import keras2  # noqa: F401  (Keras 2 before hls4ml)
from toolchains.hls4ml import fifo_depths


def test_occupancy_counts_a_packet_from_its_write_to_its_read():
    assert fifo_depths.occupancy([0, 1, 2, 3], [0, 1, 2, 3]) == 1  # each read as it is written
    assert fifo_depths.occupancy([0, 1, 2, 3], [10, 11, 12, 13]) == 4  # the reader starts after the last write
    # a reader at half the writer's rate: at cycle 5 packets 0-5 are written and only packet 0 read
    assert fifo_depths.occupancy([0, 1, 2, 3, 4, 5], [3, 5, 7, 9, 11, 13]) == 5


def test_only_the_edges_on_no_cycle_are_bridges():
    chain = [("t0", "a", "b"), ("t1", "b", "c")]
    assert fifo_depths._bridges(chain) == {"t0", "t1"}
    residual = [("t0", "in", "clone"), ("skip", "clone", "add"), ("t1", "clone", "conv"), ("t2", "conv", "add"),
                ("t3", "add", "out")]
    assert fifo_depths._bridges(residual) == {"t0", "t3"}


def _hls(model, tmp_path):
    import hls4ml

    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis")
    return hls4ml.converters.convert_from_keras_model(model, hls_config=config, backend="Vitis", io_type="io_stream",
                                                      output_dir=str(tmp_path / "prj"), part="xc7z020clg400-1",
                                                      clock_period=10)


def test_a_chains_fifos_shrink_and_a_residual_blocks_keep_their_tensors_depth(tmp_path):
    from frameworks.keras2 import keras
    from toolchains.hls4ml import latency, resources

    L = keras.layers
    x_in = keras.Input((16, 16, 4), name="x")
    x = L.Conv2D(16, 3, padding="same", name="c0")(x_in)
    x = L.Activation("relu", name="r0")(x)
    y = L.Conv2D(16, 3, padding="same", name="c1")(x)
    x = L.Add(name="add")([x, y])
    x = L.Activation("relu", name="r1")(x)
    out = L.Conv2D(8, 1, name="c2")(x)
    hls_model = _hls(keras.Model(x_in, out), tmp_path)
    before = resources.model(hls_model)
    depth = {layer.name: layer.get_output_variable().pragma[1] for layer in hls_model.get_layers()
             if isinstance(layer.get_output_variable().pragma, tuple)}
    assert depth["c0"] == depth["r0"] == depth["r1"] == 256  # hls4ml: every FIFO as deep as its tensor's pixels
    changed = fifo_depths.apply(hls_model, latency.model(hls_model))
    after = {layer.name: layer.get_output_variable().pragma[1] for layer in hls_model.get_layers()
             if isinstance(layer.get_output_variable().pragma, tuple)}
    assert after["r0"] < 256 and after["r1"] < 256 and after["add"] < 256  # on no cycle of the graph
    assert len(changed) >= 3 and all(2 <= d["modeled"] < d["tensor"] for d in changed.values())
    clone = next(layer for layer in hls_model.get_layers() if layer.class_name == "Clone")
    for name in clone.outputs:  # the two branches of the residual block: the add joins them again
        assert clone.get_output_variable(name).pragma[1] == 256 and name not in changed
    assert after["c1"] == 256  # the convolution inside the block, on its way to the add
    assert resources.model(hls_model)["bram18"] < before["bram18"]
    hls_model.write()
    written = (tmp_path / "prj" / "firmware" / "myproject.cpp").read_text()
    assert f"depth={after['r1']}" in written
