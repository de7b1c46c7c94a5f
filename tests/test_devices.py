"""The MLC runner's devices.yaml, read unchanged, and the DUT found by VID:PID and check_name.
pyserial's port list is replaced by one naming real ptys (there is no USB device here); the name
probe talks to a real pty."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from common.errors import ConfigError, DutError
from runner import devices
from runner.cli import main as runner_main
from tests.fake_dut import FakeDut, write_ad_dataset

# The MLC runner's shipped devices_kws_ic_vww.yaml (mlcommons/tiny benchmark/runner), as a submitter has it.
MLC_DEVICES = """\
- name: stm32h573i-dk
  type: interface
  preference: 2
  baud: 115200 # Baud Rate for the interface (IO) board
  usb:
    0x0483: 0x374E
- name: arduino
  type: interface
  preference: 1
  baud: 115200 # Baud Rate for the interface board
  usb:
    0x2341:
      - 0x0043
      - 0x0001
    0x2a03:
      - 0x0043
      - 0x0243
- name: lpm01a
  type: power
  baud: 3686400
  echo: False
  preference: 2 # set to higher preference thatn js220 to use lpm01a
  voltage: 1.8   # <-- Voltage for DUT
  usb:
    0x0483: 0x5740  # Ensures detection by VID/PID (1155 / 22336)
- name: pynq_z2
  type: dut
  check_name: fake
  baud:
    energy: 9600
    performance: 115200
    accuracy: 115200
  usb:
    0x0403: 0x6010
- name: js220
  type: power
  interface: direct_usb
  preference: 1 # set to higher preference thatn lpm01a to use js220
  raw_sampling_rate: 1000000
  virtual_sampling_rate: 1000
  usb:
    0x16D0: 0x10BA
"""


@pytest.fixture
def devices_file(tmp_path):
    path = tmp_path / "devices.yaml"
    path.write_text(MLC_DEVICES)
    return path


def _ports(monkeypatch, *ports):
    monkeypatch.setattr(devices.list_ports, "comports",
                        lambda: [SimpleNamespace(device=d, vid=v, pid=p, description=desc) for d, v, p, desc in ports])


def test_the_mlc_file_is_read_unchanged(devices_file):
    entries = devices.load(devices_file)
    assert [d.name for d in entries] == ["stm32h573i-dk", "arduino", "lpm01a", "pynq_z2", "js220"]
    dut = devices.dut_entry(entries)
    assert (dut.baud_for("e"), dut.baud_for("p"), dut.baud_for("accuracy")) == (9600, 115200, 115200)
    assert entries[1].matches(0x2A03, 0x0243) and not entries[1].matches(0x2A03, 0x9999)
    assert entries[4].model_extra["raw_sampling_rate"] == 1_000_000


def test_the_dut_is_found_by_usb_id_and_name(devices_file, monkeypatch):
    dut, other = FakeDut(), FakeDut()
    other.answer = lambda command: b"m-name-dut-[someone_else]\r\nm-ready\r\n" if command == "name" else b"m-ready\r\n"
    try:
        _ports(monkeypatch, ("/dev/ttyACM0", 0x0483, 0x374E, "STLink"), (other.port, 0x0403, 0x6010, "FT2232H"),
               (dut.port, 0x0403, 0x6010, "FT2232H"))
        said = []
        assert devices.find_dut(devices_file, "a", log=said.append) == (dut.port, 115200)
        assert any("answered name with 'someone_else', not 'fake'" in s for s in said)
        found = devices.discover(devices.load(devices_file), "a", log=said.append)
        assert found["interface"].port == "/dev/ttyACM0" and found["interface"].device.name == "stm32h573i-dk"
    finally:
        dut.close()
        other.close()


def test_no_matching_port_is_a_clear_error(devices_file, monkeypatch):
    _ports(monkeypatch, ("/dev/ttyACM0", 0x0483, 0x374E, "STLink"))
    with pytest.raises(DutError, match="no connected port matches the DUT 'pynq_z2'.*0403:6010"):
        devices.find_dut(devices_file, "p")


@pytest.mark.parametrize("text, message", [("- name: x\n  type: robot\n", "device #1 \\(x\\): type"),
                                           ("name: x\n", "expected a list of devices"),
                                           ("- name: x\n  type: interface\n", "lists no device of type dut")])
def test_malformed_devices_files(tmp_path, text, message):
    path = tmp_path / "d.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        devices.dut_entry(devices.load(path))


def test_runner_cli_with_a_devices_file(devices_file, monkeypatch, tmp_path):
    write_ad_dataset(tmp_path / "data")
    dut = FakeDut()
    try:
        _ports(monkeypatch, (dut.port, 0x0403, 0x6010, "FT2232H"))
        assert runner_main(["--devices", str(devices_file), "--dataset", str(tmp_path / "data"), "--mode", "a",
                            "--out", str(tmp_path / "out")]) == 0
    finally:
        dut.close()
    assert (tmp_path / "out" / "accuracy" / "results.txt").is_file()
