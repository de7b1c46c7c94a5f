"""run: the runner on the DUT (emulated, QEMU, or a board on a port) in every asked mode, one
connection per build variant and baud rate; each result is labelled with its provenance."""

from __future__ import annotations

from pathlib import Path

from common import provenance as prov
from pipeline.flow import Flow
from pipeline.stages.stage import Stage


def _run_params(f: Flow) -> dict:
    return {"dut": f.dut, "timing": f.timing, "modes": f.modes, "iterations": f.iterations, "window_seconds": f.window_seconds,
            **f.testset_params()}


def _run(f: Flow, out: Path) -> dict:
    import contextlib
    import math

    from runner import cli as runner_cli
    from runner.connect import group_modes
    from runner.emulated import emulated_dut
    from runner.monitors import lpm01a, simulated
    from runner.qemu import qemu_dut

    data_kind = f.eembc_kind()
    eembc = f.eembc()
    summaries = {}
    for group in group_modes(f.modes, lambda mode: (None, getattr(f.board_cfg.uart.baud, mode))):
        variant, baud, modes = group.variant, group.baud, group.modes
        sim = simulated.SimulatedLpm01a(f.board_cfg.power.model_w) if variant == "energy" else None
        iterations = f.iterations
        if f.dut == "emulated":
            context, made = emulated_dut(f.emulated_dut(variant), on_timestamp=sim and sim.pin_falling), prov.emulated
        elif f.dut == "qemu":
            context, made = qemu_dut(f.qemu_firmware(variant), f.board_cfg.firmware.qemu.command), prov.qemu
        else:
            context, made = contextlib.nullcontext(f.dut), prov.board
        if sim:  # modeled energy: at least 1 s of the modeled board's time per trial (1 ms samples: 0.1 % at worst)
            iterations = math.ceil(1e6 / f.manifest("build")["outputs"]["modeled_latency"]["modeled_latency_us"])
        with context as url:
            provenance = made(data=data_kind, model_origin=f.model_origin(), port=url)
            if f.timing == "modeled":
                provenance = provenance.model_copy(update={"timing": "modeled"})
            monitor = lpm01a.Lpm01a(sim.path) if sim else None
            try:
                if monitor:
                    monitor.start()
                summaries.update(runner_cli.run(url, eembc, out, modes, provenance, baud, iterations, 10, f.window_seconds,
                                                resume=f.resume, model_id=f.recipe.model_id, monitor=monitor))
            finally:
                if monitor:
                    monitor.close()
                    sim.close()
    return {**summaries, "flow": {"task": f.task, "flow": f.flow, "board": f.board, "model": f.model},
            "artifacts": {mode: mode for mode in f.modes}}


STAGE = Stage("run", _run_params, lambda f: {"modules": ["runner.cli", "runner.qemu", "runner.monitors.lpm01a",
                                                 "runner.monitors.simulated"]}, ["build"], _run)
