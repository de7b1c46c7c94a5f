"""The build identity through the pipeline: the run stage refuses a DUT built for another flow (it
reports another build key), and records an emulated DUT reached on a port (`make dut`, then
dut=/dev/pts/N) as the emulation it says it is. On a copy of the session's small flow."""

from __future__ import annotations

import shutil

import pytest

from common.errors import DutError
from pipeline.execute import run_stages
from pipeline.flow import Flow
from runner.emulated import emulated_dut

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tree(small_flow, tmp_path_factory):
    """A copy of the small flow's build tree: these runs must not replace the session fixture's."""
    root = tmp_path_factory.mktemp("identity") / "build"
    shutil.copytree(small_flow.build_root, root, symlinks=True)
    return root


def _flow(small_flow, root, board="pynq_z2", **run) -> Flow:
    return Flow(task="ad", board=board, data="synthetic", build_root=root, overrides=small_flow.overrides, iterations=200,
                window_seconds=0.5, modes=["performance"], **run)


def _built(small_flow, root, board="pynq_z2") -> Flow:
    """The flow with its stages up to the build current (a source edited since the copy builds again)."""
    flow = _flow(small_flow, root, board)
    run_stages(flow, stop="build")
    return flow


def test_the_build_stage_compiles_its_key_into_the_dut(small_flow):
    assert small_flow.manifest("build")["outputs"]["build_key"] == small_flow.manifest("build")["key"]
    run = small_flow.manifest("run")["outputs"]
    assert run["build"] == small_flow.manifest("build")["key"] and run["platform"] == "host-emulation"


def test_an_emulated_dut_on_a_port_is_recorded_as_an_emulation(small_flow, tree):
    pynq = _built(small_flow, tree)
    with emulated_dut(pynq.emulated_dut()) as url:
        assert url.startswith("/dev/pts/")
        on_port = _flow(small_flow, tree, dut=url)
        run_stages(on_port)
    outputs = on_port.manifest("run")["outputs"]
    assert outputs["provenance"]["link"] == "host-emulation" and outputs["provenance"]["port"] == url
    assert outputs["platform"] == "host-emulation" and outputs["build"] == on_port.manifest("build")["key"]
    assert "programmed" not in outputs  # nothing was programmed through this flow


def test_what_was_programmed_is_recorded_with_a_run_on_a_port_and_keys_it(small_flow, tree):
    """programmed.json (make program) is recorded with the run, and a board programmed again is another run."""
    from boards.vendor.program import write_programmed

    pynq = _built(small_flow, tree)
    elf = pynq.emulated_dut()  # what stands for the board's firmware here: the record is what is tested
    with emulated_dut(elf) as url:
        on_port = _flow(small_flow, tree, dut=url)
        record = write_programmed(on_port.root / "vivado", "pynq_z2", "performance", "JTAG", pynq.manifest("build")["key"],
                                  {"elf": elf})
        run_stages(on_port)
        first = on_port.manifest("run")
        assert first["outputs"]["programmed"] == record and first["inputs"]["params"]["programmed"] == record["files"]
        write_programmed(on_port.root / "vivado", "pynq_z2", "performance", "JTAG", None, {"elf": pynq.emulated_dut("energy")})
        run_stages(on_port)
    assert on_port.manifest("run")["key"] != first["key"]
    assert on_port.manifest("run")["outputs"]["programmed"]["files"]["elf"]["path"] == str(pynq.emulated_dut("energy"))


def test_a_dut_built_for_another_flow_is_refused_naming_both_keys(small_flow, tree):
    """The Pynq-Z2 flow's DUT, run under the Arty A7 flow's pipeline (data and training shared, its
    own conversion and build): the run stage stops before any mode runs."""
    _built(small_flow, tree, board="arty_a7")
    pynq = _built(small_flow, tree)
    pynq_key = pynq.manifest("build")["key"]  # the key compiled into the DUT started below
    with emulated_dut(pynq.emulated_dut()) as url:
        wrong = _flow(small_flow, tree, board="arty_a7", dut=url)
        with pytest.raises(DutError) as refused:
            run_stages(wrong)
    arty_key = wrong.manifest("build")["key"]  # read after: a source edited meanwhile builds it again, under a new key
    assert pynq_key != arty_key
    message = str(refused.value)
    assert f"reports build {pynq_key[:12]}" in message and f"this run is for build {arty_key[:12]}" in message
    assert not wrong.stage_dir("run").path.exists()  # no run recorded for the Arty flow
