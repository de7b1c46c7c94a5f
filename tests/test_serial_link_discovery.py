"""The UART channel of a dual-channel USB bridge found by its USB interface (board.yaml uart.usb_interface),
then confirmed by the name the DUT reports. The ports are pyserial's own ListPortInfo records as its
Linux and Windows listings fill them (VID:PID, location); the name is asked over real ptys."""

from __future__ import annotations

import pytest
from serial.tools.list_ports_common import ListPortInfo

from boards import board
from common.errors import DutError
from runner import devices
from tests.fake_dut import FakeDut


def _port(device: str, location: str | None, vid: int = 0x0403, pid: int = 0x6010) -> ListPortInfo:
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid, info.location = vid, pid, location
    info.description = "Digilent Adept USB Device"
    return info


def _pynq() -> devices.Device:
    b = board.load("pynq_z2")
    assert b.uart.usb is not None
    return devices.board_dut(b.name, b.uart.usb, b.uart.usb_interface, "fake", b.uart.baud.model_dump())


@pytest.mark.parametrize("location", ["1-1.2:1.{}", "1-1.2:x.{}"], ids=["linux", "windows"])
def test_the_uart_channel_is_taken_by_its_interface_not_the_first_port(location):
    """Both FT2232H channels answer the name probe here (a JTAG channel would not answer at all);
    the old discovery took the first port, the JTAG channel."""
    jtag, uart = FakeDut(), FakeDut()
    try:
        said: list[str] = []
        ports = [_port(jtag.port, location.format(0)), _port(uart.port, location.format(1))]
        assert devices.find_port(_pynq(), "a", "pynq_z2's board.yaml", said.append, ports) == (uart.port, 115200)
        assert any(f"{jtag.port} has the USB id of 'pynq_z2' but is its interface 0, not 1" in s for s in said)
    finally:
        jtag.close()
        uart.close()


def test_the_interface_number_from_pyserial_locations():
    assert [devices.interface_number(_port("/dev/x", loc)) for loc in ("1-1.2:1.1", "3-4:1.0", "1-1.2:x.1", "1-1.2", None)] \
        == [1, 0, 1, None, None]


def test_a_port_whose_location_does_not_say_is_confirmed_by_its_name():
    """macOS and single-interface bridges give no interface number: the name decides."""
    other, dut = FakeDut(), FakeDut()
    other.answer = lambda command: b"m-name-dut-[someone_else]\r\nm-ready\r\n" if command == "name" else b"m-ready\r\n"
    try:
        said: list[str] = []
        assert devices.find_port(_pynq(), "p", "board.yaml", said.append, [_port(other.port, None), _port(dut.port, "20-1")]) \
            == (dut.port, 115200)
        assert any("answered name with 'someone_else', not 'fake'" in s for s in said)
    finally:
        other.close()
        dut.close()


def test_only_the_jtag_channel_connected_is_a_clear_error():
    with pytest.raises(DutError, match=r"matches the DUT .pynq_z2. of board.yaml \(USB 0403:6010 interface 1\)"):
        devices.find_port(_pynq(), "p", "board.yaml", lambda s: None, [_port("/dev/ttyUSB0", "1-1.2:1.0")])


def test_every_board_with_a_usb_uart_names_its_interface():
    for name in ("pynq_z2", "arty_a7", "zedboard"):
        uart = board.load(name).uart
        assert uart.usb is not None and uart.usb_interface is not None, name
    assert board.load("pynq_z2").uart.usb_interface == 1 and board.load("arty_a7").uart.usb_interface == 1


def test_dut_usb_finds_the_boards_uart_for_the_pipeline(tmp_path):
    """The pipeline's dut=usb: board.yaml's USB id and interface pick the UART channel, and the name the
    firmware reports (the board's vendor_name) confirms it; a port that answers another name is refused."""
    from common.errors import DutError
    from pipeline.flow import Flow

    flow = Flow(task="ad", board="pynq_z2", dut="usb", build_root=tmp_path)
    jtag, uart = FakeDut(name=flow.board_cfg.vendor_name), FakeDut(name=flow.board_cfg.vendor_name)
    stranger = FakeDut(name="someone-else")
    try:
        ports = [_port(jtag.port, "1-1.2:1.0"), _port(uart.port, "1-1.2:1.1")]
        assert flow.board_port(ports) == uart.port
        with pytest.raises(DutError, match="no connected port matches the DUT 'pynq_z2'"):
            flow.board_port([_port(stranger.port, "1-1.2:1.1")])
    finally:
        for d in (jtag, uart, stranger):
            d.close()
