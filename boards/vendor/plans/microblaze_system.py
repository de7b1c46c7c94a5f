"""Programming a board with our MicroBlaze block design around the accelerator IP (board.yaml
vivado.system; the Arty A7): the block design and bitstream (built again only when its inputs
change), then over JTAG the bitstream and the firmware ELF, or into the configuration flash the
bitstream with the bootloader in its BRAM and the firmware image after it."""

from __future__ import annotations

import json
from pathlib import Path

from boards.board import Board
from boards.vendor.board_values import device, system
from boards.vendor.bootloader import build_bootloader
from boards.vendor.images import write_flash_image
from boards.vendor.ip import block_design_ip, newest
from boards.vendor.microblaze_design import SystemFiles, block_design_step, check_addresses, system_files
from boards.vendor.plans import Plan, firmware_elf, toolchain
from boards.vendor.steps import Step, hexa, hw_server_url, run, tclargs, vivado_batch


def flash_step(board: Board, files: SystemFiles, bootloader: Path, image: Path, mcs: Path) -> Step:
    flash = system(board).flash
    return vivado_batch(board.folder / "vivado" / "flash.tcl", tclargs({
        "bit": files.bit, "mmi": files.mmi, "processor": files.processor, "bootloader": bootloader, "image": image,
        "image_offset": hexa(flash.image_offset), "size_mb": flash.size_mb, "mcs": mcs}),
        f"the {board.name} flash contents (bitstream + bootloader + firmware image)", mcs.with_suffix(".log"),
        needs=("updatemem",))


def program_flash_step(board: Board, mcs: Path, hw_server: str | None = None) -> Step:
    return vivado_batch(board.folder / "vivado" / "program_flash.tcl", tclargs({
        "mcs": mcs, "device": device(board), "cfgmem_part": system(board).flash.cfgmem_part,
        "hw_server": hw_server or hw_server_url("vivado")}),
        f"writing the {board.name} flash over JTAG", mcs.with_name("program_flash.log"))


def arty_jtag_step(board: Board, bit: Path, elf: Path, hw_server: str | None = None) -> Step:
    return Step(f"programming the {board.name} over JTAG", "xsct", [str(board.folder / "vivado" / "program_jtag.tcl"),
                *tclargs({"bit": bit, "elf": elf, "device": device(board), "hw_server": hw_server or hw_server_url("xsdb")})])


def plan(board: Board, out: Path, energy: bool, flash: bool) -> Plan:
    system(board)  # this kind is our block design: board.yaml vivado.system describes it
    p = Plan()
    files = system_files(out / ("system_energy" if energy else "system"), energy)
    stamp = files.folder / "inputs.json"

    def design(ctx: dict) -> None:  # built again only when its inputs change
        ip = block_design_ip(toolchain(ctx).vendor_ip(board, ctx["artifacts"], ctx.get("convert_dir")))
        step = block_design_step(board, ip, files.folder, energy)
        inputs = {"args": step.args[step.args.index("-tclargs") + 1:], "ip": newest(ip)}
        if not (files.bit.is_file() and stamp.is_file() and json.loads(stamp.read_text()) == inputs):
            run(step, files.folder)
            check_addresses(files.addresses, board, energy)
            stamp.write_text(json.dumps(inputs))

    p.tools.append(("vivado", f"the {board.name} block design and bitstream"))
    p.actions.append(("block design", design))
    p.bitstream = lambda ctx: files.bit
    if not flash:
        p.tools.append(("xsct", f"programming the {board.name} over JTAG"))
        p.actions.append(("JTAG", lambda ctx: run(
            arty_jtag_step(board, files.bit, firmware_elf(board, ctx["artifacts"], energy)), out)))
        return p
    folder = out / ("flash_energy" if energy else "flash")
    p.tools += [("updatemem", f"the {board.name} flash contents"), ("vivado", f"writing the {board.name} flash")]

    def contents(ctx: dict) -> None:
        boot = build_bootloader(board, folder)
        image = write_flash_image(firmware_elf(board, ctx["artifacts"], energy), folder / "firmware.img", board)
        run(flash_step(board, files, boot, image.path, folder / "flash.mcs"), folder)

    p.actions += [("flash contents", contents),
                  ("flash", lambda ctx: run(program_flash_step(board, folder / "flash.mcs"), folder))]
    return p

