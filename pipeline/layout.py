"""Where a flow's stages live in the build tree, so that nothing is redone that need not be:

    build/<task>/data/                      the dataset and EEMBC test files (any flow, any board)
    build/<task>/<flow>/train/              the trained model (any board)
    build/<task>/<flow>/<board>/{convert,build,run,report}/

A model other than the trained one (model=reference, or a QONNX file) and a test folder other than
the data stage's (testset=PATH) put their runs beside the default ones, in build/<task>/<flow>-<model>/
and <board>-<test folder>/, so nothing overwrites anything."""

from __future__ import annotations

from pathlib import Path

from common.errors import ConfigError

STAGES = ["data", "train", "convert", "build", "run", "report"]
# stages whose folder is not per board: what the log says when they are reused
SHARED_STAGES = {"data": "shared by every flow and board of this task", "train": "shared by every board"}


def flow_root(task_root: Path, flow: str, model: str, model_name: str, board: str, testset: str | None) -> Path:
    """The folder of a flow's per-board stages."""
    variant = flow if model == "trained" else f"{flow}-{model_name}"
    board_folder = board if testset is None else f"{board}-{Path(testset).resolve().name}"
    return task_root / variant / board_folder


def stage_path(name: str, task_root: Path, flow: str, model: str, model_name: str, root: Path) -> Path:
    if name == "data":
        return task_root / "data"
    if name == "train":
        return task_root / flow / ("train" if model == "trained" else model_name)
    return root / name


def eembc_testset(path: str, model_id: str) -> Path:
    """The dataset root (the folder holding <model id>/) for a test folder given as <root>/<model id> or as <root>."""
    folder = Path(path).expanduser().resolve()
    if folder.name == model_id and (folder / "y_labels.csv").is_file():
        return folder.parent
    if (folder / model_id / "y_labels.csv").is_file():
        return folder
    raise ConfigError(f"testset={path}: not an EEMBC test folder for {model_id}: expected a folder named {model_id} "
                      f"holding y_labels.csv and the .bin files (or the folder above it)")
