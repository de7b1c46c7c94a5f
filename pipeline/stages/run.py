"""run: the runner on the DUT (emulated, QEMU, or a board on a port) in every asked mode, one
connection per build variant and baud rate; each result is labelled with its provenance. What to
connect is described here from the flow; runner.connect connects it. A DUT must report the build
stage's key in its `profile` (the firmware has it compiled in): one holding another build (another
flow's, or an older one still on a board) is refused. For a board, what `python -m pipeline program`
put on it (programmed.json: bitstream and ELF digests) is recorded with the run, and keys it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.flow import Flow
from pipeline.stages.stage import Stage

if TYPE_CHECKING:
    from common.provenance import Timing
    from runner.connect import ConnectSpec, ModeGroup


def _programmed(f: Flow) -> dict | None:
    """What `python -m pipeline program` last put on the board through this flow (pipeline/cli.py
    programs from <flow root>/vivado), or None: not a board, or nothing recorded."""
    from boards.vendor.program import programmed

    return None if f.dut in ("emulated", "qemu") else programmed(f.root / "vivado")


def _run_params(f: Flow) -> dict:
    # a board programmed again is another run: what is on it keys the run
    on_board = _programmed(f)
    return {"dut": f.dut, "timing": f.timing, "modes": f.modes, "iterations": f.iterations, "window_seconds": f.window_seconds,
            **f.testset_params(), **({"programmed": on_board["files"]} if on_board else {})}


def _connection(f: Flow, group: ModeGroup) -> ConnectSpec:
    """What the flow asks for one group of modes: its DUT in the group's build, and for energy mode
    the simulated LPM01A fed the board's power model (the flow allows energy on the emulated board only)."""
    from runner.connect import ConnectSpec, MonitorSpec

    monitor = MonitorSpec("simulated", power_w=f.board_cfg.power.model_w) if group.variant == "energy" else None
    timing: Timing | None = "modeled" if f.timing == "modeled" else None
    if f.dut == "emulated":
        return ConnectSpec("emulated", binary=f.emulated_dut(group.variant), variant=group.variant, baud=group.baud,
                           monitor=monitor, timing=timing)
    if f.dut == "qemu":
        assert f.board_cfg.firmware is not None and f.board_cfg.firmware.qemu is not None  # qemu_firmware() checked it
        return ConnectSpec("qemu", binary=f.qemu_firmware(group.variant), command=tuple(f.board_cfg.firmware.qemu.command),
                           variant=group.variant, baud=group.baud, monitor=monitor, timing=timing)
    url = f.port if f.dut == "usb" else f.dut  # dut=usb: the port Flow.check_dut found by board.yaml's USB id
    assert url is not None  # run_stages calls check_dut before the run stage
    return ConnectSpec("port", url=url, variant=group.variant, baud=group.baud, monitor=monitor, timing=timing)


def _run(f: Flow, out: Path) -> dict:
    import math

    from runner import cli as runner_cli
    from runner.connect import connect, group_modes

    data_kind = f.eembc_kind()
    eembc = f.eembc()
    build_key = f.manifest("build")["key"]  # the DUT must report it (runner/dut.py Identity.check_build)
    summaries = {}
    for group in group_modes(f.modes, lambda mode: (None, getattr(f.board_cfg.uart.baud, mode))):
        iterations = f.iterations
        if group.variant == "energy":  # modeled: >= 1 s of the modeled board's time per trial (1 ms samples: 0.1 % at worst)
            iterations = math.ceil(1e6 / f.manifest("build")["outputs"]["modeled_latency"]["modeled_latency_us"])
        with connect(_connection(f, group)) as connection:
            provenance = connection.provenance(data=data_kind, model_origin=f.model_origin())
            summaries.update(runner_cli.run(connection.url, eembc, out, group.modes, provenance, connection.baud, iterations, 10,
                                            f.window_seconds, resume=f.resume, model_id=f.recipe.model_id,
                                            monitor=connection.monitor, expect_build=build_key))
    on_board = _programmed(f)
    return {**summaries, "flow": {"task": f.task, "flow": f.flow, "board": f.board, "model": f.model},
            **({"programmed": on_board} if on_board else {}), "artifacts": {mode: mode for mode in f.modes}}


# the runner's code, and this module's own (_connection is not one of the stage's functions)
STAGE = Stage("run", _run_params, lambda f: {"modules": ["runner.cli", "runner.connect", "boards.vendor.program"],
                                            "files": ["pipeline/stages/run.py"]},
              ["build"], _run)
