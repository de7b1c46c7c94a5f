"""Downloads against a real HTTP server on 127.0.0.1 (http.server, with Range support added):
fetch, resume from a .part file, a corrupted checksum, an unreachable server, and extraction."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
from pathlib import Path

import pytest

from common.download import extract, fetch, locate
from common.errors import DatasetError


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler answers every GET with the whole file; a resuming client needs 206."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            return self.send_error(404)
        data = path.read_bytes()
        start = 0
        if "Range" in self.headers:
            start = int(self.headers["Range"].split("=")[1].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])
        self.server.requests.append(self.headers.get("Range"))


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: RangeHandler(*a, directory=str(root)))
    httpd.requests = []
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}", httpd
    httpd.shutdown()


def _speech_commands_archive(path: Path) -> bytes:
    """A small archive in the real dataset's layout."""
    members = {"yes/0a1b2c3d_nohash_0.wav": b"RIFF" + bytes(200), "_background_noise_/white_noise.wav": b"RIFF" + bytes(300),
               "testing_list.txt": b"yes/0a1b2c3d_nohash_0.wav\n", "validation_list.txt": b""}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def test_download_verify_extract(server, tmp_path):
    root, url, _ = server
    data = _speech_commands_archive(root / "sc.tar.gz")
    dest = fetch(f"{url}/sc.tar.gz", tmp_path / "cache" / "sc.tar.gz", hashlib.sha256(data).hexdigest())
    assert dest.read_bytes() == data and not dest.with_name("sc.tar.gz.part").exists()
    folder = extract(dest, tmp_path / "cache" / "speech_commands")
    assert (folder / "testing_list.txt").read_text() == "yes/0a1b2c3d_nohash_0.wav\n"
    assert (folder / "_background_noise_" / "white_noise.wav").stat().st_size == 304


def test_an_interrupted_download_resumes_where_it_stopped(server, tmp_path):
    root, url, httpd = server
    data = _speech_commands_archive(root / "sc.tar.gz")
    dest = tmp_path / "sc.tar.gz"
    dest.with_name("sc.tar.gz.part").write_bytes(data[:100])  # what an interrupted run left
    fetch(f"{url}/sc.tar.gz", dest, hashlib.sha256(data).hexdigest())
    assert dest.read_bytes() == data
    assert httpd.requests == ["bytes=100-"]  # only the rest was asked for


def test_a_corrupted_download_is_refused_and_deleted(server, tmp_path):
    root, url, _ = server
    data = _speech_commands_archive(root / "sc.tar.gz")
    wrong = hashlib.sha256(data + b"x").hexdigest()
    dest = tmp_path / "sc.tar.gz"
    with pytest.raises(DatasetError, match="checksum mismatch"):
        fetch(f"{url}/sc.tar.gz", dest, wrong)
    assert not dest.exists() and not dest.with_name("sc.tar.gz.part").exists()


def test_offline_names_the_url_and_the_expected_path(tmp_path):
    dest = tmp_path / "models" / "kws_ref_model_float32.tflite"
    with pytest.raises(DatasetError) as e:
        locate(dest.name, [tmp_path / "nowhere"], "http://127.0.0.1:9/kws_ref_model_float32.tflite", dest.parent)
    assert "http://127.0.0.1:9/kws_ref_model_float32.tflite" in str(e.value) and str(dest) in str(e.value)


def test_a_missing_file_on_the_server_is_a_clear_error(server, tmp_path):
    _, url, _ = server
    with pytest.raises(DatasetError, match="HTTP 404"):
        fetch(f"{url}/absent.tar.gz", tmp_path / "absent.tar.gz")


def test_an_unsafe_archive_is_not_extracted(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 1
        t.addfile(info, io.BytesIO(b"x"))
    (tmp_path / "bad.tar.gz").write_bytes(buf.getvalue())
    with pytest.raises(DatasetError, match="cannot extract"):
        extract(tmp_path / "bad.tar.gz", tmp_path / "out" / "x")
    assert not (tmp_path / "out" / "escape.txt").exists() and not (tmp_path / "out" / "x").exists()
