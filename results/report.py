"""Result tables: one row per quantity of a task/flow/board run, every number labelled with what it
is. Where a DUT number was made comes from the provenance the launcher recorded in the run
manifest, never from the DUT's name."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from common.provenance import Provenance
from results.compare import markdown


def flow_table(task: str, flow: str, board: str, train: dict, convert: dict, run: dict,
               modeled: dict | None = None) -> pd.DataFrame:
    """Rows from the outputs recorded in the train, convert and run manifests; modeled: the build's
    latency model when the DUT ran with modeled timing; and the published results for the task and board."""
    p = Provenance.model_validate(run["provenance"])
    base = {"task": task, "flow": flow, "board": board, "data": p.data or "not stated"}
    metric = train["metric"]  # AUC | top-1 %: the task's quality metric, from its recipe
    host_data = train.get("data_kind", base["data"])  # the train stage checks on its own test files
    rows = [
        {**base, "data": host_data, "quantity": metric, "value": round(train["host_value"], 4), "where": "host",
         "what": f"{train['host_what']} (not the DUT)"},
        {**base, "quantity": "bit-exact inputs", "value": round(convert["exact_fraction"], 4), "where": "host",
         "what": convert.get("exact_what") or f"hls4ml C++ emulation vs Keras, {convert['windows_checked']} test inputs"},
    ]
    if convert.get("argmax_agreement") is not None:
        rows.append({**base, "quantity": "argmax agreement", "value": round(convert["argmax_agreement"], 4), "where": "host",
                     "what": convert.get("argmax_what") or f"hls4ml C++ emulation vs Keras, "
                                                           f"{convert['windows_checked']} test inputs"})
    est = convert.get("estimates")
    if est:  # a toolchain's estimates: modeled, never measured
        rows.append({**base, "quantity": "accelerator latency (us)", "value": round(est["accelerator_latency_us"], 2),
                     "where": "modeled",
                     "what": f"{est.get('accelerator_cycles', est['critical_path_cycles'])} cycles / fabric clock; "
                             f"{est['what']}"})
        rows.append({**base, "quantity": "latency (us)", "value": round(est["modeled_latency_us"], 2), "where": "modeled",
                     "what": f"accelerator latency + {est['call_overhead_us']:g} us firmware overhead per call "
                             f"(the board's call_overhead model, boards/{board}/board.yaml)"})
        for key, name in (("lut", "LUT"), ("bram18", "BRAM18"), ("dsp", "DSP")):
            rows.append({**base, "quantity": f"{name} (estimate)", "value": est[key], "where": "modeled", "what": est["what"]})
    acc = run.get("accuracy")
    value = acc and acc.get("auc" if metric == "AUC" else "top1")
    if value is not None:
        excluded = f", {len(acc['file_errors'])} files left out (errors)" if acc["file_errors"] else ""
        trained_on = f"; these files are {p.data}, the train stage used {host_data} data" if host_data != p.data else ""
        rows.append({**base, "quantity": metric, "value": round(value, 4), "where": p.where,
                     "what": f"runner accuracy mode, {acc['files']} files, {acc['inferences']} inferences{excluded}{trained_on}; "
                             f"{p.describe()}"})
    if modeled and not est:  # a toolchain without estimates (hls4ml): its latency model
        rows.append({**base, "quantity": "latency (us)", "value": round(modeled["modeled_latency_us"], 2), "where": "modeled",
                     "what": modeled["what"]})
    timed = "modeled" if p.timing == "modeled" else p.where
    perf = run.get("performance")
    if perf:
        if perf.get("throughput") is None:
            rows.append({**base, "quantity": "throughput (inf/s)", "value": None, "where": p.where,
                         "what": f"no valid result: {perf.get('error')}"})
        else:
            rows.append({**base, "quantity": "throughput (inf/s)", "value": round(perf["throughput"], 1), "where": timed,
                         "what": f"median of 5 windows; {p.describe()}"})
            rows.append({**base, "quantity": "latency (us)",
                         "value": round(1e6 / perf["throughput"], 2) if perf["throughput"] else None,
                         "where": timed, "what": f"1 / median throughput; {p.describe()}"})
    energy = run.get("energy")
    if energy:
        rows.append({**base, "quantity": "energy (uJ/inf)", "value": round(energy["uj_per_inference"], 3),
                     "where": "modeled" if p.timing == "modeled" else p.where,
                     "what": f"median of 5 trials, {energy['iterations']} inferences each"
                             + ("; a simulated LPM01A fed the board's power model (board.yaml power.model_w) over the "
                                "modeled time between the timestamp edges" if p.timing == "modeled" else "")
                             + f"; {p.describe()}"})
    for pub in published(task, board):
        for quantity, key in (("latency (us)", "latency_us"), ("energy (uJ/inf)", "energy_uj")):
            if pub[key] is None:  # fpgaConvNet's closed entries submitted no energy
                continue
            rows.append({**base, "flow": f"{pub['flow']} ({pub['model']}, {pub['round']})", "data": "real", "quantity": quantity,
                         "value": pub[key], "where": "published (hardware)",
                         "what": "published MLPerf Tiny result, measured on the board (results/published.yaml)"})
    return pd.DataFrame(rows)


def published(task: str, board: str) -> list[dict]:
    import yaml

    from results.compare import PUBLISHED

    return [r for r in yaml.safe_load(PUBLISHED.read_text()) if r["task"] == task and r["board"] == board]


def write(table: pd.DataFrame, out: Path) -> None:
    table.to_csv(out / "results.csv", index=False)
    (out / "results.md").write_text(markdown(table))
