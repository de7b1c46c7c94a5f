"""Stage folders on disk: what a stage was made from (manifest.json), and whether it can be skipped.

A stage's key is a digest of its parameters, the manifests of the stages it reads and the source
files of the code that runs it. A stage whose manifest says "done" with the same key is skipped;
anything else re-runs it. The stage writes into `<dir>.partial` and the folder is renamed only when
it succeeded, so a failure halfway never leaves a half-written stage that looks finished.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MANIFEST = "manifest.json"


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def source_digest(paths: list[str]) -> str:
    """Digest of the source files (relative to the repository) that a stage's result depends on."""
    h = hashlib.sha256()
    for rel in sorted(paths):
        root = REPO / rel
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for p in files:
            if "__pycache__" in p.parts:
                continue
            h.update(str(p.relative_to(REPO)).encode())
            h.update(file_digest(p).encode())
    return h.hexdigest()


def json_digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def write_json(path: Path, obj) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")
    tmp.replace(path)


def read_json(path: Path):
    return json.loads(path.read_text())


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

    def run(self, key: str, inputs: dict, work) -> dict:
        """Run `work(partial_dir) -> outputs dict` into a fresh folder; record the manifest."""
        partial = self.path.with_name(self.path.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        start = time.time()
        outputs = work(partial)
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
