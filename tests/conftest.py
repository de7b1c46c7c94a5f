"""Shared fixtures. `small_flow` runs the real pipeline once per session on a small synthetic
ToyCar set (every stage: data, QKeras training, hls4ml conversion + g++ emulation, firmware build,
runner over a pty, report); the other tests read what it produced."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

SMALL = {
    "data.synthetic.machine_ids": [1, 2],
    "data.synthetic.train_per_id": 6,
    "data.synthetic.test_normal_per_id": 3,
    "data.synthetic.test_anomaly_per_id": 3,
    "train.epochs": 6,
}


def shared(path: str) -> Path:
    """A file under ../shared, or a clean skip when the folder is not beside this checkout."""
    p = SHARED / path
    if not p.exists():
        pytest.skip(f"{p} not present (../shared is only beside the project on the team's machines)")
    return p


@pytest.fixture(scope="session")
def small_flow(tmp_path_factory):
    from pipeline.stages import Flow, run_stages

    flow = Flow(task="ad", board="pynq_z2", data="synthetic", build_root=tmp_path_factory.mktemp("build"),
                overrides=SMALL, iterations=200, window_seconds=0.5)
    run_stages(flow)
    return flow


@pytest.fixture(scope="session")
def dut_binary(small_flow) -> Path:
    return small_flow.root / "build" / small_flow.manifest("build")["outputs"]["emulated_dut"]
