"""What the runner connects to for each group of modes: one connection per firmware build and baud
rate (performance and accuracy share the performance build; energy mode needs the energy build,
whose timestamp pin replaces m-lap-us), in the order the modes were asked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from runner.modes import MODE_NAMES


def build_variant(mode: str) -> str:
    """The firmware build a mode (name or letter) runs on: "energy" or "performance"."""
    return "energy" if MODE_NAMES[mode] == "energy" else "performance"


@dataclass(frozen=True)
class ModeGroup:
    variant: str  # build_variant() of every mode in it
    port: str | None  # None: the DUT is started for the group (emulated, QEMU), its URL known then
    baud: int
    modes: list[str]


def group_modes(modes: list[str], link: Callable[[str], tuple[str | None, int]]) -> list[ModeGroup]:
    """The modes grouped into connections; link(mode) -> (port or None, baud rate) of that mode."""
    groups: dict[tuple[str, str | None, int], list[str]] = {}
    for mode in modes:
        port, baud = link(mode)
        groups.setdefault((build_variant(mode), port, baud), []).append(mode)
    return [ModeGroup(variant, port, baud, group) for (variant, port, baud), group in groups.items()]
