"""What the vendor-step tests share: the Tcl harness that runs a board script under tclsh with
recording stand-ins for Vivado's and xsct's commands, and readers of what it recorded."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from boards import board
from boards.vendor import ip, steps

REPO = Path(__file__).resolve().parent.parent.parent
# the boards' scripts, the Zynq boards' (common/zynq7000/vivado) and the shared common/vivado/*.tcl
SCRIPTS = sorted((REPO / "boards").glob("**/vivado/*.tcl"))
TCLSH = shutil.which("tclsh")
needs_tclsh = pytest.mark.skipif(TCLSH is None, reason="tclsh not found (Debian package tcl): Tcl checks skipped")


HLS4ML_IP = ip.BlockDesignIp([Path("/ips/hls4ml")], "xilinx.com:hls:accel_axis:1.0", "in_r", "out_r", last_after=640)
FINN_IP = ip.BlockDesignIp([Path("/ips/finn")], "xilinx_finn:finn:finn_design:1.0", "s_axis_0", "m_axis_0", last_after=12)

# Vivado's and xsct's commands as recording stand-ins: each call is logged as a Tcl list; get_property
# answers from a table ("PROPERTY OBJECT" first, then "PROPERTY"), get_*/create_* return the object
# they name, everything else returns "".
HARNESS = r"""
lassign $argv log_file ::properties required script
set ::argv [lrange $argv 4 end]
set ::log [open $log_file w]
proc stub {cmd args} {
    puts $::log [list $cmd {*}$args]
    flush $::log
    switch -glob -- $cmd {
        get_property {
            foreach key [list "[lindex $args 0] [lindex $args 1]" [lindex $args 0]] {
                if {[dict exists $::properties $key]} { return [dict get $::properties $key] }
            }
            return ""
        }
        get_* - create_* - current_* - make_* - hsi::open_hw_design { return [named $args] }
        default { return "" }
    }
}
# the object a get_/create_ command names: its last word that is neither a flag nor a flag's value
proc named {words} {
    set name ""
    for {set i 0} {$i < [llength $words]} {incr i} {
        set word [lindex $words $i]
        if {$word in {-filter -type -vlnv -dir -from -to -mode -rule -config -board_interface -ip_intf -diagram}} {
            incr i
        } elseif {[string index $word 0] ne "-"} {
            set name $word
        }
    }
    return $name
}
foreach cmd $required {
    if {[namespace qualifiers $cmd] ne ""} { namespace eval [namespace qualifiers $cmd] {} }
    proc $cmd args "stub $cmd {*}\$args"
}
proc unknown {cmd args} { stub $cmd {*}$args }
rename exec tcl_exec
proc exec args { stub exec {*}$args }
rename after tcl_after
proc after args { stub after {*}$args }
proc auto_execok name { return /opt/vivado/bin/$name }
source $script
"""



def run_script(script: Path, args: list[str], tmp: Path, properties: dict[str, object] | None = None):
    """Run a board script under tclsh with Vivado's commands recorded: (exit code, stderr, calls)."""
    harness, log = tmp / "harness.tcl", tmp / "calls.log"
    harness.write_text(HARNESS)
    required = re.search(r"require_tool \w+ \S+ \{([^}]*)\}", script.read_text()).group(1)
    table = " ".join(f"{{{k}}} {{{v}}}" for k, v in (properties or {}).items())
    proc = subprocess.run([TCLSH, str(harness), str(log), table, required, str(script), *args], capture_output=True,
                          text=True, timeout=30)
    calls = log.read_text().splitlines() if log.exists() else []
    return proc.returncode, proc.stdout + proc.stderr, calls


def design_properties(run_dir: Path, in_bytes: int = 4, out_bytes: int = 4, system_hz: int = 83333333,
                      mig_sys_hz: int = 166666667) -> dict:
    """What the stand-ins answer for the block design: the clocks (the MIG preset's input clock, the
    clocking wizard's system clock), the accelerator's stream widths, a finished run."""
    (run_dir / "impl_1").mkdir(parents=True, exist_ok=True)
    for name in ("mb_system", "mb_system_energy"):
        (run_dir / "impl_1" / f"{name}_wrapper.bit").write_bytes(b"bitstream of the recorded run")
    return {"CONFIG.FREQ_HZ clk_wiz_0/clk_out3": system_hz, "CONFIG.FREQ_HZ sys_clk_i": mig_sys_hz,
            "CONFIG.FREQ_HZ clk_ref_i": 200000000,
            "CONFIG.TDATA_NUM_BYTES accel/in_r": in_bytes, "CONFIG.TDATA_NUM_BYTES accel/out_r": out_bytes,
            "CONFIG.TDATA_NUM_BYTES accel/s_axis_0": in_bytes, "CONFIG.TDATA_NUM_BYTES accel/m_axis_0": out_bytes,
            "PROGRESS": "100%", "STATS.WNS": 0.25, "DIRECTORY": run_dir / "impl_1"}


def calls_of(calls: list[str], command: str) -> list[str]:
    return [c for c in calls if c.split(" ", 1)[0] == command]


def script_arguments(script: Path) -> tuple[set[str], set[str]]:
    """(required, optional) argument names of a board script's parse_tclargs call."""
    found = re.search(r"parse_tclargs \$argv \{([^}]*)\}(?: \{([^}]*(?:\{\}[^}]*)*)\})?\]", script.read_text())
    required = set(found.group(1).split())
    optional = found.group(2) or ""
    optional_names = set(optional.replace("{}", "EMPTY").split()[0::2])
    return required, optional_names


def tclargs_of(step: steps.Step) -> list[str]:
    return step.args[step.args.index("-tclargs") + 1:]


def names(args: list[str]) -> set[str]:
    return {a[1:] for a in args[0::2]}


def zynq_board(tmp: Path, **changes) -> board.Board:
    """The Pynq-Z2's description as a board of our own Zynq design (vivado.zynq_system, plan
    zynq_system; no toolchain shell): the Zynq design's arguments come from it. `changes`: dotted
    keys to set first, e.g. {"firmware.defines.GTIMER_HZ": 1}."""
    raw = yaml.safe_load((REPO / "boards/pynq_z2/board.yaml").read_text())
    raw["vivado"].update(finn_board=None, plan="zynq_system",
                         zynq_system={"uart": 0, "pins": {"energy_uart_tx": "Y18", "energy_uart_rx": "Y19"}})
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node = raw
        for key in parents:
            node = node[key]
        node[leaf] = value
    path = tmp / "zynq_board.yaml"
    path.write_text(yaml.safe_dump(raw))
    return board.load("pynq_z2", path)
