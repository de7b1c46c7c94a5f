"""A run made with the runner's command line on a board is a run the export takes (issue 20, item 3): the
runner leaves <out>/manifest.json (runner/run_manifest.py) naming what the DUT said it is (its build key
and m-platform line), and `python -m results export --run <out>` ties it to the build stage with that key
for performance, accuracy and energy, including energy measured in a second run into the same folder.
A DUT that says it is an emulation (or QEMU), or says nothing, stays refused. Real ptys: a scripted DUT
speaking our firmware's `profile` lines, the simulated LPM01A for the energy trials, real files."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from boards import board as boards
from results import official
from results.cli import main as results_main
from runner.cli import main as runner_main
from runner.monitors.simulated import SimulatedLpm01a
from tests.fake_dut import READY, FakeDut
from tests.runs import make_run

VENDOR_NAME = boards.load("pynq_z2").vendor_name


class OurFirmware(FakeDut):
    """A DUT answering `profile` as this harness's firmware does (ee_core.h): the build key it was made
    with, what it is, and its clock. With a monitor it is the energy build: no m-lap-us, its timestamp
    pin falls at the start and the end of the timed loop (the simulated LPM01A turns that into samples)."""

    def __init__(self, build: str | None, platform: str | None = "board", monitor: SimulatedLpm01a | None = None,
                 pace: float = 0.0, **kw):
        """pace: host seconds per second of its clock (the run rules want 10 s of the host's time over the 5
        performance windows: 0.2 gives that with 2.4 s per window)."""
        self.build, self.platform, self.monitor, self.pace = build, platform, monitor, pace
        # a score per file from its first byte (the file's index): files of class 1 score higher
        super().__init__(score=lambda data: f"{0.5 + data[0] % 2:.1f}", laps=monitor is None, name=VENDOR_NAME, **kw)

    def answer(self, command: str) -> bytes:
        words = command.split()
        if words[:1] == ["profile"]:
            lines = [f"m-build-[{self.build}]"] if self.build else []
            lines += [f"m-platform-[{self.platform}]"] if self.platform else []
            return super().answer(command).replace(READY, "".join(f"{x}\r\n" for x in [*lines, "m-timing-[clock]"]).encode()
                                                   + READY)
        if words[:1] == ["infer"]:
            n, w = int(words[1]), int(words[2])
            time.sleep(self.pace * n * self.us / 1e6)
            if self.monitor is not None:
                start = self.clock + w * self.us
                self.monitor.pin_falling(start)
                self.monitor.pin_falling(start + n * self.us)
        return super().answer(command)


def _official_ad_alt(root: Path) -> Path:
    """An ad01 folder holding exactly the 72 files of the official alternative list (one 2560-byte
    window each; the first byte says the file's class, which OurFirmware scores by)."""
    folder = root / "ad01"
    folder.mkdir(parents=True)
    rows = []
    for name, label in official.load("ad01_alt").labels.items():
        (folder / name).write_bytes(bytes([label]) + bytes(2559))
        rows.append(f"{name},2,{label},2560,512")
    (folder / "y_labels.csv").write_text("\n".join(rows) + "\n")
    return root


@pytest.fixture
def bench(tmp_path):
    """A build tree with the ad/hls4ml/pynq_z2 build stage (and its convert and train stages), its key,
    the official test folder, and the DUTs and monitors made, closed afterwards."""
    build_root = tmp_path / "build"
    pipeline_run = make_run(build_root)  # writes the build stage beside it; its own run folder is not used here
    key = json.loads((pipeline_run.parent / "build" / "manifest.json").read_text())["key"]
    made: list = []
    yield {"root": build_root, "key": key, "data": _official_ad_alt(tmp_path / "data"), "made": made, "tmp": tmp_path}
    for thing in made:
        thing.close()


def _dut(bench, **kw) -> OurFirmware:
    dut = OurFirmware(**{"build": bench["key"], **kw})
    bench["made"].append(dut)
    return dut


QUICK = 1  # the runner's exit status for a DUT answering at once: performance's ERROR 2 (its windows took no host time)


def _runner(bench, dut: OurFirmware, out: Path, *modes: str, extra: tuple[str, ...] = ()) -> int:
    return runner_main(["--port", dut.port, "--dataset", str(bench["data"]), "--data-kind", "real", "--out", str(out),
                        "--mode", *modes, *extra])


def _export(bench, out: Path, *extra: str) -> int:
    return results_main(["export", "--run", str(out), "--organization", "ourorg", "--out", str(bench["tmp"] / "submission"),
                         "--build-root", str(bench["root"]), *extra])


def _energy_run(bench, out: Path) -> int:
    monitor = SimulatedLpm01a(1.75)
    bench["made"].append(monitor)
    return _runner(bench, _dut(bench, monitor=monitor), out, "e", extra=("--monitor", monitor.path))


def test_a_board_run_of_the_runner_exports_performance_accuracy_and_energy(bench, capsys):
    out = bench["tmp"] / "runs" / "board"
    assert _runner(bench, _dut(bench, pace=0.2), out, "p", "a") == 0
    m = json.loads((out / "manifest.json").read_text())
    assert (m["stage"], m["status"], m["made_by"]) == ("run", "done", "python -m runner")
    assert m["outputs"]["build"] == bench["key"] and m["inputs"]["upstream"] == {"build": bench["key"]}
    assert m["outputs"]["platform"] == "board" and m["outputs"]["provenance"]["link"] == "board"
    assert m["outputs"]["artifacts"] == {"performance": "performance", "accuracy": "accuracy"}
    assert m["inputs"]["params"]["testset"] == str((bench["data"] / "ad01").resolve())
    # energy through the interface board's wiring is another run into the same folder: the record keeps both
    assert _energy_run(bench, out) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert sorted(m["outputs"]["artifacts"]) == ["accuracy", "energy", "performance"]
    assert m["inputs"]["params"]["modes"] == ["performance", "accuracy", "energy"]
    assert set(m["inputs"]["params"]["commands"]) == {"performance", "accuracy", "energy"}
    capsys.readouterr()
    assert _export(bench, out) == 0, capsys.readouterr().err
    tree = bench["tmp"] / "submission" / "open" / "ourorg"
    results = tree / "results" / "pynq_z2-hls4ml" / "ad"
    assert sorted(p.name for p in results.iterdir()) == ["accuracy", "energy", "performance"]
    assert (results / "energy" / "results.txt").read_bytes() == (out / "energy" / "results.txt").read_bytes()
    readme = (tree / "code" / "ad" / "pynq_z2-hls4ml" / "README.md").read_text()
    assert "python -m runner --port" in readme and "--mode e" in readme
    assert json.loads((tree / "code" / "ad" / "pynq_z2-hls4ml" / "manifests" / "run.json").read_text())["made_by"] == \
        "python -m runner"
    system = json.loads((tree / "systems" / "pynq_z2-hls4ml.json").read_text())
    assert system["Operating System"] == "none (bare metal)"
    assert "checker: submission looks OK" in capsys.readouterr().out


@pytest.mark.parametrize("platform, reason", [
    ("host-emulation", "not a physical board but an emulated DUT"),
    ("qemu", "not a physical board but an emulation: firmware in QEMU"),
])
def test_an_emulated_dut_run_of_the_runner_stays_refused(bench, capsys, platform, reason):
    """Started by hand on a port (the runner's --dut-kind defaults to board), the DUT's own m-platform line decides."""
    out = bench["tmp"] / "runs" / platform
    assert _runner(bench, _dut(bench, platform=platform), out, "p", "a") == QUICK
    assert json.loads((out / "manifest.json").read_text())["outputs"]["provenance"]["link"] == platform
    capsys.readouterr()
    assert _export(bench, out) == 1
    err = capsys.readouterr().err
    assert reason in err and "not exported" in err
    assert not (bench["tmp"] / "submission" / "open" / "ourorg").exists()
    assert _export(bench, out, "--dry-run") == 1  # written as practice, and the checker names it not valid
    assert "PRACTICE" in (bench["tmp"] / "submission" / "open" / "ourorg" / "README.md").read_text()


def test_a_dut_that_does_not_say_it_is_a_board_is_refused(bench, capsys):
    out = bench["tmp"] / "runs" / "silent"
    assert _runner(bench, _dut(bench, platform=None), out, "p", "a") == QUICK
    capsys.readouterr()
    assert _export(bench, out) == 1
    assert "a run made with python -m runner is exported only from a DUT whose firmware reports m-platform-[board]" \
        in capsys.readouterr().err


@pytest.mark.parametrize("build, message", [
    (None, "the DUT reported no build key"),
    ("ab" * 32, "the DUT reported build abababababab, which no finished build stage under"),
])
def test_a_run_that_cannot_be_tied_to_a_build_is_a_one_line_error(bench, capsys, build, message):
    out = bench["tmp"] / "runs" / "unbuilt"
    assert _runner(bench, _dut(bench, build=build), out, "p", "a") == QUICK
    capsys.readouterr()
    assert _export(bench, out) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_modes_another_dut_made_in_the_same_folder_are_not_exported(bench, capsys):
    """Energy measured earlier into the folder on an emulated DUT: a later board run drops it from the record,
    says so, and the export takes only what the board made (its leftover folder is not exported)."""
    out = bench["tmp"] / "runs" / "mixed"
    monitor = SimulatedLpm01a(1.75)
    bench["made"].append(monitor)
    assert _runner(bench, _dut(bench, platform="host-emulation", monitor=monitor), out, "e",
                   extra=("--monitor", monitor.path)) == 0
    assert _runner(bench, _dut(bench), out, "p", "a") == QUICK
    assert "no longer lists energy" in capsys.readouterr().err
    m = json.loads((out / "manifest.json").read_text())
    assert "energy" not in m["outputs"]["artifacts"] and "energy" not in m["outputs"] and (out / "energy").is_dir()
    assert _export(bench, out, "--dry-run") == 1  # (performance's ERROR 2)
    assert not (bench["tmp"] / "submission" / "open" / "ourorg" / "results" / "pynq_z2-hls4ml" / "ad" / "energy").exists()


def test_a_mode_run_again_is_out_of_the_record_until_it_finishes(bench, capsys):
    """Interrupted halfway (the DUT unplugged), a mode run again is not named by the record, so the export
    never takes its half-rewritten folder for the earlier finished one."""
    out = bench["tmp"] / "runs" / "again"
    assert _runner(bench, _dut(bench), out, "p", "a") == QUICK
    dut = _dut(bench)
    dut.close()  # gone before the run: the runner's first command fails
    assert _runner(bench, dut, out, "a") == 1
    m = json.loads((out / "manifest.json").read_text())
    assert list(m["outputs"]["artifacts"]) == ["performance"] and "accuracy" not in m["outputs"]


def test_a_programming_record_of_another_build_is_refused(bench, capsys):
    from boards.vendor.program import write_programmed

    out = bench["tmp"] / "runs" / "reprogrammed"
    assert _runner(bench, _dut(bench), out, "p", "a") == QUICK
    bitstream = bench["tmp"] / "old.bit"
    bitstream.write_bytes(b"old")
    write_programmed(bench["root"] / "ad" / "hls4ml" / "pynq_z2" / "vivado", "pynq_z2", "performance", "JTAG", "cd" * 32,
                     {"bitstream": bitstream})
    capsys.readouterr()
    assert _export(bench, out) == 1
    assert "was last programmed with build cdcdcdcdcdcd, but the DUT reports build" in capsys.readouterr().err


def test_the_report_finds_runner_runs_in_their_default_place(bench, capsys):
    """make report lists every run: a runner run in <build root>/runs/<name> (runner --out's default place) is
    read with its flow from the build key; one that cannot be tied to a build is listed as broken, with why."""
    from results.runs import scan

    out = bench["root"] / "runs" / "20261204_230000"
    assert _runner(bench, _dut(bench, pace=0.2), out, "p") == 0
    stranger = bench["root"] / "runs" / "20261204_230500"
    assert _runner(bench, _dut(bench, build="f" * 64, pace=0.2), stranger, "p") == 0
    found = scan(bench["root"])
    mine = [r for r in found.runs if r.path == out.resolve()]
    assert len(mine) == 1 and (mine[0].task, mine[0].flow, mine[0].board) == ("ad", "hls4ml", "pynq_z2")
    assert [(path, "which no finished build stage" in why) for path, why in found.broken] == [(stranger, True)]
