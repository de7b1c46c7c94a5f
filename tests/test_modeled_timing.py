"""timing=modeled: the DUT's m-lap-us advances by the modeled board latency per inference (the
toolchain's latency model + the board's call overhead), so the runner's throughput is the modeled
board's; the report puts it beside the published figure for the task and board."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from common.errors import ConfigError
from toolchains.hls4ml import latency


def test_the_hls4ml_dense_model():
    assert latency.dense_cycles(640, 1) == 1 + 10 + 2  # 640 products, a 10-level adder tree, 2 registers
    assert latency.dense_cycles(64, 8) == 8 + 3 + 2
    assert latency.dense_cycles(8, 16) == 16 + 0 + 2


def test_modeled_timing_on_the_arty(small_flow, tmp_path):
    from pipeline.execute import run_stages
    from pipeline.flow import Flow

    for stage in ("data", "hls4ml/train"):  # the shared stages, as they are: only the board's stages run here
        shutil.copytree(small_flow.build_root / "ad" / stage, tmp_path / "ad" / stage)
    flow = Flow(task="ad", board="arty_a7", data="synthetic", build_root=tmp_path, overrides=small_flow.overrides,
                timing="modeled", modes=["performance"])
    run_stages(flow)
    modeled = flow.manifest("build")["outputs"]["modeled_latency"]
    arty = flow.board_cfg
    assert modeled["call_overhead_us"] == arty.call_overhead.us
    assert modeled["accelerator_latency_us"] == pytest.approx(modeled["accelerator_cycles"] / arty.fabric_clock_mhz)
    perf = flow.manifest("run")["outputs"]["performance"]
    assert perf["iterations"] == 1000 and perf["error"] is None
    # m-lap-us counts whole microseconds of the modeled clock: 1000 inferences are exact to 1 us
    assert 1e6 / perf["throughput"] == pytest.approx(modeled["modeled_latency_us"], abs=1e-3)
    table = pd.read_csv(flow.artifacts("report")["csv"])
    latencies = table[table["quantity"] == "latency (us)"]
    assert set(latencies["where"]) == {"modeled", "published (hardware)"}
    assert 32.6 in set(latencies["value"])  # the published AD08 on the Arty, beside ours
    assert flow.manifest("run")["outputs"]["provenance"]["timing"] == "modeled"


def test_modeled_timing_is_refused_for_a_board(tmp_path):
    from pipeline.flow import Flow

    with pytest.raises(ConfigError, match="timing=modeled is for the emulated and QEMU DUTs"):
        Flow(task="ad", board="pynq_z2", dut="/dev/ttyUSB1", timing="modeled", build_root=tmp_path)
    with pytest.raises(ConfigError, match="timing=fast: choose host"):
        Flow(task="ad", board="pynq_z2", timing="fast", build_root=tmp_path)
