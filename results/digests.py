"""The digest list of an exported tree: the SHA-256 of every file in it, in the format of `sha256sum`
(so `sha256sum -c sha256sums.txt` checks it too). The checker verifies it, so a file edited, removed
or added after the export is named."""

from __future__ import annotations

import hashlib
from pathlib import Path

NAME = "sha256sums.txt"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != NAME)


def write(root: Path) -> Path:
    """List every file under root with its digest; returns the list's path."""
    path = root / NAME
    path.write_text("".join(f"{_sha256(root / rel)}  {rel}\n" for rel in _files(root)))
    return path


def listed(root: Path) -> dict[str, str]:
    """relative path -> digest, as the list says; lines that are not `<64 hex>  <path>` are skipped."""
    out = {}
    for line in (root / NAME).read_text(errors="replace").splitlines():
        digest, sep, rel = line.partition("  ")
        if sep and len(digest) == 64:
            out[rel] = digest
    return out


def differences(root: Path) -> list[tuple[str, str]]:
    """(relative path, what changed) for every file that is not as the list says."""
    expected = listed(root)
    present = set(_files(root))
    changed = [rel for rel in sorted(expected.keys() & present) if _sha256(root / rel) != expected[rel]]
    found = [(rel, "changed since the export") for rel in changed]
    found += [(rel, "removed since the export") for rel in sorted(expected.keys() - present)]
    return found + [(rel, "added since the export (not in the digest list)") for rel in sorted(present - expected.keys())]
