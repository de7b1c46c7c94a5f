"""The FTDI latency timer: set to 1 ms where the file is writable, one line with the command where it
is not, silence where the port has none. The sysfs root is a folder of real files here; the
read-only case is a real sysfs attribute without a write method (refused even to root)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.latency_timer import ensure_low_latency, latency_timer_file


def _sysfs(tmp_path: Path, tty: str, value: str) -> Path:
    folder = tmp_path / "bus" / "usb-serial" / "devices" / tty
    folder.mkdir(parents=True)
    (folder / "latency_timer").write_text(value)
    return tmp_path


def test_a_16_ms_timer_is_set_to_1_ms(tmp_path):
    said: list[str] = []
    sysfs = _sysfs(tmp_path, "ttyUSB1", "16\n")
    assert ensure_low_latency("/dev/ttyUSB1", sysfs, said.append) == 1
    assert (sysfs / "bus/usb-serial/devices/ttyUSB1/latency_timer").read_text().strip() == "1" and said == []


def test_a_by_id_link_is_followed_to_its_tty(tmp_path):
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "ttyUSB3").touch()
    link = tmp_path / "dev" / "usb-Digilent_Adept_USB_Device-if01-port0"
    link.symlink_to(tmp_path / "dev" / "ttyUSB3")
    assert latency_timer_file(str(link), tmp_path / "sys") == tmp_path / "sys/bus/usb-serial/devices/ttyUSB3/latency_timer"


def test_a_timer_that_cannot_be_set_is_named_once_with_the_command(tmp_path):
    readonly = Path("/sys/class/net/lo/type")  # a sysfs attribute with no write method: EACCES even for root
    if not readonly.is_file():
        pytest.skip("no /sys/class/net/lo/type here")
    folder = tmp_path / "bus" / "usb-serial" / "devices" / "ttyUSB1"
    folder.mkdir(parents=True)
    (folder / "latency_timer").symlink_to(readonly)
    said: list[str] = []
    value = int(readonly.read_text())
    assert ensure_low_latency("/dev/ttyUSB1", tmp_path, said.append) == value
    assert len(said) == 1 and f"the FTDI latency timer is {value} ms" in said[0]
    assert f"echo 1 | sudo tee {folder / 'latency_timer'}" in said[0]


@pytest.mark.parametrize("port", ["/dev/ttyACM0", "socket://127.0.0.1:5555", "/dev/pts/3"])
def test_a_port_without_a_latency_timer_is_left_alone_in_silence(tmp_path, port):
    said: list[str] = []
    assert ensure_low_latency(port, _sysfs(tmp_path, "ttyUSB1", "16\n"), said.append) is None
    assert said == []


def test_a_timer_at_1_ms_is_not_written(tmp_path):
    sysfs = _sysfs(tmp_path, "ttyUSB0", "1\n")
    path = sysfs / "bus/usb-serial/devices/ttyUSB0/latency_timer"
    path.chmod(0o444)
    assert ensure_low_latency("/dev/ttyUSB0", sysfs, lambda s: pytest.fail(s)) == 1
