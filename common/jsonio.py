"""JSON files written atomically (a crash never leaves half a file) and read back."""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_json(path: Path, obj, indent: int | None = 2) -> None:
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=indent, sort_keys=indent is not None, default=str)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def read_json(path: Path):
    return json.loads(Path(path).read_text())
