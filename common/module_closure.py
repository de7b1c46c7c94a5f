"""The project's own source files a set of modules runs: the modules, their parent packages and
every project module they import, transitively, read with ast (nothing is imported). The pipeline
keys its stages on this closure; the submission export copies it, so what is exported is what ran."""

from __future__ import annotations

import ast
from pathlib import Path

from common.paths import REPO


def module_path(name: str, root: Path = REPO) -> Path | None:
    """The file of a project module (a .py file or a package's __init__.py); None for any other module."""
    base = root / name.replace(".", "/")
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imports(path: Path) -> set[str]:
    """Absolute module names a Python file imports (`from a.b import c` may name module a.b.c)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def module_closure(modules: list[str], root: Path = REPO) -> list[Path]:
    """The project's source files that `modules` run: themselves, their parent packages and every
    project module they import, transitively. Third-party modules are not followed."""
    seen: dict[str, Path] = {}
    todo = list(modules)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = module_path(name, root)
        if path is None:
            continue
        seen[name] = path
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += sorted(imports(path))
    return sorted(set(seen.values()))
