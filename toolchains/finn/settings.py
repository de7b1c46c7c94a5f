"""What a recipe tells FINN about its model, as data (a task.yaml `finn` section): the folding
(from a target throughput, or a folding JSON file) and how the emulation must agree."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from common.config import Strict


class FinnSettings(Strict):
    target_fps: int | None = Field(None, gt=0)  # FINN's SetFolding target, at the board's fabric clock
    folding_config: str | None = None  # a folding JSON (relative paths: to the task folder), instead of target_fps
    # thresholds as layers of their own (FINN's Thresholding_rtl: a binary search over thresholds in BRAM) rather than
    # inside each MVAU/VVAU (compared in parallel, in LUTs): 8-bit activations (255 thresholds per channel) fit only so
    standalone_thresholds: bool = False
    # a layer's implementation where FINN's default does not fit, by its name before specialisation (MVAU_0, ...):
    # rtl (FINN's RTL MVU: DSP slices) or hls (with resType lut: LUT multipliers)
    implementation: dict[str, Literal["hls", "rtl"]] = {}
    # FINN node attributes set over the folding (target_fps's or the JSON's), by layer name after specialisation
    # (MVAU_hls_0, Thresholding_rtl_1, ...): e.g. ram_style, resType, depth_trigger_bram, PE, SIMD
    layers: dict[str, dict[str, int | str]] = {}
    # the resource-fit gate: refuse stops the convert stage when the estimate exceeds the board; warn logs it and goes
    # on, so the emulation still measures what a design too large for the part computes (no board can take it)
    fit: Literal["refuse", "warn"] = "refuse"
    # how many test inputs execute_onnx checks the emulator on (None: all; it runs about 50 inputs/s),
    # evenly spread over the test set
    check_inputs: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_folding(self):
        if (self.target_fps is None) == (self.folding_config is None):
            raise ValueError("give exactly one of target_fps and folding_config")
        return self
