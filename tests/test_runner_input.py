"""The runner's command line against bad input: each case ends in one clear line and a non-zero exit,
never a Python traceback, and nothing is run on a value that cannot be right."""

from __future__ import annotations

import os

import pytest

from runner.cli import main as runner_main
from tests.fake_dut import FakeDut, write_ad_dataset


@pytest.fixture
def data(tmp_path):
    write_ad_dataset(tmp_path / "data")
    return tmp_path / "data"


def _refused(args: list[str], capsys) -> str:
    """The runner's exit code is not 0 and its complaint is one line, without a traceback."""
    try:
        code = runner_main(args)
    except SystemExit as e:  # argparse's refusal of an argument
        code = e.code
    assert code not in (0, None)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("value", ["nan", "inf", "-5", "0"])
def test_a_window_length_that_is_no_length_is_refused(data, tmp_path, capsys, value):
    err = _refused(["--port", "/dev/does-not-exist", "--dataset", str(data), "--out", str(tmp_path / "o"),
                    f"--window-seconds={value}"], capsys)
    assert "argument --window-seconds: must be a number of seconds > 0" in err
    assert not (tmp_path / "o").exists()  # nothing was run


def test_negative_warmups_are_refused(data, tmp_path, capsys):
    err = _refused(["--port", "/dev/does-not-exist", "--dataset", str(data), "--warmups=-1"], capsys)
    assert "argument --warmups: must be >= 0, got -1" in err


@pytest.mark.parametrize("where", ["out", "under"])
def test_an_out_folder_that_is_a_file_is_refused_before_the_dut_is_contacted(data, tmp_path, capsys, where):
    blocker = tmp_path / "taken"
    blocker.write_text("not a folder\n")
    out = blocker if where == "out" else blocker / "run"
    dut = FakeDut()
    try:
        err = _refused(["--port", dut.port, "--dataset", str(data), "--out", str(out)], capsys)
    finally:
        dut.close()
    assert err.strip() == f"runner: the output folder {out} cannot be made: {blocker} is a file"
    assert dut.commands == []


def test_a_build_root_that_is_a_file_is_refused(data, tmp_path, capsys, monkeypatch):
    (tmp_path / "root").write_text("")
    monkeypatch.setenv("BUILD_ROOT", str(tmp_path / "root"))
    err = _refused(["--port", "/dev/does-not-exist", "--dataset", str(data)], capsys)
    assert f"{tmp_path / 'root'} is a file" in err


def test_an_emulated_dut_that_is_not_executable_is_refused(data, tmp_path, capsys):
    binary = tmp_path / "dut_host"
    binary.write_bytes(b"\x7fELF not really")
    binary.chmod(0o644)
    err = _refused(["--emulated", str(binary), "--dataset", str(data), "--out", str(tmp_path / "o")], capsys)
    assert err.strip() == f"runner: emulated DUT {binary} is not executable (chmod +x it, or build it again)"


def test_an_emulated_dut_the_system_cannot_start_is_a_clear_error(data, tmp_path, capsys):
    binary = tmp_path / "dut_host"
    binary.write_bytes(b"\0\0\0\0 neither a program nor a script")
    binary.chmod(0o755)
    err = _refused(["--emulated", str(binary), "--dataset", str(data), "--out", str(tmp_path / "o")], capsys)
    assert err.startswith(f"runner: cannot start the emulated DUT {binary}: Exec format error")
    assert len(err.strip().splitlines()) == 1


def test_labels_that_are_not_utf8_are_a_clear_error(data, tmp_path, capsys):
    labels = data / "ad01" / "y_labels.csv"
    labels.write_bytes(labels.read_bytes() + b"caf\xe9.bin,2,0,2560,512\n")
    err = _refused(["--port", "/dev/does-not-exist", "--dataset", str(data), "--out", str(tmp_path / "o")], capsys)
    assert err.strip().startswith(f"runner: {labels}: not UTF-8 text")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("text, message", [
    (b"- name: x\n  type: dut\n  usb: {0x0403: 0x6010}\n- caf\xe9\n", "not UTF-8 text"),
    (b"- 5\n- name: x\n  type: dut\n", "device #1: expected a mapping of name, type, baud, usb, ..., got int"),
    (b"- [a, b]\n", "device #1: expected a mapping of name, type, baud, usb, ..., got list"),
    (b"- null\n", "device #1: expected a mapping of name, type, baud, usb, ..., got NoneType"),
])
def test_a_devices_file_that_is_no_devices_list_is_a_clear_error(data, tmp_path, capsys, text, message):
    devices = tmp_path / "devices.yaml"
    devices.write_bytes(text)
    err = _refused(["--devices", str(devices), "--dataset", str(data), "--out", str(tmp_path / "o")], capsys)
    assert err.strip().startswith(f"runner: {devices}: ")
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_devices_path_that_is_a_folder_is_a_clear_error(data, tmp_path, capsys):
    os.mkdir(tmp_path / "devices.yaml")
    err = _refused(["--devices", str(tmp_path / "devices.yaml"), "--dataset", str(data)], capsys)
    assert err.strip() == f"runner: {tmp_path / 'devices.yaml'}: cannot be read: Is a directory"
