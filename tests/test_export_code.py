"""The code/ folder of an export runs on its own: unpacked into an empty folder, its runner and its
pipeline start (their --help), importing nothing from this checkout."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from common.paths import REPO
from results import exported_code, submission
from results.runs import Run
from tests.runs import make_run

# Loaded before the program: drops the editable install's finder, which would import any module the
# export left out from this checkout; at exit, lists where every project module was loaded from.
SITECUSTOMIZE = """
import atexit, json, os, sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in getattr(f, "__module__", "")]
sys.path_hooks[:] = [h for h in sys.path_hooks if "editable" not in getattr(h, "__module__", "")]
PACKAGES = ("common", "frameworks", "tasks", "toolchains", "boards", "runner", "results", "pipeline")

@atexit.register
def _loaded():
    files = sorted({getattr(m, "__file__", None) or "" for n, m in list(sys.modules.items()) if n.split(".")[0] in PACKAGES})
    with open(os.environ["LOADED_FROM"], "w") as f:
        json.dump(files, f)
"""


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory) -> Path:
    """The code folder of an exported run, copied alone into an empty folder."""
    tmp = tmp_path_factory.mktemp("export")
    root = submission.export([make_run(tmp / "build")], tmp / "sub", "Acme", "open", "available")
    alone = tmp_path_factory.mktemp("empty") / "code"
    shutil.copytree(root / "code" / "ad" / "pynq_z2-hls4ml", alone)
    return alone


@pytest.mark.parametrize("package", ["runner", "pipeline"])
def test_the_exported_code_runs_alone(unpacked, tmp_path, package):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    loaded = tmp_path / "loaded.json"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path / "site"), "LOADED_FROM": str(loaded), "HOME": str(tmp_path),
           "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-m", package, "--help"], cwd=unpacked, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith(f"usage: python -m {package}")
    files = [Path(f) for f in json.loads(loaded.read_text()) if f]
    assert files and all(f.is_relative_to(unpacked) for f in files), [str(f) for f in files if not f.is_relative_to(unpacked)]


def test_the_export_copies_the_import_closure_and_the_configs(unpacked):
    for rel in ("tasks/__init__.py", "tasks/base.py", "toolchains/base.py", "toolchains/hls4ml/toolchain.py", "boards/board.py",
                "frameworks/keras2.py", "pipeline/stages/run.py", "common/module_closure.py",  # imported, or imported by name
                "tasks/ad/task.yaml", "boards/pynq_z2/board.yaml", "boards/common/firmware/ee_core.c",
                "tasks/ad/firmware/ad_model.c", "requirements.txt", "Makefile", "manifests/run.json"):
        assert (unpacked / rel).is_file(), rel
    assert not (unpacked / "toolchains" / "finn").exists() and not (unpacked / "tasks" / "kws").exists()  # not this run's
    assert not list(unpacked.rglob("__pycache__"))
    readme = (unpacked / "README.md").read_text()
    assert "make task=ad board=pynq_z2 flow=hls4ml model=trained dut=/dev/ttyUSB1" in readme and "make setup" in readme


def test_every_project_module_the_run_imports_is_exported(tmp_path):
    """Checked against the closure itself: every module of the run's closure is copied, by path."""
    run = Run.load(make_run(tmp_path / "build"))
    copied = exported_code.copy_code(run, tmp_path / "code")
    for module in exported_code.python_files("ad", "hls4ml"):
        assert (tmp_path / "code" / module.relative_to(REPO)).is_file()
    assert len(copied) == len({p for p in copied})
