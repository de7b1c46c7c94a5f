"""Configuration is data, validated where it is read, with messages that name the file and field."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml

from boards import board
from common.errors import ConfigError
from tasks import load_recipe
from tests.conftest import REPO


def test_every_board_description_validates():
    names = board.available()
    assert {"pynq_z2", "arty_a7"} <= set(names)
    for name in names:
        b = board.load(name)
        assert b.part.startswith("xc7") and b.uart.baud.energy == 9600


def test_board_facts():
    assert board.load("pynq_z2").clock_period_ns == pytest.approx(10.0)
    assert board.load("arty_a7").processor.isa == "microblaze"


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda b: b["processor"].update(isa="riscv"), "processor.isa"),
        (lambda b: b["uart"]["baud"].update(perf=115200), "uart.baud.perf"),
        (lambda b: b["uart"]["baud"].pop("energy"), "uart.baud.energy"),
        (lambda b: b["timestamp_gpio"].update(hold_us=10), "timestamp_gpio.hold_us"),
        (lambda b: b.update(fabric_clock_mhz=-1), "fabric_clock_mhz"),
        (lambda b: b["uart"].update(usb="FTDI"), "uart.usb"),
    ],
)
def test_a_malformed_board_names_the_field(tmp_path, edit, field):
    raw = yaml.safe_load((REPO / "boards" / "pynq_z2" / "board.yaml").read_text())
    edit(raw)
    path = tmp_path / "board.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=re.escape(f"{path}: invalid board description:\n") + ".*" + re.escape(field)):
        board.load("x", path=path)


def test_unknown_names_list_the_choices():
    with pytest.raises(ConfigError, match="choose one of arty_a7, .*pynq_z2"):
        board.load("zcu104")
    with pytest.raises(ConfigError, match="unknown task 'nosuch'"):
        load_recipe("nosuch")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"train.epochs": 0}, r"train\.epochs: Input should be greater than or equal to 1"),
        ({"features.n_ffts": 512}, r"features\.n_ffts: Extra inputs are not permitted"),
        ({"features.n_mels": -128}, r"features\.n_mels: Input should be greater than 0"),
        ({"features.n_mels": 64}, r"model\.inputs=640 must equal features\.frames x features\.n_mels = 5 x 64 = 320"),
        ({"min_auc": {"synthetic": 0.9}}, r"min_auc\.real: Field required"),
        ({"model.input_quant.integer": 16}, r"integer=16 leaves no room in 16 bits"),
        ({"train.epochs.x": 1}, r"cannot set 'train\.epochs\.x': 'train\.epochs' is 30, not a mapping"),
    ],
)
def test_bad_task_values_are_rejected_with_their_path(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_recipe("ad", overrides)


def test_validating_imports_no_tensorflow():
    code = ("import sys; from tasks import load_recipe; from boards import board; load_recipe('ad'); board.load('pynq_z2'); "
            "heavy = [m for m in ('tensorflow', 'tf_keras', 'qkeras', 'librosa', 'hls4ml', 'torch') if m in sys.modules]; "
            "print(heavy); sys.exit(bool(heavy))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr




def test_library_code_raises_typed_errors():
    """Only the command lines turn errors into exits: no SystemExit outside cli.py/__main__.py."""
    raising = [str(p.relative_to(REPO))
               for package in ("tasks", "toolchains", "boards", "runner", "results", "common", "pipeline")
               for p in (REPO / package).rglob("*.py")
               if p.name not in ("cli.py", "__main__.py") and "SystemExit" in p.read_text()]
    assert raising == []


def test_every_task_yaml_section_a_toolchain_reads_is_valid_for_it():
    """tasks keep the hls4ml:/finn: sections as data; each toolchain validates its own (check())."""
    import toolchains
    from tasks import available

    for task in available():
        recipe = load_recipe(task)
        for flow in toolchains.available():
            toolchain = toolchains.load(flow)
            for model in recipe.models if toolchain.framework == "qkeras" else ("trained",):
                toolchain.check(recipe, model)


def test_a_bad_toolchain_section_is_refused_before_any_stage_naming_it():
    import toolchains

    with pytest.raises(ConfigError, match=r"tasks/kws/task.yaml hls4ml: invalid settings:\n  io_type"):
        toolchains.load("hls4ml").check(load_recipe("kws", {"hls4ml.io_type": "io_serial"}), "trained")
    with pytest.raises(ConfigError, match=r"tasks/ic/task.yaml finn: invalid settings"):
        toolchains.load("finn").check(load_recipe("ic", {"finn.target_fps": -1}), "trained")
