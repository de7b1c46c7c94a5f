"""runner/connect.py: which modes share a connection, and the one factory that connects them."""

from __future__ import annotations

from pathlib import Path

import pytest

from common import provenance
from common.errors import ConfigError
from runner.cli import run
from runner.connect import ConnectSpec, ModeGroup, MonitorSpec, build_variant, connect, group_modes
from tests.fake_dut import write_ad_dataset


def test_performance_and_accuracy_share_a_build_energy_has_its_own():
    assert [build_variant(m) for m in ("p", "a", "e", "performance", "accuracy", "energy")] == \
        ["performance", "performance", "energy", "performance", "performance", "energy"]


def test_one_connection_per_build_port_and_baud_in_the_order_asked():
    bauds = {"performance": 115200, "accuracy": 115200, "energy": 9600}
    assert group_modes(["accuracy", "energy", "performance"], lambda m: (None, bauds[m])) == [
        ModeGroup("performance", None, 115200, ["accuracy", "performance"]), ModeGroup("energy", None, 9600, ["energy"])]
    # the same port and baud rate, but another build: another connection
    assert [g.modes for g in group_modes(["p", "e"], lambda m: ("/dev/ttyACM0", 115200))] == [["p"], ["e"]]
    # a devices file giving accuracy its own port
    ports = {"p": "/dev/ttyACM0", "a": "/dev/ttyACM1"}
    assert [(g.port, g.modes) for g in group_modes(["p", "a"], lambda m: (ports[m], 115200))] == \
        [("/dev/ttyACM0", ["p"]), ("/dev/ttyACM1", ["a"])]


def test_the_monitor_of_the_command_line():
    assert MonitorSpec.parse("joulescope") == MonitorSpec("joulescope")
    assert MonitorSpec.parse("joulescope:JS220-001234") == MonitorSpec("joulescope", serial_number="JS220-001234")
    assert MonitorSpec.parse("/dev/ttyACM1", 1800) == MonitorSpec("lpm01a", port="/dev/ttyACM1", voltage_mv=1800)


@pytest.mark.parametrize("spec, message", [
    (dict(kind="emulated"), "the emulated DUT needs binary"),
    (dict(kind="qemu", binary=Path("x.elf")), "the qemu DUT needs command"),
    (dict(kind="port"), "the port DUT needs url"),
    (dict(kind="port", url="/dev/ttyUSB1", monitor=MonitorSpec("simulated", power_w=1.0)), "needs the emulated DUT"),
])
def test_an_incomplete_description_is_refused(spec, message):
    with pytest.raises(ConfigError, match=message):
        ConnectSpec(**spec)


def test_a_port_is_a_board_unless_said_otherwise_and_only_energy_gets_the_monitor():
    lpm = MonitorSpec.parse("/dev/does-not-exist")  # never opened: not the energy build
    with connect(ConnectSpec("port", url="/dev/ttyUSB1", baud=9600, monitor=lpm)) as c:
        assert (c.url, c.baud, c.monitor) == ("/dev/ttyUSB1", 9600, None)
        assert c.provenance(data="real") == provenance.board("/dev/ttyUSB1", data="real")
    with connect(ConnectSpec("port", url="socket://127.0.0.1:1", link="qemu")) as c:
        assert c.provenance(model_origin="MLPerf reference") == provenance.qemu(model_origin="MLPerf reference",
                                                                                 port="socket://127.0.0.1:1")


def test_energy_on_the_emulated_board_with_the_simulated_monitor(stub_dut, tmp_path):
    """The simulated LPM01A follows the emulated board's pin; the monitor is closed on the way out."""
    write_ad_dataset(tmp_path / "data")
    spec = ConnectSpec("emulated", binary=stub_dut["energy"], variant="energy", baud=9600, timing="modeled",
                       monitor=MonitorSpec("simulated", power_w=0.25))
    with connect(spec) as c:
        made = c.provenance(data="synthetic")
        assert (made.link, made.timing, made.port) == ("host-emulation", "modeled", c.url)
        summary = run(c.url, tmp_path / "data", tmp_path / "out", ["energy"], made, c.baud, iterations=20000, warmups=1,
                      monitor=c.monitor)
        monitor = c.monitor
    # the stub build's clock is its own (m-timing-[clock]): the run records what the DUT says, not the declared "modeled"
    assert len(summary["energy"]["trials"]) == 5 and summary["provenance"]["timing"] == "host-clock"
    assert not monitor.port.is_open


def test_the_board_firmware_in_qemu(tmp_path):
    """The pipeline's dut=qemu: the factory starts QEMU on the firmware ELF and stops it afterwards."""
    from boards import board
    from tests.conftest import qemu_firmware

    b = board.load("pynq_z2")
    elf = qemu_firmware(b.name, tmp_path / "fw")["performance"]
    write_ad_dataset(tmp_path / "data", files=2, windows=2)
    with connect(ConnectSpec("qemu", binary=elf, command=tuple(b.firmware.qemu.command))) as c:
        assert c.url.startswith("socket://127.0.0.1:") and c.monitor is None
        summary = run(c.url, tmp_path / "data", tmp_path / "out", ["accuracy"], c.provenance(data="synthetic"), c.baud)
    assert summary["provenance"] == provenance.qemu(data="synthetic", port=c.url).model_dump()
    assert summary["accuracy"]["inferences"] == 4 and summary["accuracy"]["file_errors"] == []
