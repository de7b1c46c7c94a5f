"""The runner's three modes, one module each, shaped like the MLC runner's test scripts (docs/mlperf-tiny.md 3.4,
3.6-3.8): the same commands in the same order, the same records in results.json and the same
results.txt. performance.py: five windows of `infer N W`, their median throughput; accuracy.py:
every window of every file, Top-1 and AUC; energy.py: five trials with a power monitor, their
median energy per inference."""

# a mode by its MLC runner letter or its name -> its name; and the letter its records carry
MODE_LETTERS = {"performance": "p", "accuracy": "a", "energy": "e"}
MODE_NAMES = {**{letter: name for name, letter in MODE_LETTERS.items()}, **{name: name for name in MODE_LETTERS}}
