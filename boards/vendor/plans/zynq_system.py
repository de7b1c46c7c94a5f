"""Programming a Zynq-7000 board with our own Zynq design around the accelerator IP (board.yaml
vivado.zynq_system), for a Zynq board no toolchain has a shell for: the design, its bitstream and
hardware platform (built again only when its inputs change; the energy design routes the PS UART
to Pmod pins), then over JTAG the bitstream, ps7_init and the firmware ELF, or BOOT.BIN (FSBL,
bitstream, firmware) into the QSPI flash."""

from __future__ import annotations

import json
from pathlib import Path

from boards.board import Board
from boards.vendor.ip import block_design_ip, newest
from boards.vendor.plans import Plan, toolchain
from boards.vendor.steps import run
from boards.vendor.zynq import boot_actions
from boards.vendor.zynq_design import block_design_step, check_addresses, design_files, zynq_system


def plan(board: Board, out: Path, energy: bool, flash: bool) -> Plan:
    zynq_system(board)  # this kind is our Zynq design: board.yaml vivado.zynq_system describes it
    p = Plan()
    files = design_files(out / ("zynq_system_energy" if energy else "zynq_system"), energy)
    stamp = files.folder / "inputs.json"

    def design(ctx: dict) -> None:  # built again only when its inputs change
        ip = block_design_ip(toolchain(ctx).vendor_ip(board, ctx["artifacts"], ctx.get("convert_dir")))
        step = block_design_step(board, ip, files.folder, energy)
        inputs = {"args": step.args[step.args.index("-tclargs") + 1:], "ip": newest(ip)}
        if not (files.bit.is_file() and stamp.is_file() and json.loads(stamp.read_text()) == inputs):
            run(step, files.folder)
            check_addresses(files.addresses, board)
            stamp.write_text(json.dumps(inputs))

    p.tools.append(("vivado", f"the {board.name} Zynq design and bitstream"))
    p.actions.append(("Zynq design", design))
    return boot_actions(p, board, out / ("boot_energy" if energy else "boot"), files.xsa, lambda ctx: files.bit, energy, flash)
