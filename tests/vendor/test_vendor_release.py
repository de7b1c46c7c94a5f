"""One Vivado/Vitis release for every vendor step (common/vendor_release.py): a tool on PATH from
another release is named, with its release, before anything runs; the 2024.2 install layout and the
2025.1+ one are both read; a release the user accepts with VENDOR_RELEASE runs with a warning."""

from __future__ import annotations

import logging
import os

import pytest

from boards.vendor import steps
from common import vendor_release
from common.errors import BuildError


def install(root, release_dirs: str, tools=("vivado", "xsct")):
    """Stand-in tools under root/<release_dirs>/bin, which is put first on PATH; returns that folder."""
    folder = root / release_dirs / "bin"
    folder.mkdir(parents=True)
    for tool in tools:
        (folder / tool).write_text("#!/bin/sh\nexit 0\n")
        (folder / tool).chmod(0o755)
    return folder


@pytest.fixture
def path_of(monkeypatch):
    def put(*folders):
        monkeypatch.setenv("PATH", os.pathsep.join([*map(str, folders), "/usr/bin", "/bin"]))
        for name in ("XILINX_VIVADO", "XILINX_VITIS", "XILINX_HLS", vendor_release.ACCEPT_ENV):
            monkeypatch.delenv(name, raising=False)
    return put


def test_the_pinned_release_passes_and_another_is_named(tmp_path, path_of, monkeypatch, caplog):
    path_of(install(tmp_path, "Xilinx/Vivado/2024.2"))
    assert vendor_release.release_of("vivado") == "2024.2"
    vendor_release.check(["vivado", "xsct"], "the Arty block design")
    steps.require([("vivado", "the Arty block design"), ("xsct", "programming the arty_a7 over JTAG")])

    path_of(install(tmp_path, "AMD/2025.1/Vivado", tools=("vivado",)), install(tmp_path, "Xilinx/Vitis/2023.2", tools=("xsct",)))
    assert (vendor_release.release_of("vivado"), vendor_release.release_of("xsct")) == ("2025.1", "2023.2")
    with pytest.raises(vendor_release.ReleaseMismatch, match=r"the Arty block design; programming the arty_a7 over JTAG is "
                       r"written for Vivado/Vitis 2024\.2, but PATH has vivado 2025\.1, xsct 2023\.2: source 2024\.2's"):
        steps.require([("vivado", "the Arty block design"), ("xsct", "programming the arty_a7 over JTAG")])

    monkeypatch.setenv(vendor_release.ACCEPT_ENV, "2025.1")  # the user accepts 2025.1: vivado runs, with a warning
    with caplog.at_level(logging.WARNING):
        vendor_release.check(["vivado"], "the Arty block design")
    assert "runs with Vivado/Vitis 2025.1 (VENDOR_RELEASE=2025.1); its scripts are written for 2024.2" in caplog.text
    monkeypatch.setenv(vendor_release.ACCEPT_ENV, "latest")
    with pytest.raises(BuildError, match="VENDOR_RELEASE=latest: give a release such as 2024.2"):
        vendor_release.check(["vivado"], "the Arty block design")


def test_a_release_the_path_does_not_name_comes_from_settings64s_variable(tmp_path, path_of, monkeypatch, caplog):
    path_of(install(tmp_path, "opt/tools", tools=("vitis-run",)))
    with caplog.at_level(logging.WARNING):
        vendor_release.check(["vitis-run"], "HLS synthesis and IP export of the hls4ml board IP")
    assert "cannot tell the Vivado/Vitis release of vitis-run" in caplog.text
    monkeypatch.setenv("XILINX_VITIS", "/opt/Xilinx/Vitis/2023.1")
    with pytest.raises(vendor_release.ReleaseMismatch, match="PATH has vitis-run 2023.1"):
        vendor_release.check(["vitis-run"], "HLS synthesis and IP export of the hls4ml board IP")
