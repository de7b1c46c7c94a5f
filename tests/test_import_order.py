"""Imports whose order matters stay in order (an import sorter must not undo them): Keras 2 is set up
(frameworks/keras2.py) before anything that loads Keras, and FINN's Vivado-less settings
(toolchains/finn/novivado.py) before anything from finn.builder. Checked in every function and
module body of the project's code, because a wrong order only fails in a fresh interpreter."""

from __future__ import annotations

import ast

from common.layers import MAY_IMPORT
from common.paths import REPO

# (what must come first, the imports that need it)
RULES = [
    ("frameworks.keras2", ("tqdm.keras", "qkeras", "hls4ml", "tensorflow", "tf_keras", "keras")),
    ("toolchains.finn.novivado", ("finn.builder",)),
]


def _imported(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
    return []


def _bodies(tree: ast.Module):
    yield tree.body
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.body


def out_of_order() -> list[str]:
    found = []
    for layer in MAY_IMPORT:
        for path in sorted((REPO / layer).rglob("*.py")):
            tree = ast.parse(path.read_text())
            at_top = {name for node in tree.body for name in _imported(node)}
            for body in _bodies(tree):
                seen = set(at_top)
                for node in body:
                    names = _imported(node)
                    for first, needers in RULES:
                        if path.relative_to(REPO).with_suffix("").as_posix().replace("/", ".") == first:
                            continue
                        needs = [n for n in names if n.split(".")[0] in {d.split(".")[0] for d in needers}
                                 and any(n == d or n.startswith(d + ".") for d in needers)]
                        if needs and first not in seen:
                            found.append(f"{path.relative_to(REPO)}:{node.lineno} imports {needs[0]} before {first}")
                    seen.update(names)
    return found


def test_keras2_and_finn_settings_come_first():
    assert out_of_order() == []
