"""Where the repository is and where generated output goes: one build root, relative to the
repository (override with the BUILD_ROOT environment variable), for every command."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def build_root() -> Path:
    root = os.environ.get("BUILD_ROOT")
    return Path(root).expanduser().resolve() if root else REPO / "build"


def cache_root() -> Path:
    """Downloaded datasets and reference models ($MLPERF_TINY_CACHE, else ~/.cache/mlperf-tiny-fpga):
    kept across clones and `make clean`, unlike the build root."""
    root = os.environ.get("MLPERF_TINY_CACHE")
    return Path(root).expanduser().resolve() if root else Path.home() / ".cache" / "mlperf-tiny-fpga"


SHARED = REPO.parent / "shared"  # ../shared beside a checkout: read-only datasets and models, when present
