"""Detector settings, read once from a profile and turned into exact integer units.

Why integers: the live pipeline (one sample at a time, in Python) and batch analysis
(whole arrays, in numpy) must reach *identical* verdicts, to the sample. Floating-point
sums taken in a different order can differ in the last bit and flip a comparison, so
every quantity that is summed or compared is first rounded to an integer: SpO2 in
milli-percent (`Q` per point) and time in milliseconds. Integer arithmetic is exact in both
worlds, and rounding SpO2 to 0.001 point or time to 1 ms changes no clinical decision.
"""

from __future__ import annotations

from typing import NamedTuple

from oximon.codes import Flags, Priority
from oximon.profile import Profile

Q = 1000  # SpO2 units per percentage point
MS = 1000  # time units per second
# Gaps longer than this (ms) are capped in rate arithmetic so products stay in int64.
DT_CAP_MS = 10**9
# Times beyond this (seconds from the epoch of the record) cannot be turned into int64 ms.
T_LIMIT_S = 1e12

# Flags that mean the device has no value (the number, if any, is not a measurement).
# LOW_SIGNAL and MOTION only make a reading doubtful: real desaturations often come with
# poor perfusion, so they must not silence the numbers; the artifact rule judges them.
INVALID_FLAGS = int(Flags.FINGER_OUT | Flags.SEARCHING)


def qround(x: float, scale: int) -> int:
    """Round half to even, exactly like numpy.rint, so both paths quantise alike."""
    return round(x * scale)


class ThresholdRule(NamedTuple):
    """A level rule: breach for `delay_ms`, clears past `threshold ± hysteresis`."""

    name: str
    threshold: float  # SpO2 rules: milli-percent integer value; PR: bpm
    recover: float  # the level at which an active rule clears
    delay_ms: int
    priority: Priority
    below: bool = True
    message: str = ""
    # Integrated delay (SatSeconds): milli-percent x ms below the threshold, summed from the
    # onset, that activates the rule before `delay_ms` (0: off).
    sat: int = 0


class Settings(NamedTuple):
    """A profile in the exact integer units of the rules (immutable: a named tuple, which
    Python creates in a tenth of the time of a frozen dataclass of 30 fields, a cost every
    `oximon analyze` pays at import)."""

    spo2_min_q: int
    pr_min: float
    pr_max: float
    gap_ms: int
    art_step_q: int
    art_rate_q: int  # milli-percent per second
    art_hold_ms: int
    avg_ms: int
    avg_median: bool
    spo2_low: ThresholdRule
    spo2_severe: ThresholdRule
    pr_low: ThresholdRule
    pr_high: ThresholdRule
    drop_points_q: int
    drop_recover_q: int  # clears when q > baseline - drop_recover_q
    drop_delay_ms: int
    drop_priority: Priority
    base_win_ms: int
    base_lag_ms: int
    no_reading_ms: int
    no_reading_s: float
    no_reading_priority: Priority
    stale_ms: int
    stale_s: float
    stale_priority: Priority
    lost_priority: Priority
    not_found_s: float
    battery_priority: Priority
    event_points_q: int
    event_min_s: float

    @classmethod
    def from_profile(cls, p: Profile) -> Settings:
        def ms(x: float) -> int:
            return qround(x, MS)

        def spo2_rule(name: str, message: str) -> ThresholdRule:
            s = p[name]
            return ThresholdRule(name, qround(s["threshold"], Q),
                                 qround(s["threshold"] + s["hysteresis"], Q),
                                 ms(s["delay_s"]), s["priority"], True, message,
                                 qround(s.get("sat_seconds", 0.0), Q) * MS)

        def pr_rule(name: str, below: bool, message: str) -> ThresholdRule:
            s = p[name]
            thr, h = s["threshold"], s["hysteresis"]
            return ThresholdRule(name, thr, thr + h if below else thr - h, ms(s["delay_s"]),
                                 s["priority"], below, message)

        drop = p["spo2_drop"]
        return cls(
            spo2_min_q=qround(p["validity"]["spo2_min"], Q),
            pr_min=p["validity"]["pr_min"],
            pr_max=p["validity"]["pr_max"],
            gap_ms=ms(p["validity"]["max_gap_s"]),
            art_step_q=qround(p["artifact"]["max_step"], Q),
            art_rate_q=qround(p["artifact"]["max_rate"], Q),
            art_hold_ms=ms(p["artifact"]["hold_s"]),
            avg_ms=ms(p["averaging"]["window_s"]),
            avg_median=p["averaging"]["method"] == "median",
            spo2_low=spo2_rule("spo2_low", "Low oxygen — check breathing, SAVE ME"),
            spo2_severe=spo2_rule("spo2_severe", "Severe low oxygen — check breathing, "
                                  "SAVE ME"),
            pr_low=pr_rule("pr_low", True, "Pulse too slow"),
            pr_high=pr_rule("pr_high", False, "Pulse too fast"),
            drop_points_q=qround(drop["points"], Q),
            drop_recover_q=qround(drop["points"] - drop["hysteresis"], Q),
            drop_delay_ms=ms(drop["delay_s"]),
            drop_priority=drop["priority"],
            base_win_ms=ms(drop["baseline_window_s"]),
            base_lag_ms=ms(drop["baseline_lag_s"]),
            no_reading_ms=ms(p["no_reading"]["delay_s"]),
            no_reading_s=p["no_reading"]["delay_s"],
            no_reading_priority=p["no_reading"]["priority"],
            stale_ms=ms(p["stale_data"]["delay_s"]),
            stale_s=p["stale_data"]["delay_s"],
            stale_priority=p["stale_data"]["priority"],
            lost_priority=p["lost_device"]["priority"],
            not_found_s=p["lost_device"]["not_found_s"],
            battery_priority=p["battery_low"]["priority"],
            event_points_q=qround(p["events"]["points"], Q),
            event_min_s=p["events"]["min_duration_s"],
        )

    @property
    def averaging_delay_s(self) -> float:
        """How much later a sudden change reaches the alarm rules because of averaging:
        half the window (a median or mean follows a step once half the window has it)."""
        return self.avg_ms / MS / 2


MESSAGES = {
    "spo2_drop": "Oxygen dropping — look now",
    "no_reading": "No reading — check on the person",
    "stale_data": "No data from the device",
    "lost_device": "Lost device",
    "device_not_found": "Device not found — check it is on and near",
    "battery_low": "Battery low",
}
