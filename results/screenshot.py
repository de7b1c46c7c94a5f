"""Render the report page in headless Chromium and save a PNG, to look at it as a reader would.

    python -m results.screenshot [build/report/index.html] [--out build/report/screenshot.png]

Needs Debian's chromium (`apt-get install chromium`); without it this says so and exits 2.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common.errors import BuildError
from common.paths import build_root

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def chromium() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def screenshot(page: Path, out: Path, width: int = 1280, height: int = 2400) -> Path:
    browser = chromium()
    if browser is None:
        raise BuildError("no Chromium on PATH: install Debian's chromium package to take screenshots")
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
                               f"--screenshot={out.resolve()}", page.resolve().as_uri()],
                              capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not out.is_file():
        raise BuildError(f"chromium could not render {page}: {proc.stderr[-2000:]}")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m results.screenshot", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("page", type=Path, nargs="?", default=build_root() / "report" / "index.html")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    try:
        out = screenshot(args.page, args.out or args.page.with_name("screenshot.png"))
    except BuildError as e:
        print(f"screenshot: {e}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
