"""Benchmark: the hls4ml-FINN paper's published MLPerf Tiny v0.7 designs through the harness, as the
yardstick of its latency and resource models (docs/fpga-reference.md 1 and 2.x; published figures from
results/published.yaml). One row per design and board: published latency (measured on hardware), the
harness's modeled latency (the accelerator's modeled cycles at the board's fabric clock + the board's
call overhead, boards/*/board.yaml), the difference, published vs modeled resources where published,
our accuracy (on which data) and the emulator's agreement.

    .venv/bin/python bench/paper_designs.py [--tiny-results DIR] [--build-root build]

DIR: mlcommons/tiny_results_v0.7 as a checkout, an extracted copy or its git directory (read with git
show); default $TINY_RESULTS_V07 or ../shared/tiny_results_v0.7. Without it the script says so and
exits 0 (nothing is downloaded). AD08 and RN07 are converted here with their own hls4ml choices
(tasks/published_designs.py) on the tasks' test sets (build/<task>/data: the data stage is run when
missing; synthetic here, as no real ToyCar or CIFAR-10 is on this machine); converts are kept under
build/bench/paper/. CNV-W1A1: its published .onnx is not in every copy (a mirror may leave it out), but
its architecture is the harness's own `task=ic flow=finn` model; that model, trained by the pipeline's
train stage (run it first: `python -m pipeline run --task ic --board pynq_z2 --flow finn --to train`),
goes through the harness's FINN convert with the published folding JSON mapped onto its layers
(toolchains/finn/folding_map.py), per board; its latency is given twice, FINN's critical path (the
harness's model: every layer's cycles added up) and the layers overlapping as in the hardware
(toolchains/finn/dataflow_latency.py). KWS-W3A3's row quotes toolchains/finn/README.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.paths import REPO, build_root  # noqa: E402

BOARDS = ("pynq_z2", "arty_a7")


def published() -> dict[tuple[str, str], dict]:
    rows = yaml.safe_load((REPO / "results" / "published.yaml").read_text())
    return {(r["model"], r["board"]): r for r in rows if r.get("round") == "v0.7"}


def test_set(task: str, root: Path):
    """The task's recipe and its EEMBC test folder (the data stage run if missing), and the data's kind."""
    from pipeline.execute import run_stages
    from pipeline.flow import Flow

    flow = Flow(task=task, board="pynq_z2", build_root=root, modes=["accuracy"])
    if flow.stage_dir("data").manifest() is None or flow.stage_dir("data").manifest().get("status") != "done":
        run_stages(flow, None, "data", False)
    return flow.recipe, flow.eembc(), flow.eembc_kind()


def convert_design(name: str, keras_model, inputs: np.ndarray, settings: dict, out: Path) -> dict:
    """hls4ml's conversion as the convert stage runs it (the emulator checked against the C simulation on
    every input), kept in `out` keyed by the settings and inputs."""
    from toolchains.hls4ml import convert
    from toolchains.hls4ml.settings import Hls4mlSettings

    key = {"settings": json.dumps(settings, sort_keys=True, default=str), "inputs": float(inputs.sum()), "n": len(inputs)}
    report_file = out / "report.json"
    if report_file.is_file():
        kept = json.loads(report_file.read_text())
        if kept.get("key") == key:
            return kept["report"]
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    report = convert.convert(keras_model, "xc7z020clg400-1", 10.0, inputs, out, Hls4mlSettings(**settings), None)
    report_file.write_text(json.dumps({"key": key, "report": report}, default=str))
    return report


def ad08(repo, root: Path) -> dict:
    from frameworks import keras_import
    from tasks import published_designs as pd

    recipe, eembc, kind = test_set("ad", root)
    files = recipe.test_files(eembc)
    # AD08's features: of each 5 x 128 log-mel window, the first 2 frames, every 4th mel (training/common.py
    # downsample); the accelerator's input type ap_fixed<8,8> keeps their integer part (floor)
    pick = [t * 128 + m for t in range(2) for m in range(0, 128, 4)]
    x = np.floor(np.concatenate([f.windows for f in files])[:, pick]).astype(np.float32)
    model = keras_import.load(repo.file("ad08_model", root / "bench" / "paper" / "files"))
    report = convert_design("AD08", model.model, x, pd.ad08_settings(repo), root / "bench" / "paper" / "ad08")
    emulated = np.load(root / "bench" / "paper" / "ad08" / "emulated_outputs.npy")
    from sklearn.metrics import roc_auc_score

    per_window = np.mean((emulated.astype(np.float64) - x) ** 2, axis=1)
    starts = np.cumsum([0] + [len(f.windows) for f in files])
    auc = roc_auc_score([f.label for f in files], [per_window[a:b].mean() for a, b in zip(starts[:-1], starts[1:])])
    return {"report": report, "accuracy": f"AUC {auc:.3f} ({kind} ToyCar, {len(files)} files)",
            "agreement": f"emulator = C simulation on {report['emulator'].get('bit_identical_to_csim', 0):.0%} of "
                         f"{len(x)} windows; vs QKeras max |diff| {report['max_abs_diff']:.2f} dB"}


def rn07(repo, root: Path) -> dict:
    from frameworks import keras_import
    from tasks import published_designs as pd
    from tasks.ic import testset

    recipe, eembc, kind = test_set("ic", root)
    images, labels = testset.read(eembc, recipe.model_id, recipe.input_bytes)
    x = images.astype(np.float32) / 256  # the input type ap_ufixed<8,0>: pixel / 256 (convert.py's Rescaling(1/256))
    model = keras_import.load(repo.file("rn07_model", root / "bench" / "paper" / "files")).model
    settings = pd.rn07_settings(repo, [layer.name for layer in model.layers])
    report = convert_design("RN07", model, x, settings, root / "bench" / "paper" / "rn07")
    emulated = np.load(root / "bench" / "paper" / "rn07" / "emulated_outputs.npy")
    top1 = float(np.mean(emulated.argmax(1) == labels))
    return {"report": report, "accuracy": f"{100 * top1:.1f} % ({kind} ic01, {len(x)} images)",
            "agreement": f"emulator = C simulation on {report['emulator'].get('bit_identical_to_csim', 0):.0%} of "
                         f"{len(x)} images; argmax = QKeras on {report['argmax_agreement']:.1%}"}


def hls4ml_rows(name: str, result: dict, pub: dict) -> list[list[str]]:
    from boards import board as boards

    est = result["report"]["estimates"]
    rows = []
    for b in BOARDS:
        board = boards.load(b)
        p = pub.get((name, b))
        if p is None:
            continue
        modeled = est["critical_path_cycles"] / board.fabric_clock_mhz + board.call_overhead.us
        rows.append([name, "hls4ml", b, f"{p['latency_us']:,.1f} us", f"{modeled:,.1f} us",
                     f"{100 * (modeled / p['latency_us'] - 1):+.0f} %", "-",
                     f"LUT {est['lut']:,.0f} FF {est['ff']:,.0f} BRAM18 {est['bram18']:,.0f} DSP {est['dsp']:,.0f}",
                     result["accuracy"], result["agreement"]])
    return rows


# the published CNV-W1A1's resources: Pynq-Z2 post-implementation, the whole design (accelerator, data movers,
# FIFOs), docs/fpga-reference.md 2.4
CNV_PUBLISHED_RESOURCES = "LUT 22,714 FF 31,508 BRAM36 100.5 (pynq_z2 implementation, whole design)"


def cnv_w1a1(repo, root: Path, board_name: str) -> dict | str:
    """CNV-W1A1 on a board: the harness's trained ic FINN model with the published folding (mapped by
    layer order and kind), FINN's estimates, the overlapping-layers latency, and the emulator's checks;
    kept under build/bench/paper/cnv-w1a1/<board> keyed by the trained model and the folding. A string
    says why not, when the folding JSON or the trained model is missing."""
    from boards import board as boards
    from common.errors import GateError
    from pipeline.artifacts import StageError
    from pipeline.flow import Flow
    from tasks import published_designs as pd
    from tasks.ic import testset
    from toolchains.finn import build, convert, dataflow_latency, folding_map
    from toolchains.finn.settings import FinnSettings

    published = pd.cnv_folding(repo, board_name)
    if published is None:
        return f"not run: this copy of tiny_results_v0.7 lacks {pd.FILES['cnv_folding']}"
    flow = Flow(task="ic", board=board_name, flow="finn", build_root=root, modes=["accuracy"])
    try:
        trained_at = flow.manifest("train").get("finished")
    except StageError:
        return ("not run: no trained ic FINN model here (python -m pipeline run --task ic --board pynq_z2 --flow finn "
                "--to train)")
    board = boards.load(board_name)
    out = root / "bench" / "paper" / "cnv-w1a1" / board_name
    key = {"trained": trained_at, "folding": published, "part": board.part, "clock_ns": board.clock_period_ns}
    kept = out / "result.json"
    if kept.is_file() and json.loads(kept.read_text()).get("key") == key:
        return json.loads(kept.read_text())["result"]
    shutil.rmtree(out, ignore_errors=True)
    for folder in ("names", "convert"):
        (out / folder).mkdir(parents=True)
    trained, eembc = flow.artifacts("train"), flow.eembc()
    source = convert.from_brevitas(flow.recipe, trained, eembc, out / "names")
    mapping = folding_map.map_folding(published, folding_map.layers_before_folding(source.onnx, board, out / "names" / "finn"))
    (out / "folding.json").write_text(json.dumps(mapping.config, indent=1))
    settings = FinnSettings(folding_config=str(out / "folding.json"))
    report = convert.convert(flow.recipe, trained, eembc, board, out / "convert", settings)
    applied = json.loads((out / "convert" / build.OUTPUT / "report" / "applied_folding_config.json").read_text())
    missed = folding_map.not_applied(mapping.config, applied)
    if missed:
        raise GateError(f"CNV-W1A1: the FINN build did not apply the mapped folding: {'; '.join(missed)}")
    overlap = dataflow_latency.latency(out / "convert" / build.OUTPUT / build.CODEGEN_MODEL)
    _, labels = testset.read(eembc, flow.recipe.model_id, flow.recipe.input_bytes)
    emulated = np.load(out / "convert" / "emulated_outputs.npy")
    result = {"estimates": {k: v for k, v in report["estimates"].items() if k != "layers"},
              "layer_cycles": {name: layer["cycles"] for name, layer in report["estimates"]["layers"].items()},
              "overlap_cycles": overlap["cycles"], "overlap_layers": overlap["layers"],
              "exact_fraction": report["exact_fraction"], "argmax_agreement": report["argmax_agreement"],
              "checked": report["windows_checked"], "top1": float(np.mean(emulated.argmax(1) == labels)), "n": len(labels),
              "data": str(flow.eembc_kind()), "pairs": mapping.pairs, "dropped": mapping.dropped, "pools": mapping.pools,
              "unconfigured": mapping.unconfigured, "published_clock_mhz": pd.cnv_clock_mhz(repo, board_name)}
    kept.write_text(json.dumps({"key": key, "result": result}, default=str, indent=1))
    return result


def cnv_rows(results: dict, pub: dict) -> list[list[str]]:
    from boards import board as boards

    rows = []
    for b, result in results.items():
        p = pub[("CNV-W1A1", b)]
        if isinstance(result, str):
            rows.append(["CNV-W1A1", "finn", b, f"{p['latency_us']:,.1f} us", "-", "-",
                         CNV_PUBLISHED_RESOURCES if b == "pynq_z2" else "-", "-", "-", result])
            continue
        board = boards.load(b)
        est, overhead = result["estimates"], board.call_overhead.us
        path_us = est["critical_path_cycles"] / board.fabric_clock_mhz + overhead
        overlap_us = result["overlap_cycles"] / board.fabric_clock_mhz + overhead
        modeled = f"{path_us:,.0f} us FINN critical path; {overlap_us:,.0f} us layers overlapping"
        difference = f"{100 * (path_us / p['latency_us'] - 1):+.0f} %; {100 * (overlap_us / p['latency_us'] - 1):+.0f} %"
        clock = result["published_clock_mhz"]
        if clock and abs(clock - board.fabric_clock_mhz) > 0.5:  # the published design ran at another clock than ours
            at = result["overlap_cycles"] / clock + overhead
            modeled += f" (layers overlapping at the published build's {clock:g} MHz, not our {board.fabric_clock_mhz:g}: " \
                       f"{at:,.0f} us)"
            difference += f" ({100 * (at / p['latency_us'] - 1):+.0f} %)"
        rows.append(["CNV-W1A1", "finn", b, f"{p['latency_us']:,.1f} us", modeled, difference,
                     CNV_PUBLISHED_RESOURCES if b == "pynq_z2" else "-",
                     f"LUT {est['lut']:,.0f} BRAM18 {est['bram18']:,.0f} DSP {est['dsp']:,.0f} (FINN estimate, accelerator)",
                     f"{100 * result['top1']:.1f} % ({result['data']} ic01, {result['n']} images; the harness's model trained "
                     f"on {result['data']} data, not the published weights: not comparable with its 84.5 %)",
                     f"emulator = execute_onnx on {result['exact_fraction']:.0%} of {result['checked']} images; argmax = "
                     f"Brevitas on {result['argmax_agreement']:.1%}; folding: {len(result['pairs'])} layers mapped, dropped "
                     f"{', '.join(name for name, _ in result['dropped']) or 'none'}"])
    return rows


def finn_rows(name: str, pub: dict, note: str) -> list[list[str]]:
    return [[name, "finn", b, f"{pub[(name, b)]['latency_us']:,.1f} us", "-", "-", "-", "-", "-", note]
            for b in BOARDS if (name, b) in pub]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tiny-results", default=None, help="mlcommons/tiny_results_v0.7 (folder or git directory)")
    p.add_argument("--build-root", type=Path, default=None)
    args = p.parse_args()
    from frameworks import keras2  # noqa: F401  (Keras 2 before anything loads Keras)
    from tasks import published_designs as pd

    repo, where = pd.locate(args.tiny_results)
    if repo is None:
        print(f"paper designs: skipped: {where}")
        return 0
    root = (args.build_root or build_root()).resolve()
    pub = published()
    rows = hls4ml_rows("AD08", ad08(repo, root), pub) + hls4ml_rows("RN07", rn07(repo, root), pub)
    rows += finn_rows("KWS-W3A3", pub, "toolchains/finn/README.md: 13.0 us modeled on the pynq_z2 for its QONNX "
                                       "(FINN's own estimate with the input thresholding layer: 17.9 us); 82.5 % emulated DUT")
    rows += cnv_rows({b: cnv_w1a1(repo, root, b) for b in BOARDS if ("CNV-W1A1", b) in pub}, pub)
    print(f"tiny_results_v0.7: {where}")
    print("| design | flow | board | published latency (measured) | modeled latency | difference | published resources "
          "| modeled resources (accelerator) | our accuracy (data) | emulator agreement |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print("\nmodeled: the harness's hls4ml latency/resource models (toolchains/hls4ml/latency.py, resources.py) and FINN's "
          "estimates (CNV-W1A1: also toolchains/finn/dataflow_latency.py) at the board's fabric clock + boards/*/board.yaml "
          "call_overhead; published: measured on hardware with real data")
    return 0


if __name__ == "__main__":
    sys.exit(main())
