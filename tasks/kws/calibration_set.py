"""The calibration set of the reference DS-CNN's post-training types (tasks/calibration.py), picked by the
data stage from its splits, never from the test split.

Real Speech Commands: the reference's own rule. mlcommons/tiny benchmark/training/keyword_spotting/
quant_cal_idxs.txt lists 120 indices into the validation set *in the order tensorflow_datasets reads it*
(mk_cal_set.py: 10 per label, numpy seed 2, over get_dataset.py's batched validation split). This
pipeline reads the Speech Commands folder itself (speech_commands.py: sorted word folders, its own
unknown and silence draw), so those indices would name other clips; it applies mk_cal_set.py's rule to
its own validation split instead (10 per class, numpy's legacy generator seeded 2, classes ascending).

Synthetic speech: `samples` clips of the synthetic training split, drawn with `seed`."""

from __future__ import annotations

import numpy as np

from tasks import calibration
from tasks.calibration import CalibrationConfig

PER_CLASS, RULE_SEED = 10, 2  # mk_cal_set.py: num_files_per_label = 10, np.random.seed(2)
OFFICIAL = "mlcommons/tiny benchmark/training/keyword_spotting/quant_cal_idxs.txt (mk_cal_set.py)"


def by_the_reference_rule(labels: np.ndarray) -> np.ndarray:
    """mk_cal_set.py's draw over a validation split's labels: for each label in ascending order, 10 of its
    indices without replacement from numpy's global generator seeded 2 (all of them where a label has fewer)."""
    rng = np.random.RandomState(RULE_SEED)
    picked = []
    for label in np.unique(labels):
        idxs = np.nonzero(labels == label)[0]
        picked.append(rng.choice(idxs, size=min(PER_CLASS, len(idxs)), replace=False))
    return np.concatenate(picked)


def choose(sets: dict[str, tuple[np.ndarray, np.ndarray]], kind: str, cfg: CalibrationConfig) -> tuple[np.ndarray, dict]:
    """(float MFCC features of the calibration clips, their record) from the data stage's splits."""
    if kind == "real":
        x, y = sets["validation"]
        idx = by_the_reference_rule(y)
        return x[idx], calibration.record(
            f"the rule of {OFFICIAL} (10 per class, numpy seed 2) applied to this pipeline's validation split: the "
            f"official indices follow tensorflow_datasets' ordering, which this pipeline does not reproduce",
            kind, len(idx), split="validation")
    x, _ = sets["train"]
    idx = calibration.draw(len(x), cfg.samples, cfg.seed)
    return x[idx], calibration.record(f"synthetic stand-in: {len(idx)} of the {len(x)} clips of the synthetic training "
                                      f"split (seed {cfg.seed})", kind, len(idx), split="train")
