"""Stage folders on disk: what a stage was made from (manifest.json), and whether it can be skipped.

A stage's key is a digest of its parameters, the keys of the stages it reads and the source of the
code that runs it (the stage's own functions, the project modules they import, followed through
their imports, and any C sources). A stage whose manifest says "done" with the same key is
skipped; anything else re-runs it. The stage writes into `<dir>.partial` and the folder is renamed
only when it succeeded, so a failure halfway never leaves a half-written stage that looks finished.
Outputs name their files relative to the stage folder, so a build tree can be moved.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from common.errors import HarnessError
from common.jsonio import read_json, write_json
from common.module_closure import module_closure
from common.paths import REPO

MANIFEST = "manifest.json"
log = logging.getLogger("pipeline")


class StageError(HarnessError):
    """A stage cannot run: its upstream has not run, or its inputs are missing."""


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def source_digest(modules: Sequence[str] = (), files: Sequence[str] = (), functions: Sequence[Callable] = ()) -> str:
    """Digest of the code a stage runs: project modules (followed through their imports), other
    source files or folders (relative to the repository), and the stage's own functions."""
    paths = set(module_closure(list(modules)))
    for rel in files:
        root = REPO / rel
        if root.is_dir():
            paths.update(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        else:
            paths.add(root)
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.relative_to(REPO)).encode())
        h.update(file_digest(p).encode())
    for fn in functions:
        h.update(inspect.getsource(fn).encode())
    return h.hexdigest()


def json_digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class StageDir:
    name: str
    path: Path

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    def manifest(self) -> dict | None:
        try:
            return read_json(self.manifest_path)
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def is_current(self, key: str) -> bool:
        m = self.manifest()
        return m is not None and m.get("status") == "done" and m.get("key") == key

    def artifacts(self) -> dict[str, Path]:
        """The stage's named outputs as absolute paths (the manifest holds them relative to the folder)."""
        m = self.manifest()
        if m is None or m.get("status") != "done":
            raise StageError(f"stage '{self.name}' has not run ({self.path}): run it first")
        return {name: self.path / rel for name, rel in m["outputs"].get("artifacts", {}).items()}

    def run(self, key: str, inputs: dict, work, keep_partial: bool = False) -> dict:
        """Run `work(partial_dir) -> outputs dict` into a fresh folder (or, with keep_partial, into
        what an interrupted attempt left); record the manifest. On failure the partial folder is
        kept for inspection, and for resuming, when it holds anything."""
        partial = self.path.with_name(self.path.name + ".partial")
        if not keep_partial:
            shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True, exist_ok=True)
        start = time.time()
        try:
            outputs = work(partial)
            missing = [rel for rel in outputs.get("artifacts", {}).values() if not (partial / rel).exists()]
            if missing:
                raise StageError(f"stage '{self.name}' names outputs it did not write: {missing}")
        except BaseException:
            if any(partial.iterdir()):
                log.error("[%s] failed; what it wrote so far is in %s", self.name, partial)
            else:
                partial.rmdir()
            raise
        manifest = {
            "stage": self.name,
            "status": "done",
            "key": key,
            "inputs": inputs,
            "outputs": outputs,
            "seconds": round(time.time() - start, 1),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        write_json(partial / MANIFEST, manifest)
        shutil.rmtree(self.path, ignore_errors=True)
        partial.rename(self.path)
        return manifest
