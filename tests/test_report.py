"""The comparison table, plots and page over every run of a build tree, beside the published results."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser

import pytest

from results import compare, page, plots, runs, screenshot
from tests.runs import make_run


@pytest.fixture
def build(tmp_path):
    make_run(tmp_path / "build", link="host-emulation", timing="host-clock", data="synthetic")
    make_run(tmp_path / "build", board="arty_a7")  # a measured, real-data run
    return tmp_path / "build"


def test_table_labels_every_number(build):
    df = compare.table(runs.find(build))
    ours = df[df["source"] == "this harness"].set_index("board")
    assert ours.loc["pynq_z2", "latency_kind"] == "emulated" and ours.loc["pynq_z2", "data"] == "synthetic"
    assert ours.loc["arty_a7", "latency_kind"] == "measured" and ours.loc["arty_a7", "data"] == "real"
    median = runs.Run.load(build / "ad" / "hls4ml" / "pynq_z2" / "run").summary["performance"]["throughput"]
    assert ours.loc["pynq_z2", "latency_us"] == pytest.approx(1e6 / median)
    published = df[df["source"] != "this harness"]
    assert len(published) == 12 and set(published["latency_kind"]) == {"measured"}
    closed = published[published["source"].str.contains("closed division")]
    assert sorted(closed["task"]) == ["ic", "kws", "vww"] and closed["energy_kind"].isna().all()  # fpgaConvNet: no energy
    kws = published[(published["task"] == "kws") & (published["board"] == "pynq_z2")].iloc[0]
    assert (kws["latency_us"], kws["energy_uj"], kws["accuracy"]) == (17.5, 30.7, 82.5)
    shown = compare.display(df)
    row = shown[(shown["source"] == "this harness") & (shown["board"] == "pynq_z2")].iloc[0]
    assert row["latency"] == f"{1e6 / median:,.1f} µs (emulated)" and row["accuracy"] == "0.889 (AUC, emulated)"


def test_pareto_front():
    assert plots.pareto([(10, 0.8), (20, 0.9), (15, 0.7), (30, 0.85), (5, 0.6)]) == [(5, 0.6), (10, 0.8), (20, 0.9)]


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.kinds, self.open = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "span" and "kind" in attrs.get("class", ""):
            self.kinds.append(attrs["class"].split()[-1])


def test_page_is_standalone_and_says_what_each_number_is(build, tmp_path):
    written = page.write(build, tmp_path / "report")
    assert sorted(written["runs"]) == sorted(str(p) for p in build.glob("*/*/*/run"))
    html = (tmp_path / "report" / "index.html").read_text()
    parsed = _Page()
    parsed.feed(html)
    assert len(parsed.images) == len(written["figures"]) >= 6  # latency and energy per task
    for src in parsed.images:
        assert base64.b64decode(src.removeprefix("data:image/png;base64,"))[:8] == b"\x89PNG\r\n\x1a\n"
    assert {"measured", "emulated"} <= set(parsed.kinds)
    assert "No run has an energy figure yet" in html and "No run has resource estimates yet" in html
    assert re.search(r"<td>1,050.2 µs \(<span class=\"kind emulated\">emulated</span>\)</td>", html)
    assert (tmp_path / "report" / "comparison.csv").is_file() and (tmp_path / "report" / "comparison.md").is_file()


def test_the_page_renders_in_headless_chromium(build, tmp_path):
    if screenshot.chromium() is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    written = page.write(build, tmp_path / "report")
    png = screenshot.screenshot(tmp_path / "report" / "index.html", tmp_path / "shot.png", height=1200)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    assert written["page"].endswith("index.html")


def test_resource_plot_only_with_estimates(tmp_path):
    import pandas as pd

    budgets = {"pynq_z2": {"lut": 53200, "ff": 106400, "bram36": 140, "dsp": 220}}
    empty = pd.DataFrame([{"task": "kws", "flow": "finn", "board": "pynq_z2", "lut": None, "bram": None, "dsp": None,
                           "resources_kind": None}])
    assert not plots.resources_against_budget(empty, budgets, tmp_path / "none.png")
    estimated = empty.assign(lut=31890, bram=36, dsp=0, resources_kind="modeled")
    assert plots.resources_against_budget(estimated, budgets, tmp_path / "res.png")
    assert (tmp_path / "res.png").read_bytes()[:4] == b"\x89PNG"


def test_each_row_names_the_data_it_was_computed_on():
    """A model checked on synthetic files and run on real ones: the host row says synthetic, the
    DUT row real, and says that the two differ."""
    from common import provenance
    from results.report import flow_table

    run = {"provenance": provenance.emulated(data="real").model_dump(),
           "accuracy": {"top1": 22.4, "files": 1000, "inferences": 1000, "file_errors": []}}
    train = {"metric": "top-1 %", "host_value": 92.9, "host_what": "QKeras model", "data_kind": "synthetic"}
    table = flow_table("kws", "hls4ml", "pynq_z2", train, {"exact_fraction": 1.0, "windows_checked": 1000}, run)
    host, dut = table[table["where"] == "host"].iloc[0], table[table["where"] != "host"].iloc[0]
    assert (host["data"], dut["data"]) == ("synthetic", "real")
    assert "these files are real, the train stage used synthetic data" in dut["what"]


def test_a_broken_run_is_listed_with_its_reason_and_the_others_reported(build, tmp_path, capsys):
    from results.cli import main as results_main

    broken = make_run(tmp_path / "build", board="zedboard")
    (broken / "manifest.json").write_text('{"stage": "run", "status": "do')  # cut off mid-write
    invalid = make_run(tmp_path / "build", task="kws")
    manifest = (invalid / "manifest.json").read_text()
    (invalid / "manifest.json").write_text(manifest.replace('"link": "board"', '"link": "a bench"'))
    scalar = make_run(tmp_path / "build", task="ic")
    m = json.loads((scalar / "manifest.json").read_text())
    m["outputs"]["accuracy"] = "92 %"
    (scalar / "manifest.json").write_text(json.dumps(m))
    (make_run(tmp_path / "build", task="ic", board="arty_a7") / "manifest.json").unlink()
    assert results_main(["report", "--build-root", str(build), "--out", str(tmp_path / "report")]) == 0
    out = capsys.readouterr()
    assert f"{broken}/manifest.json is not valid JSON" in out.err and "its provenance is not valid" in out.err
    assert "its 'accuracy' output is not a mapping" in out.err and "is not a finished run stage (no manifest.json)" in out.err
    html = (tmp_path / "report" / "index.html").read_text()
    assert "4 run folder(s) could not be read" in html and f"{broken}/manifest.json is not valid JSON" in html
    assert "runs used (2)" in out.out  # the readable runs are all there


def _frame(rows: list[dict]):
    import pandas as pd

    base = {"task": "ad", "board": "pynq_z2", "flow": "hls4ml", "source": "this harness", "accuracy": 0.88, "metric": "AUC",
            "energy_uj": None, "energy_kind": None, "run": ""}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_a_latency_axis_carries_only_board_figures_and_synthetic_points_stand_apart():
    df = _frame([{"board": "pynq_z2", "latency_us": 23733.0, "latency_kind": "emulated", "data": "real", "run": "a"},
                 {"board": "arty_a7", "latency_us": 17.5, "latency_kind": "modeled", "data": "synthetic", "run": "b"},
                 {"board": "zedboard", "latency_us": 19.0, "latency_kind": "measured", "data": "real", "run": "c"},
                 {"board": "pynq_z2", "latency_us": 18.0, "latency_kind": "modeled", "data": "real", "run": "d"}])
    series = plots.our_series(df, "latency_us")
    assert [(s.label, list(s.rows["run"]), s.marker, s.filled) for s in series] == [
        ("this harness (measured, real data)", ["c"], "o", True),
        ("this harness (modeled, real data)", ["d"], "o", True),
        ("this harness (modeled, synthetic data)", ["b"], "^", False)]
    assert list(plots.left_off(df, "latency_us")["run"]) == ["a"]  # the host-CPU time is on no axis


def test_the_page_says_why_emulated_times_are_not_plotted(build, tmp_path):
    page.write(build, tmp_path / "report")
    html = (tmp_path / "report" / "index.html").read_text()
    assert "Not on the latency and energy axes: ad hls4ml on pynq_z2 (1,050.2 µs)" in html
    assert "host-CPU times of the bit-accurate model" in html and "not FPGA speed" in html
    assert "Synthetic-data points have hollow triangles and legend entries of their own" in html


def test_the_page_shows_each_sweep_s_statuses_front_and_figures(tmp_path):
    """A sweep's results.csv (the columns sweep/table.py writes) on the report page: its trials by status,
    its Pareto designs with what each figure is, its Pareto figure; a results.csv that cannot be read is
    listed as broken, not skipped."""
    import shutil

    folder = tmp_path / "build" / "sweep" / "kws" / "finn-pynq_z2"
    folder.mkdir(parents=True)
    (folder / "results.csv").write_text(
        "trial,status,finn.target_fps,accuracy,latency_us,lut,fits,pareto,data,error,what.latency_us\n"
        "0,done,50000,85.7143,47.16,10226.0,yes,yes,synthetic,,modeled: FINN estimates\n"
        "1,no-fit,400000,85.7143,6.1,66985.0,no,,synthetic,,modeled: FINN estimates\n"
        "2,gate,50000,,,,,,synthetic,train gate failed,\n")
    shutil.copy(_tiny_png(tmp_path), folder / "pareto_accuracy_vs_latency_us.png")
    broken = tmp_path / "build" / "sweep" / "ad" / "finn-pynq_z2"
    broken.mkdir(parents=True)
    (broken / "results.csv").write_text("not,a\nsweep\n")
    written = page.write(tmp_path / "build", tmp_path / "report")
    html_text = (tmp_path / "report" / "index.html").read_text()
    assert written["sweeps"] == [str(folder)]
    assert "Trials: 1 done, 1 gate, 1 no-fit." in html_text and "47.16" in html_text and "66985" not in html_text
    assert "latency_us: modeled: FINN estimates" in html_text and 'alt="pareto_accuracy_vs_latency_us"' in html_text
    assert any(str(broken / "results.csv") == p for p, _ in written["broken"])


def _tiny_png(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = tmp_path / "tiny.png"
    plt.figure(figsize=(1, 1)).savefig(path)
    plt.close("all")
    return path
