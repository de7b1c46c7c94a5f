"""The hls4ml-FINN MLPerf Tiny v0.7 designs (docs/fpga-reference.md 2.x) as the harness takes them:
where their files are in `mlcommons/tiny_results_v0.7` (`open/hls4ml-finn/code/...`) and the hls4ml
choices their own conversion scripts made, as the harness's hls4ml settings (toolchains/hls4ml/settings.py).

The repository is read from a folder (a checkout or an extracted copy) or from a git directory
without a work tree (`git show HEAD:<path>`); a file the copy lacks (a large one left out of a mirror)
is None, so callers can say what is missing instead of failing."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import yaml

from common.errors import ConfigError
from common.paths import SHARED

ROOT = "open/hls4ml-finn/code"
ENV = "TINY_RESULTS_V07"  # where the repository is, when not ../shared/tiny_results_v0.7
AD08 = f"{ROOT}/ad/AD08"
RN07 = f"{ROOT}/ic/RN07"
CNV = f"{ROOT}/ic/CNV-W1A1"
FILES = {
    "ad08_model": f"{AD08}/training/trained_model/model.h5",
    "ad08_hls4ml_config": f"{AD08}/inference/hls4ml_config.yml",
    "ad08_convert": f"{AD08}/inference/convert.py",
    "rn07_model": f"{RN07}/training/trained_model/model_best.h5",
    "rn07_convert_config": f"{RN07}/inference/pynq-z2/accuracy_power.yml",
    "rn07_perf_samples": f"{RN07}/inference/perf_samples_idxs.npy",
    "cnv_folding": f"{CNV}/inference/pynq-z2/folding_config/cnv-w1a1_folding_config.json",
    "cnv_build": f"{CNV}/inference/pynq-z2/build.py",
    "cnv_folding_arty": f"{CNV}/inference/arty-a7-100t/folding_config/cnv-w1a1_folding_config.json",
    "cnv_build_arty": f"{CNV}/inference/arty-a7-100t/build.py",
    "cnv_onnx": f"{CNV}/training/cnv-w1a1.onnx",
}


class TinyResults:
    """mlcommons/tiny_results_v0.7 as a folder or a git directory (bare or a mirror's)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.git = not (self.path / "open").is_dir() and (self.path / "HEAD").is_file()
        if not self.git and not (self.path / "open").is_dir():
            raise ConfigError(f"{path}: neither a tiny_results_v0.7 folder (open/...) nor its git directory")

    def read(self, rel: str) -> bytes | None:
        """A file's bytes, or None where this copy does not hold it."""
        if not self.git:
            p = self.path / rel
            return p.read_bytes() if p.is_file() else None
        done = subprocess.run(["git", "-C", str(self.path), "show", f"HEAD:{rel}"], capture_output=True)
        return done.stdout if done.returncode == 0 else None

    def file(self, key: str, out: Path) -> Path | None:
        """FILES[key] written under `out` (kept when already there), or None where absent."""
        target = out / Path(FILES[key]).name
        if target.is_file():
            return target
        data = self.read(FILES[key])
        if data is None:
            return None
        out.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target

    def yaml(self, key: str) -> dict | None:
        data = self.read(FILES[key])
        return None if data is None else yaml.safe_load(data)


def locate(given: str | Path | None = None) -> tuple[TinyResults | None, str]:
    """(the repository, where it was found) from `given`, $TINY_RESULTS_V07 or ../shared/tiny_results_v0.7,
    or (None, why not): no internet here, so nothing is downloaded."""
    candidates = [Path(given)] if given else ([Path(os.environ[ENV])] if os.environ.get(ENV) else [])
    candidates = candidates or [SHARED / "tiny_results_v0.7"]
    for c in candidates:
        if c.exists():
            return TinyResults(c), str(c)
    return None, (f"no mlcommons/tiny_results_v0.7 at {candidates[0]} (give --tiny-results DIR or ${ENV}: a checkout, "
                  f"an extracted copy or its git directory)")


def ad08_settings(repo: TinyResults) -> dict:
    """AD08's hls4ml choices (inference/hls4ml_config.yml and convert.py) as harness settings: io_stream;
    its config (Resource strategy, reuse factors 144 and 8, types); convert.py's OutputRoundingSaturationMode
    (AP_RND, AP_SAT on the Activation layers' results); agreement measured, not gated (its types are not
    QKeras's: a 16-bit accumulator with 8 integer bits, a ReLU with one more fraction bit)."""
    config = repo.yaml("ad08_hls4ml_config")
    if config is None:
        raise ConfigError(f"tiny_results_v0.7 lacks {FILES['ad08_hls4ml_config']}")
    relu = {name: {"result": f"{cfg['Precision']['result'].removeprefix('ap_')[:-1]},RND,SAT>"}
            for name, cfg in config["LayerName"].items() if name.startswith("q_activation")}
    return {"io_type": "io_stream", "config": config, "layers": relu, "agreement": "close", "tolerance": 1e9,
            "min_agreement": 1.0}


def rn07_settings(repo: TinyResults, layer_names: list[str]) -> dict:
    """RN07's hls4ml choices for the Pynq-Z2 (inference/pynq-z2/accuracy_power.yml through convert.py): every
    layer of the model at the yml's ReuseFactor and Precision, then its Override entries (replacing a
    layer's keys, as convert.py's dict.update does), the Model's Strategy / ReuseFactor / Precision;
    io_stream; argmax agreement measured, not gated."""
    cfg = repo.yaml("rn07_convert_config")
    if cfg is None:
        raise ConfigError(f"tiny_results_v0.7 lacks {FILES['rn07_convert_config']}")
    c = cfg["convert"]
    layers = {name: {"ReuseFactor": c["ReuseFactor"], "Precision": c["Precision"]} for name in layer_names}
    for name, override in c["Override"].items():
        layers.setdefault(name, {}).update(override)
    config = {"Model": {"ReuseFactor": c["ReuseFactor"], "Strategy": c["Strategy"], "Precision": c["Precision"]},
              "LayerName": layers}
    return {"io_type": c["IOType"], "config": config, "agreement": "argmax", "min_agreement": 0.01}


def _cnv_key(name: str, board: str) -> str:
    keys = {"pynq_z2": name, "arty_a7": f"{name}_arty"}
    if board not in keys:
        raise ConfigError(f"CNV-W1A1 was published for pynq_z2 and arty_a7, not {board}")
    return keys[board]


def cnv_folding(repo: TinyResults, board: str = "pynq_z2") -> dict | None:
    """CNV-W1A1's folding JSON for a board (FINN 2022's layer names and PE/SIMD), or None where absent."""
    data = repo.read(FILES[_cnv_key("cnv_folding", board)])
    return None if data is None else json.loads(data)


def cnv_clock_mhz(repo: TinyResults, board: str = "pynq_z2") -> float | None:
    """The clock CNV-W1A1's FINN build was made for (its build.py's synth_clk_period_ns), or None where absent."""
    data = repo.read(FILES[_cnv_key("cnv_build", board)])
    found = re.search(r"^\s*synth_clk_period_ns\s*=\s*([0-9.]+)", data.decode(), re.M) if data else None
    return None if found is None else 1000.0 / float(found.group(1))
