"""Start the DUT on a Pynq-Z2 running PYNQ Linux: load the accelerator's bitstream with the pynq
package's Overlay, take a physically contiguous, uncached buffer for the accelerator's data movers
with pynq.allocate, and run the DUT program on the board's UART with that buffer (--dma PHYS:BYTES)
until it ends; the buffer is this process's, so it stays alive as long as the DUT runs.

    sudo python3 run_dut.py --bitfile accel.bit --program ./dut_pynq_z2_linux [--uart /dev/ttyPS0]
                            [--gpio /dev/gpiochip0:12] [--dma-bytes 1048576]

The USB-UART (ttyPS0) is PYNQ's login console: stop its getty first
(`sudo systemctl stop serial-getty@ttyPS0`), so the runner on the host talks to the DUT alone.
Runs with the board's own Python (pynq is installed there); nothing of this repository is imported.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bitfile", type=Path, required=True, help="the accelerator design (its .hwh beside it)")
    p.add_argument("--program", type=Path, required=True, help="the DUT program built for PYNQ Linux")
    p.add_argument("--uart", default="/dev/ttyPS0", help="the UART the runner is on (default: %(default)s)")
    p.add_argument("--gpio", help="CHIP:LINE of the energy-mode timestamp pin, e.g. /dev/gpiochip0:12")
    p.add_argument("--dma-bytes", type=int, default=1 << 20, help="the data movers' buffer (default: %(default)s)")
    args = p.parse_args(argv)
    for what, path in (("bitfile", args.bitfile), ("program", args.program)):
        if not path.is_file():
            print(f"run_dut: --{what} {path}: no such file", file=sys.stderr)
            return 2
    try:
        from pynq import Overlay, allocate
    except ImportError:
        print("run_dut: the pynq package is missing: run this on the board's PYNQ image (its Python has pynq)",
              file=sys.stderr)
        return 2
    Overlay(str(args.bitfile))  # programs the PL and its clocks
    buffer = allocate(shape=(args.dma_bytes,), dtype="u1", cacheable=False)
    command = [str(args.program), "--uart", args.uart, *(["--gpio", args.gpio] if args.gpio else []),
               "--dma", f"{buffer.device_address:x}:{args.dma_bytes}"]
    try:
        return subprocess.call(command)
    finally:
        buffer.freebuffer()


if __name__ == "__main__":
    sys.exit(main())
