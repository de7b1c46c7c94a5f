"""What a stage is: a name, what its result is keyed by (its parameters and the code it runs),
the stages it reads, and the work (the FINN builder's named steps, as data)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.flow import Flow


@dataclass(frozen=True)
class Stage:
    name: str
    params: Callable[[Flow], dict[str, Any]]  # what the result depends on besides code and upstream results
    code: Callable[[Flow], dict[str, list[str]]]  # {"modules": [...], "files": [...]}: the code it runs
    upstream: list[str]  # stages whose outputs it reads (their keys are part of its key)
    work: Callable[[Flow, Path], dict[str, Any]]  # writes into the folder it is given; returns the outputs
