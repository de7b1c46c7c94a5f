"""Benchmark: the FINN emulator (C generated from the streamlined graph) against qonnx's
execute_onnx and the Brevitas model's float forward pass, batch 1 and batched, on the same inputs
(host CPU).
Needs a built FINN flow (make task=kws board=pynq_z2 flow=finn to=convert).

    .venv/bin/python bench/finn_emulator.py [--build-root build] [--task kws] [--board pynq_z2] [--onnx-inputs 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.flow import Flow  # noqa: E402


def rate(fn, n: int) -> float:
    t = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-root", type=Path, default=None)
    p.add_argument("--task", default="kws")
    p.add_argument("--board", default="pynq_z2")
    p.add_argument("--onnx-inputs", type=int, default=200, help="inputs for execute_onnx (slow)")
    args = p.parse_args()
    from frameworks import brevitas_qat
    from toolchains.finn import build, emulator, export

    flow = Flow(task=args.task, board=args.board, flow="finn", **({"build_root": args.build_root} if args.build_root else {}))
    convert = flow.artifacts("convert")["convert"]
    trained = flow.artifacts("train")
    x = flow.recipe.brevitas_inputs(flow.eembc(), trained)
    model = flow.recipe.load_brevitas(trained)
    lib = convert / emulator.LIBRARY
    n_out = np.load(convert / "emulated_outputs.npy").shape[1]
    one = x[:args.onnx_inputs]
    rows = [
        ("FINN emulator (generated C, 1 core), batched", rate(lambda: emulator.run(lib, x, n_out), len(x)), len(x)),
        ("FINN emulator, batch 1", rate(lambda: [emulator.run(lib, v[None], n_out) for v in one], len(one)), len(one)),
        ("Brevitas float forward, batch 512", rate(lambda: brevitas_qat.predict(model, x), len(x)), len(x)),
        ("Brevitas float forward, batch 1", rate(lambda: [brevitas_qat.predict(model, v[None]) for v in one], len(one)),
         len(one)),
        ("qonnx execute_onnx, streamlined graph, batch 1", rate(lambda: export.execute(convert / build.OUTPUT / build.STREAMLINED,
                                                                                x[:args.onnx_inputs]), args.onnx_inputs),
         args.onnx_inputs),
    ]
    print(f"| {args.task} on the host CPU | inferences/s | inputs |\n|---|---|---|")
    for name, r, n in rows:
        print(f"| {name} | {r:,.0f} | {n} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
