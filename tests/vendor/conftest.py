"""Fixtures of the vendor-step tests: the Arty A7's description, and a PATH without the vendor tools."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from boards import board


@pytest.fixture(scope="module")
def arty():
    return board.load("arty_a7")


@pytest.fixture
def no_vendor_tools(monkeypatch, tmp_path):
    """PATH with nothing on it but Python's folder: no vivado, xsct, bootgen or updatemem."""
    bare = tmp_path / "bin"
    bare.mkdir()
    monkeypatch.setenv("PATH", f"{bare}{os.pathsep}{Path(sys.executable).parent}")
    return bare
