"""common/shared_library.py: a library rebuilt at the same path in the same process runs its new code
(ctypes.CDLL of a path the loader already holds gives back the old library)."""

from __future__ import annotations

import subprocess

from common import shared_library


def _build(tmp_path, value: int):
    source = tmp_path / "lib.c"
    source.write_text(f"int value(void) {{ return {value}; }}\n")
    subprocess.run(["gcc", "-shared", "-fPIC", str(source), "-o", str(tmp_path / "libvalue.so")], check=True)
    return tmp_path / "libvalue.so"


def test_a_rebuilt_library_runs_its_new_code_and_an_unchanged_one_is_loaded_once(tmp_path):
    first = shared_library.load(_build(tmp_path, 1))
    assert first.value() == 1
    assert shared_library.load(tmp_path / "libvalue.so") is first  # unchanged: the same library
    assert shared_library.load(_build(tmp_path, 2)).value() == 2
    assert shared_library.load(_build(tmp_path, 3)).value() == 3
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # the private copies are gone
