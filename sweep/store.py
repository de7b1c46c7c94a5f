"""Where a sweep's trials keep their stage folders: one folder per stage key, so trials share what
they have in common and never overwrite each other.

The normal build tree (pipeline/layout.py) has one folder per stage and flow, e.g.
build/<task>/<flow>/train: a second trial with other overrides would re-run the stage into the same
folder and replace the first one's model (and two at once would write into one `.partial` folder).
Here a stage's folder is named by its key (pipeline/execute.py stage_key: its parameters, code and
upstream keys):

    <store>/<stage>/<key[:16]>/          e.g. stages/train/3f9c.../ shared by every trial whose train
                                          stage has that key (the same data, model and training values)

so two trials that differ only in a conversion setting convert from one trained model, a repeated
trial skips every stage, and trials with other values get folders of their own. A stage is made
under a lock beside its folder: two trials that need the same missing stage at the same time (two
workers, or two nodes on a shared build root) make it once; the second finds it done.

Vendor builds (build stage with the vendor tools) get folders of their own (`<key>-vendor`): the
build stage's key does not say whether the vendor steps ran, and a build made without them must not
stand in for one made with them."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.artifacts import StageDir
from pipeline.execute import stage_key
from pipeline.flow import Flow
from pipeline.layout import STAGES

log = logging.getLogger("sweep")
KEY_CHARS = 16  # 64 bits of the stage key name its folder
VENDOR_STAGES = STAGES[STAGES.index("build"):]  # the build stage and what is made from it


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (created), held for the block: POSIX record locks, which a shared
    build root over NFSv4 honours across nodes too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class SharedStageDir(StageDir):
    """A stage folder other trials may be making at the same moment."""

    def run(self, key: str, inputs: dict, work, keep_partial: bool = False) -> dict:
        with locked(self.path.with_name(self.path.name + ".lock")):
            if self.is_current(key):  # another trial made it while this one waited
                log.info("[%s] made meanwhile by another trial: reused (%s)", self.name, self.path.name)
                manifest = self.manifest()
                assert manifest is not None
                return manifest
            return super().run(key, inputs, work, keep_partial)


@dataclass
class StoreFlow(Flow):
    """A Flow whose stage folders are the store's, named by stage key (run_stages runs it as any flow)."""

    store: Path = Path("stages")
    vendor: bool = False  # builds with the vendor tools: folders of their own
    _keys: dict[str, str] = field(default_factory=dict, repr=False)

    def stage_key(self, name: str) -> str:
        """The stage's key (its upstream must have run); computed once per flow."""
        if name not in self._keys:
            self._keys[name] = stage_key(self, name)[0]
        return self._keys[name]

    def stage_dir(self, name: str) -> StageDir:
        folder = self.stage_key(name)[:KEY_CHARS] + ("-vendor" if self.vendor and name in VENDOR_STAGES else "")
        return SharedStageDir(name, Path(self.store) / name / folder)
