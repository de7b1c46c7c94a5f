"""Downloads that survive a bad network: resumable (HTTP Range into a `.part` file), checked
(SHA-256 when the source's checksum is known), and extracted atomically (into a temporary folder,
renamed when complete), so an interrupted run is resumed, never trusted half-done.

Every failure is a DatasetError naming the URL and where the file is expected, so an offline
user can put it there by hand."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tarfile
import zipfile
from pathlib import Path

from common.errors import DatasetError

log = logging.getLogger(__name__)
CHUNK = 1 << 20


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _offline(url: str, dest: Path, why: str) -> DatasetError:
    return DatasetError(f"cannot download {url}: {why}\n  expected at {dest}: download it there by hand on a machine "
                        f"with internet (or copy it from one), then run again")


def fetch(url: str, dest: Path, expected_sha256: str | None = None, timeout: float = 30.0) -> Path:
    """dest, downloaded from url unless it is already there (and matches the checksum)."""
    import requests
    from tqdm import tqdm

    dest = Path(dest)
    if dest.is_file():
        if expected_sha256 is None or sha256(dest) == expected_sha256:
            return dest
        log.warning("%s does not match its checksum: downloading it again", dest)
        dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        with requests.get(url, headers=headers, stream=True, timeout=timeout) as r:
            if r.status_code == 416:  # the .part is already complete
                pass
            else:
                if r.status_code not in (200, 206):
                    raise _offline(url, dest, f"HTTP {r.status_code}")
                if r.status_code == 200 and have:
                    log.info("%s: the server does not resume; starting again", url)
                    have = 0
                total = int(r.headers.get("Content-Length", 0)) + have or None
                with open(part, "ab" if have else "wb") as f, tqdm(total=total, initial=have, unit="B", unit_scale=True,
                                                                   desc=dest.name) as bar:
                    for block in r.iter_content(CHUNK):
                        f.write(block)
                        bar.update(len(block))
    except requests.RequestException as e:
        raise _offline(url, dest, f"{type(e).__name__}: {e}") from None
    if expected_sha256 is not None:
        actual = sha256(part)
        if actual != expected_sha256:
            part.unlink()
            raise DatasetError(f"{url}: checksum mismatch (SHA-256 {actual}, expected {expected_sha256}); the partial "
                               f"file was deleted, run again to download it afresh")
    part.rename(dest)
    return dest


def extract(archive: Path, into: Path) -> Path:
    """Unpack a .tar.gz/.tgz/.tar or .zip into the folder `into` (created; replaced only when complete)."""
    archive, into = Path(archive), Path(into)
    if into.is_dir():
        return into
    tmp = into.with_name(into.name + ".extracting")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                for name in z.namelist():
                    if name.startswith("/") or ".." in Path(name).parts:
                        raise DatasetError(f"{archive}: unsafe path in archive: {name}")
                z.extractall(tmp)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as t:
                t.extractall(tmp, filter="data")  # refuses absolute paths, '..' and device files
        else:
            raise DatasetError(f"{archive}: neither a tar nor a zip archive")
    except (tarfile.TarError, zipfile.BadZipFile, OSError) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DatasetError(f"{archive}: cannot extract: {e}") from None
    tmp.rename(into)
    return into


def locate(name: str, folders: list[Path], url: str | None, cache: Path, expected_sha256: str | None = None) -> Path:
    """A file by name from the first folder holding it (checksum checked), else downloaded into cache."""
    for folder in folders:
        candidate = Path(folder).expanduser() / name
        if candidate.is_file():
            if expected_sha256 and sha256(candidate) != expected_sha256:
                raise DatasetError(f"{candidate}: SHA-256 {sha256(candidate)} is not the expected {expected_sha256}")
            return candidate
    if url is None:
        raise DatasetError(f"{name} not found in {', '.join(map(str, folders))} and no download URL is known")
    return fetch(url, cache / name, expected_sha256)
