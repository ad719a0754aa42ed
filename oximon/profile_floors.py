"""Safety floors: how far a profile (or a booth's own limits) may move the alarms that
protect a person, each bound with its reason, and the cross-key checks that keep a
profile consistent.

A profile is data a site edits; a typo or a well-meant "fewer alarms" must not silence
the low-oxygen alarms the guideline asks for (GUIDELINE.md: SpO2 < 90 % for 15 s, high;
< 85 % for 5 s, high; a high alarm latches until acknowledged and escalates after 30 s).
Alarm burden comes down through per-episode logic and integrated delays, never by moving
these past their bounds (ALARMS.md). Every bound lives in `FLOORS`, one row per key; the
loader refuses a profile outside them with the file and the key named (exit 2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from oximon.codes import Priority


class Floor(NamedTuple):
    """A bound on one key: `low`/`high` for numbers, `at_least` for priorities, `equals`
    for switches; `reason` is said when a profile is refused."""

    key: str
    reason: str
    low: float | None = None
    high: float | None = None
    at_least: Priority | None = None
    equals: bool | None = None

    def problem(self, value: Any) -> str | None:
        """Why `value` is refused, or None when it is within the floor."""
        if self.at_least is not None and value < self.at_least:
            return f"must be {self.at_least.label} or higher, got {value.label}"
        if self.equals is not None and value is not self.equals:
            return f"must be {str(self.equals).lower()}"
        if self.low is not None and value < self.low:
            return f"{value:g} is below the safety floor {self.low:g}"
        if self.high is not None and value > self.high:
            return f"{value:g} is above the safety bound {self.high:g}"
        return None


GUIDE = "GUIDELINE.md"
FLOORS: tuple[Floor, ...] = (
    Floor("spo2_low.threshold", f"{GUIDE}: below 90 % a person may not be getting enough "
          "oxygen; 95 % and up is normal, so the limit stays within 90-94 %", 90.0, 94.0),
    Floor("spo2_low.delay_s", f"{GUIDE}: low oxygen alarms after at most 15 s", 0.0, 15.0),
    Floor("spo2_low.priority", f"{GUIDE}: low oxygen is a high-priority alarm",
          at_least=Priority.HIGH),
    Floor("spo2_low.hysteresis", "a wider recovery band hides the next fall", 0.0, 3.0),
    Floor("spo2_low.sat_seconds", "Nellcor SatSeconds settings go up to 100 points x s; "
          "more would hold a deep fall back past the fixed delay's purpose", 0.0, 100.0),
    Floor("spo2_severe.threshold", f"{GUIDE}: severe low oxygen is below 85 %; a site may "
          "raise it towards the low limit, never lower it", 85.0, 93.0),
    Floor("spo2_severe.delay_s", f"{GUIDE}: severe low oxygen alarms after at most 5 s",
          0.0, 5.0),
    Floor("spo2_severe.priority", f"{GUIDE}: severe low oxygen is a high-priority alarm",
          at_least=Priority.HIGH),
    Floor("no_reading.delay_s", f"{GUIDE}: no reading prompts a look at the person "
          "(10 s); a minute of silence is the most a site may allow", 0.0, 60.0),
    Floor("no_reading.priority", f"{GUIDE}: no reading is a medium technical alarm",
          at_least=Priority.MEDIUM),
    Floor("alarms.latch_high", f"{GUIDE}: a high alarm is latched until someone "
          "acknowledges it", equals=True),
    Floor("alarms.escalate_after_s", f"{GUIDE}: an unacknowledged high alarm escalates "
          "(30 s); at most a minute", 0.0, 60.0),
    Floor("alarms.realarm_step", "an acknowledged alarm must sound again on a further "
          "fall; more than 10 points would let a guest fall from 89 to 79 % unheard",
          1.0, 10.0),
    Floor("alarms.reminder_s", "IEC 60601-1-8 reminder signal: an acknowledged high "
          "alarm with no response logged is not forgotten for more than 5 minutes",
          30.0, 300.0),
    Floor("alarms.episode_s", "a condition returning within this is the same episode; "
          "longer would merge separate overdoses", 0.0, 300.0),
    Floor("lost_device.escalate_to_high_s", f"{GUIDE}: a lost device becomes high if not "
          "acknowledged in 60 s", 0.0, 60.0),
)


Check = Callable[[Callable[[str], Any]], tuple[str, str] | None]


def _order(lower: str, upper: str, why: str) -> Check:
    def check(get: Callable[[str], Any]) -> tuple[str, str] | None:
        if get(lower) < get(upper):
            return None
        return lower, (f"{get(lower):g} must be below '{upper}' ({get(upper):g}): {why}")
    return check


CONSISTENT: tuple[Check, ...] = (
    _order("spo2_severe.threshold", "spo2_low.threshold",
           "the severe limit lies below the low one"),
    _order("pr_low.threshold", "pr_high.threshold", "a pulse cannot be both too slow and "
           "too fast"),
    _order("validity.pr_min", "validity.pr_max", "no pulse would ever be valid"),
    _order("validity.pr_min", "pr_low.threshold", "a slow pulse would be thrown away as "
           "invalid before it could alarm"),
    _order("pr_high.threshold", "validity.pr_max", "a fast pulse would be thrown away as "
           "invalid before it could alarm"),
    _order("validity.spo2_min", "spo2_severe.threshold", "a low SpO2 would be thrown away "
           "as invalid before it could alarm"),
)


def problems(get: Callable[[str], Any]) -> list[tuple[str, str]]:
    """(dotted key, why) for every floor broken and every inconsistency, in table order."""
    out: list[tuple[str, str]] = []
    for floor in FLOORS:
        why = floor.problem(get(floor.key))
        if why is not None:
            out.append((floor.key, f"{why} ({floor.reason})"))
    for check in CONSISTENT:
        found = check(get)
        if found is not None:
            out.append(found)
    return out
