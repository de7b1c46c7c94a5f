"""Loading a generated shared library (a C emulator) with ctypes, so a rebuilt one is what runs.

The dynamic loader keeps a library open by its path for the life of the process: a second
ctypes.CDLL of a path already loaded returns the first library, even after the file was rebuilt
with other code. A library whose file changed since it was loaded is therefore loaded from a
private copy (removed again at once: the mapping outlives the name)."""

from __future__ import annotations

import ctypes
import shutil
import tempfile
from pathlib import Path

_loaded: dict[Path, tuple[tuple[int, int, int], ctypes.CDLL]] = {}


def load(path: Path) -> ctypes.CDLL:
    path = Path(path).resolve()
    st = path.stat()
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
    cached = _loaded.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    if cached is None:
        library = ctypes.CDLL(str(path))
    else:  # rebuilt since: the path itself would give back the old code
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix) as copy:
            shutil.copyfile(path, copy.name)
            library = ctypes.CDLL(copy.name)
    _loaded[path] = (stamp, library)
    return library
