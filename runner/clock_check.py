"""The DUT's clock against the host's. A DUT's m-lap-us comes from a timer whose rate the firmware
assumes (TIMER_HZ, GTIMER_HZ: constants of the board's HAL); when the board's clock is not what
they say, every throughput is scaled by the error and nothing else shows it. The host sees the two
m-lap-us lines of an `infer` arrive: their distance on the host's clock is the DUT's interval plus
the jitter of the link, so over a window of a second or more the two agree to well under 2 %.
A larger difference is named: a wrong timer clock, or a UART too slow for the window (the host then
sees the lines' transfer, not the loop)."""

from __future__ import annotations

from runner.dut import LAP

MAX_DEVIATION = 0.02  # the DUT's interval may differ from the host's by this fraction


def lap_arrivals(reply_times: list[tuple[str, float]]) -> tuple[float, float] | None:
    """When the host received the first and the last m-lap-us line of a reply (the DUT's start and
    end, as parse_infer takes them), or None when there are not two."""
    times = [t for line, t in reply_times if LAP.match(line)]
    return (times[0], times[-1]) if len(times) > 1 else None


def compare(dut_us: int, host_s: float) -> dict:
    """The DUT's interval (µs of its clock) against the host's (s); `within` False beyond MAX_DEVIATION."""
    dut_s = dut_us / 1e6
    deviation = dut_s / host_s - 1 if host_s > 0 else None
    return {"dut_s": dut_s, "host_s": round(host_s, 6), "deviation": None if deviation is None else round(deviation, 5),
            "limit": MAX_DEVIATION, "within": deviation is not None and abs(deviation) <= MAX_DEVIATION}


def describe(check: dict) -> str:
    """One line for the log: the figures, and for a deviation what may cause it."""
    figures = f"the DUT's m-lap-us interval {check['dut_s']:.4f} s, the host's clock {check['host_s']:.4f} s"
    if check["within"]:
        return f"clock check: {figures} ({check['deviation']:+.2%}, within {MAX_DEVIATION:.0%})"
    if check["deviation"] is None:
        return (f"WARNING: clock check: {figures}: both m-lap-us lines reached the host together, so the DUT sends "
                "its output only at the end of a reply and its timer cannot be checked")
    return (f"WARNING: clock check: {figures} ({check['deviation']:+.2%}, beyond {MAX_DEVIATION:.0%}): either the "
            "firmware's timer clock is wrong (its TIMER_HZ/GTIMER_HZ in board.yaml is not the board's; every throughput "
            "is then off by as much) or the UART is too slow for the window (the lines' transfer is part of what the "
            "host sees: lengthen the window)")
