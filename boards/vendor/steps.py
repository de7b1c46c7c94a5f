"""One run of a vendor tool (a step): its command, the tools it needs (checked on PATH first, all of
them at once: ToolMissing), its log; and how Python hands arguments to the boards' Tcl scripts
(`-name value` pairs that boards/common/vivado/tclargs.tcl parses, Tcl lists, hex addresses)."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Mapping

from common import vendor_release
from common.errors import BuildError, ConfigError, ToolMissing

log = logging.getLogger(__name__)

HW_SERVER = "localhost:3121"  # the JTAG hardware server (hw_server) the programming steps reach, by default on this host
HW_SERVER_ENV = "HW_SERVER"  # HOST:PORT of another one (make program hw_server=HOST:PORT sets it)


def hw_server_url(tool: Literal["xsdb", "vivado"]) -> str:
    """The hw_server URL for xsdb/xsct (`connect -url TCP:HOST:PORT`) or Vivado's hardware manager
    (`connect_hw_server -url HOST:PORT`): $HW_SERVER (HOST:PORT, a leading TCP: allowed), else localhost:3121."""
    given = os.environ.get(HW_SERVER_ENV, "").strip() or HW_SERVER
    address = given[4:] if given.upper().startswith("TCP:") else given
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536 or any(c.isspace() for c in host):
        raise ConfigError(f"{HW_SERVER_ENV}={given}: give the hw_server as HOST:PORT (e.g. 192.168.1.5:3121)")
    return f"TCP:{host}:{port}" if tool == "xsdb" else f"{host}:{port}"


@dataclass(frozen=True)
class Step:
    """One run of a vendor tool: `tool` with `args`; `needs`: other tools it calls."""

    what: str
    tool: str
    args: list[str]
    needs: tuple[str, ...] = ()
    log: Path | None = None

    @property
    def command(self) -> list[str]:
        return [self.tool, *self.args]

    @property
    def tools(self) -> tuple[str, ...]:
        return (self.tool, *self.needs)


def require(needs: list[tuple[str, str]]) -> None:
    """Raise ToolMissing for the (tool, what) pairs whose tool is not on PATH, all of them at once;
    then ReleaseMismatch where one is from another Vivado/Vitis release than the scripts' (common/vendor_release.py)."""
    missing = [(tool, what) for tool, what in needs if shutil.which(tool) is None]
    if missing:
        tools = sorted({tool for tool, _ in missing})
        raise ToolMissing(tools, "; ".join(dict.fromkeys(f"{what} ({tool})" for tool, what in missing)))
    vendor_release.check([tool for tool, _ in needs], "; ".join(dict.fromkeys(what for _, what in needs)))


def run(step: Step, cwd: Path) -> None:
    """Run a vendor step (ToolMissing where its tools are not on PATH); its output goes to step.log."""
    require([(tool, step.what) for tool in step.tools])
    cwd.mkdir(parents=True, exist_ok=True)
    out = step.log or cwd / f"{step.tool}.log"
    log.info("%s: %s", step.what, " ".join(step.command))
    with open(out, "w") as f:
        code = subprocess.run(step.command, cwd=cwd, stdout=f, stderr=subprocess.STDOUT).returncode
    if code != 0:
        tail = out.read_text(errors="replace")[-3000:]
        raise BuildError(f"{step.what} failed ({step.tool} exit {code}); log {out}:\n{tail}")


def vivado_batch(script: Path, script_args: list[str], what: str, log_file: Path, needs: tuple[str, ...] = ()) -> Step:
    """`vivado -mode batch -source script -tclargs ...`: Vivado's log in log_file, its output beside it (.out)."""
    return Step(what, "vivado", ["-mode", "batch", "-nojournal", "-log", str(log_file), "-source", str(script),
                                 "-tclargs", *script_args], needs=needs, log=log_file.with_suffix(".out"))


def tclargs(values: Mapping[str, object]) -> list[str]:
    """-name value pairs as the scripts parse them (boards/common/vivado/tclargs.tcl)."""
    return [word for name, value in values.items() for word in (f"-{name}", str(value))]


def tcl_list(items) -> str:
    """A Tcl list of the items, each braced where Tcl would split or substitute it."""
    def word(item) -> str:
        text = str(item)
        if text and not re.search(r"[\s{}\[\]$\"\\;]", text):
            return text
        if "{" in text or "}" in text or "\\" in text:
            raise ConfigError(f"cannot pass '{text}' to Tcl safely (braces or backslashes)")
        return "{" + text + "}"
    return " ".join(word(i) for i in items)


def hexa(value: int) -> str:
    return f"0x{value:08X}"


def address_range(text: str) -> int:
    """An address range as Vivado writes it: 65536, 0x10000, 64K, 256M or 1G."""
    scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:].upper(), 1)
    return int(text[:-1] if scale > 1 else text, 0) * scale
