"""The harness's exceptions. Library code raises these; only the command lines turn them into exit
messages, so a caller (a test, the pipeline, a notebook) can catch exactly what it expects."""

from __future__ import annotations


class HarnessError(Exception):
    """Anything the harness reports to a user as a clear message rather than a traceback."""


class ConfigError(HarnessError):
    """A task, board or command-line configuration that does not validate."""


class DatasetError(HarnessError):
    """A dataset folder or EEMBC test folder that is missing or malformed."""


class GateError(HarnessError):
    """A check between stages failed (a metric below its threshold, a non-bit-exact emulation)."""


class FitError(GateError):
    """A design that does not fit its board (LUT, BRAM, DSP beyond the budget), by the toolchain's
    estimates, which it carries: a design-space sweep records such a design as not fitting."""

    def __init__(self, message: str, estimates: dict | None = None):
        super().__init__(message)
        self.estimates = dict(estimates or {})


class BuildError(HarnessError):
    """A compiler or tool run failed, or a tool the step cannot do without is missing."""


class ToolMissing(BuildError):
    """A tool a step cannot do without (vivado, xsct, bootgen, updatemem, a cross compiler) is not on PATH."""

    def __init__(self, tools: list[str], step: str, hint: str = "install Vivado/Vitis and source their settings64.sh"):
        self.tools, self.step = list(tools), step
        names = self.tools[0] if len(self.tools) == 1 else f"{', '.join(self.tools[:-1])} and {self.tools[-1]}"
        super().__init__(f"{names} not found on PATH, needed for {step}: {hint}")


class DutError(HarnessError):
    """The DUT did not answer, answered something unexpected, or went away."""


class DutRejected(DutError):
    """The DUT answered a command with an e-[...] line: the command or its input was refused."""


class DutLost(DutError):
    """The link to the DUT closed or failed mid-session (pty closed, USB unplugged, QEMU exited)."""
