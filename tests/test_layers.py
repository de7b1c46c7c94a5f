"""Layers point one way (common/layers.py): every import of every module of every layer, walked in
its syntax tree (imports inside functions and TYPE_CHECKING blocks included), is checked."""

from __future__ import annotations

import ast
from pathlib import Path

from common.layers import MAY_IMPORT
from common.paths import REPO


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in a Python file; relative imports stay in their package."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def forbidden_imports(root: Path = REPO) -> list[str]:
    offenders = []
    for layer, allowed in MAY_IMPORT.items():
        for path in sorted((root / layer).rglob("*.py")):
            for line, module in imports(path):
                top = module.split(".")[0]
                if top in MAY_IMPORT and top != layer and top not in allowed:
                    offenders.append(f"{path.relative_to(root)}:{line} imports {module} ({layer} may import only "
                                     f"{', '.join(sorted(allowed)) or 'itself'})")
    return offenders


def test_every_layer_imports_only_the_layers_below_it():
    assert forbidden_imports() == []


def test_every_package_of_the_project_has_a_layer():
    packages = {p.parent.name for p in REPO.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages == set(MAY_IMPORT), "a new top-level package needs its place in common/layers.py"


def test_a_forbidden_import_is_found(tmp_path):
    """The walk sees an import hidden in a function of a nested module, and names file, line and rule."""
    for layer in MAY_IMPORT:
        (tmp_path / layer).mkdir()
    (tmp_path / "tasks" / "kws").mkdir()
    (tmp_path / "tasks" / "kws" / "recipe.py").write_text("import numpy\n\ndef f():\n    from toolchains.finn import build\n")
    (tmp_path / "toolchains" / "ok.py").write_text("from frameworks import keras2\nfrom common.errors import BuildError\n")
    assert forbidden_imports(tmp_path) == [
        "tasks/kws/recipe.py:4 imports toolchains.finn (tasks may import only common, frameworks)"]
