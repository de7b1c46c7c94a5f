"""Record the MLCommons runner driving the project's emulated DUT: the golden files of
tests/test_golden.py. Run once where a checkout of mlcommons/tiny is available (its code is run,
never copied); the MLC runner's output files and the DUT conversation are kept as data.

    .venv/bin/python tests/golden/record_mlc.py TINY_CHECKOUT/benchmark/runner build/ad/hls4ml/pynq_z2/build/dut_host

It needs pyserial, pyyaml, numpy, scikit-learn and matplotlib (all in the project's venv); pyusb
is replaced by an empty stand-in, and pyserial's port list shows the recorder's pty with the
VID:PID of the DUT entry in the devices file, since a pty has no USB identity.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from runner.emulated import emulated_dut  # noqa: E402
from tests.golden import replay  # noqa: E402

HERE = Path(__file__).resolve().parent / "mlc"
# case -> (MLC runner mode letter, its ad01 test script)
CASES = {
    "accuracy": ("a", "- loop:\n  - download\n  - infer 1 0"),
    "performance_error2": ("p", "- loop 5:\n  - download\n  - infer 100 10"),
    "performance": ("p", "- loop 5:\n  - download\n  - infer 2200 10"),  # infer time alone > 10 s
}

LAUNCHER = """
import runpy, sys, types
runner_dir, port = sys.argv[1], sys.argv[2]
sys.path.insert(0, runner_dir)
import serial.tools.list_ports as list_ports
class Port:
    device, vid, pid, description = port, 0x0403, 0x6010, "emulated DUT (recorder pty)"
list_ports.comports = lambda include_links=False: [Port()]
usb = types.ModuleType("usb"); usb.core = types.ModuleType("usb.core"); usb.core.find = lambda **kw: []
sys.modules["usb"], sys.modules["usb.core"] = usb, usb.core
sys.argv = ["main.py"] + sys.argv[3:]
runpy.run_path(runner_dir + "/main.py", run_name="__main__")
"""


def make_dataset(folder: Path) -> None:
    """Six small ad01 files (8 frames: 4 windows each), three normal, three louder 'anomalies'."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.Generator(np.random.MT19937(20261126))
    rows = []
    for i in range(6):
        anomalous = i >= 3
        x = rng.normal(-30.0, 5.0 * (1 + anomalous), size=(8, 128)).astype("<f4")
        name = f"{'anomaly' if anomalous else 'normal'}_id_01_{i:08d}_hist_librosa.bin"
        (folder / name).write_bytes(x.tobytes())
        rows.append(f"{name},2,{int(anomalous)},2560,512")
    (folder / "y_labels.csv").write_text("\n".join(rows) + "\n")


def record(runner_dir: Path, dut_binary: Path) -> None:
    make_dataset(HERE / "dataset" / "ad01")
    for case, (mode, script) in CASES.items():
        with tempfile.TemporaryDirectory() as tmp, emulated_dut(dut_binary) as url:
            tmp = Path(tmp)
            (tmp / "devices.yaml").write_text("- name: dut\n  type: dut\n  baud: 115200\n  usb:\n    0x0403: 0x6010\n")
            (tmp / "tests.yaml").write_text("ad01:\n  name: anomaly_detection\n  model: ad01\n  truth_file: y_labels.csv\n"
                                            "  script:\n" + textwrap.indent(script, "    ") + "\n")
            (tmp / "launch.py").write_text(LAUNCHER)
            recorder = replay.Recorder(url)
            try:
                subprocess.run([sys.executable, "launch.py", str(runner_dir), recorder.host_port, "-d", "devices.yaml",
                                "-t", "tests.yaml", "-s", str(HERE / "dataset"), "-m", mode], cwd=tmp, check=True,
                               stdout=subprocess.DEVNULL)
                time.sleep(0.2)
            finally:
                recorder.close()
            session = next((tmp / "sessions").iterdir())
            out = HERE / case
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            for name in ("log.txt", "results.txt", "results.json"):
                shutil.copy(session / name, out / name)
            replay.save(out / "conversation.json", recorder.exchanges)
            print(f"{case}: {len(recorder.exchanges)} exchanges -> {out}")


if __name__ == "__main__":
    record(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve())
