"""What a DUT says about itself in `profile` is tied to its build: the build key compiled in, and what
it is (an emulation, QEMU, a board). The runner records what the DUT says rather than what its
launcher assumed, and refuses a DUT holding another build than the one a run is for. Real firmware
(the stub-accelerator ad01 build on the emulated board) over real ptys."""

from __future__ import annotations

import hashlib

import pytest

from common import provenance
from common.errors import DutError
from runner.cli import main as runner_main
from runner.cli import run
from runner.dut import Dut, Identity
from runner.emulated import emulated_dut
from runner.transport import SerialTransport
from tests.fake_dut import write_ad_dataset

KEY_A = hashlib.sha256(b"the build of flow A").hexdigest()
KEY_B = hashlib.sha256(b"the build of flow B").hexdigest()


@pytest.fixture(scope="module")
def keyed_dut(tmp_path_factory):
    """{variant: binary} of the emulated board built with build key KEY_A."""
    from boards import board, firmware
    from tasks import load_recipe

    out = tmp_path_factory.mktemp("keyed_dut")
    recipe = load_recipe("ad")
    accel = firmware.stub_accelerator(out / "accel", recipe.stub_accelerator())
    return firmware.build_emulated(board.load("pynq_z2"), recipe.firmware_sources, recipe.firmware_defines(None),
                                   recipe.input_bytes, accel, out, build_key=KEY_A)


def test_profile_reports_the_build_key_the_platform_and_the_timing(keyed_dut):
    with emulated_dut(keyed_dut["performance"]) as url, SerialTransport(url) as t:
        lines = Dut(t).command("profile")
        identity = Dut(t).identify()
    # the reference's lines first, as the MLC runner reads them (^m-(model|profile)-\[([^]]+)]$); ours after
    assert lines == ["m-profile-[ULPMark for tinyML Firmware V0.0.1]", "m-model-[ad01]", f"m-build-[{KEY_A}]",
                     "m-platform-[host-emulation]", "m-timing-[clock]"]
    assert identity == Identity("mlperf-tiny-fpga_pynq_z2_emulated", "ULPMark for tinyML Firmware V0.0.1", "ad01",
                                build=KEY_A, platform="host-emulation", timing="clock")


def test_a_dut_holding_another_build_is_refused_naming_both_keys(keyed_dut, tmp_path):
    write_ad_dataset(tmp_path / "data")
    with emulated_dut(keyed_dut["performance"]) as url:
        with pytest.raises(DutError) as refused:
            run(url, tmp_path / "data", tmp_path / "out", ["performance"], provenance.emulated(), iterations=5,
                expect_build=KEY_B)
        summary = run(url, tmp_path / "data", tmp_path / "ok", ["performance"], provenance.emulated(), iterations=5,
                      target_s=0.1, expect_build=KEY_A)
    assert f"reports build {KEY_A[:12]}" in str(refused.value) and f"is for build {KEY_B[:12]}" in str(refused.value)
    assert not (tmp_path / "out" / "performance").exists()  # refused before any mode ran
    assert summary["build"] == KEY_A and summary["platform"] == "host-emulation"
    assert f"build {KEY_A[:12]}" in (tmp_path / "ok" / "performance" / "log.txt").read_text()


def test_a_dut_reporting_no_build_key_is_refused_when_a_build_is_expected(stub_dut, tmp_path):
    """Firmware made outside the build stage (or older firmware) says no key: not this build."""
    write_ad_dataset(tmp_path / "data")
    with emulated_dut(stub_dut["performance"]) as url:
        with pytest.raises(DutError, match=f"reports no build key, but this run is for build {KEY_B[:12]}"):
            run(url, tmp_path / "data", tmp_path / "out", ["performance"], provenance.emulated(), iterations=5,
                expect_build=KEY_B)


def test_an_emulated_dut_reached_as_a_port_is_recorded_as_an_emulation(keyed_dut, tmp_path, capsys):
    """`make dut` then the runner on its /dev/pts/N with the default --dut-kind board: the DUT says it
    is an emulation, and that is what the results say."""
    write_ad_dataset(tmp_path / "data")
    with emulated_dut(keyed_dut["performance"]) as url:
        assert url.startswith("/dev/pts/")
        code = runner_main(["--port", url, "--dataset", str(tmp_path / "data"), "--mode", "p", "--iterations", "5",
                            "--window-seconds", "0.1", "--out", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert code in (0, 1)  # 1: the 0.1 s windows are not valid MLPerf windows; the provenance is what is tested
    assert "'link': 'host-emulation'" in printed and "'link': 'board'" not in printed
    log = (tmp_path / "out" / "performance" / "log.txt").read_text()
    assert "DUT is: emulated DUT" in log and "measured on hardware" not in log


def test_a_dut_that_says_it_is_a_board_contradicts_a_launcher_that_started_an_emulation():
    board_firmware = Identity("x", "ULPMark for tinyML Firmware V0.0.1", "ad01", platform="board", timing="clock")
    with pytest.raises(DutError, match="says it is a board .* but it was started as emulated DUT"):
        board_firmware.provenance(provenance.emulated(port="/dev/pts/9"))
    assert board_firmware.provenance(provenance.board("/dev/ttyUSB1")).link == "board"


def test_a_modeled_build_says_so(tmp_path):
    """timing=modeled is compiled in: the DUT reports it, and a port launched as a board is recorded
    as the modeled emulation it is."""
    from boards import board, firmware
    from tasks import load_recipe

    recipe = load_recipe("ad")
    accel = firmware.stub_accelerator(tmp_path / "accel", recipe.stub_accelerator())
    accel.defines.update(EE_TIMING_MODELED=1, EE_MODELED_INFER_NS=20_000)
    binary = firmware.build_emulated(board.load("pynq_z2"), recipe.firmware_sources, recipe.firmware_defines(None),
                                     recipe.input_bytes, accel, tmp_path)["performance"]
    with emulated_dut(binary) as url, SerialTransport(url) as t:
        identity = Dut(t).identify()
    assert (identity.platform, identity.timing) == ("host-emulation", "modeled")
    recorded = identity.provenance(provenance.board(url, data="synthetic"))
    assert (recorded.link, recorded.timing, recorded.data, recorded.port) == ("host-emulation", "modeled", "synthetic", url)


def test_an_unknown_platform_word_is_an_error(tmp_path):
    """The words are the provenance's; anything else is not this harness's firmware."""
    from tests.fake_dut import FakeDut

    class Odd(FakeDut):
        def answer(self, command: str) -> bytes:
            reply = super().answer(command)
            return reply.replace(b"m-ready", b"m-platform-[fpga]\r\nm-ready") if command == "profile" else reply

    dut = Odd()
    try:
        with SerialTransport(dut.port) as t, pytest.raises(DutError, match="reports platform 'fpga'"):
            Dut(t).identify()
    finally:
        dut.close()
