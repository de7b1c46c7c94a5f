"""The runner stays in small modules of one concept each (none over 400 lines), and stands on
`common` alone (tests/test_layers.py checks every layer's imports; this names the runner's rule)."""

from __future__ import annotations

from common.layers import MAY_IMPORT
from common.paths import REPO

MAX_LINES = 400


def test_no_runner_module_is_over_400_lines():
    long = {str(p.relative_to(REPO)): n for p in (REPO / "runner").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_runner_imports_only_common():
    assert MAY_IMPORT["runner"] == frozenset({"common"})
