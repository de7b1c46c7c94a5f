"""Configuration is data, validated on load with messages that name the problem."""

from __future__ import annotations

import pytest

from boards import board
from tasks import load_recipe


def test_every_board_description_validates():
    names = board.available()
    assert {"pynq_z2", "arty_a7"} <= set(names)
    for name in names:
        b = board.load(name)
        assert b.part.startswith("xc7") and b.uart.baud["energy"] == 9600


def test_board_facts():
    assert board.load("pynq_z2").clock_period_ns == pytest.approx(10.0)
    assert board.load("arty_a7").processor.isa == "microblaze"


def test_unknown_names_list_the_choices():
    with pytest.raises(SystemExit, match="choose one of arty_a7, .*pynq_z2"):
        board.load("zedboard")
    with pytest.raises(SystemExit, match="unknown task 'vww'"):
        load_recipe("vww")
    with pytest.raises(SystemExit, match="not implemented yet"):
        load_recipe("kws")


def test_bad_task_values_are_rejected_with_their_path():
    with pytest.raises(SystemExit, match=r"train\.epochs"):
        load_recipe("ad", {"train.epochs": 0})
    with pytest.raises(SystemExit, match=r"features\.n_ffts"):
        load_recipe("ad", {"features.n_ffts": 512})
