"""Design-space sweeps: many designs of one task and flow (bit widths, pruning, widths, hls4ml reuse,
FINN folding), each one the pipeline itself, run on Ray (embedded here, or a cluster), journaled as
they finish, and compared on a Pareto front (docs/sweep.md).

    space.py      the space file (tasks/<task>/sweep.yaml), validated against the task and the flow
    search.py     what to try next: grid, random, Optuna's model-based multi-objective search
    store.py      stage folders named by stage key: trials share stages, never overwrite them
    trial.py      one trial: run_stages on its Flow, its record (status, metrics, what each is)
    engine.py     Ray: placement (CPU nodes, `vivado` nodes for vendor steps), the loop
    journal.py    one line per finished trial; what resume goes on from
    progress.py   a line per trial with the time left
    table.py      results.md / results.csv, the Pareto front, the `make` line that promotes a design
    plots.py      the Pareto figures per objective pair
    model_size.py a QKeras model's quantized weight bits (a cost where no resource estimate exists)
    cli.py        python -m sweep (make sweep)"""
