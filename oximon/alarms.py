"""What the alarm system shows: a snapshot of each active alarm and the tone to play.

The alarm manager (oximon.alerts) owns alarm state; the banner, the tiles, the escalation
overlay and the speaker render these snapshots and keep no alarm state of their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from oximon.types import DeviceState, Priority

# Conditions whose worst value is the highest one; for every other, the lowest is worst.
WORST_IS_HIGHEST = frozenset({"pr_high"})

# Alarms that concern the whole system rather than one booth (a stalled engine, no sound).
SYSTEM_STATION = "system"


def worse(condition: str, a: float | None, b: float | None) -> float | None:
    """The more extreme of two values for `condition` (None when both are None)."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b) if condition in WORST_IS_HIGHEST else min(a, b)


def condition_unit(condition: str) -> str:
    """The unit a condition's value is shown in ("%", "/min"; "" for a technical one)."""
    if condition.startswith("spo2"):
        return "%"
    if condition.startswith("pr"):
        return "/min"
    return ""


class AcknowledgeMarks:
    """Acknowledged and escalated, read from their times: shared by the manager's mutable
    alarm and the screen's frozen snapshot so the two can never disagree."""

    __slots__ = ()
    acknowledged_t: float | None
    escalated_t: float | None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_t is not None

    @property
    def escalated(self) -> bool:
        return self.escalated_t is not None


class AlarmRequestError(ValueError):
    """A person asked for something the alarm system cannot do (the message says why)."""


@dataclass(frozen=True)
class RestoredAlarm:
    """An unacknowledged high alarm an interrupted run left (read back from the store),
    for `AlarmSystem.restore`."""

    station: str
    condition: str
    priority: Priority
    message: str = ""
    value: float | None = None
    worst: float | None = None
    escalated: bool = False


class LiveNumbers(Protocol):
    """A station's numbers right now (the engine's StationLive)."""

    @property
    def state(self) -> DeviceState: ...
    @property
    def spo2(self) -> float: ...
    @property
    def pr(self) -> float: ...


@dataclass(frozen=True, slots=True)
class AlarmView(AcknowledgeMarks):
    """One active alarm as the screen shows it.

    `worst` is what the detectors reported (it goes into the alarm log); `worst_seen` the
    most extreme reading while the condition held, samples included ("lowest 77 %")."""

    station: str
    condition: str
    priority: Priority
    technical: bool
    message: str
    raised_t: float
    condition_active: bool
    condition_cleared_t: float | None
    value: float | None
    worst: float | None
    acknowledged_t: float | None
    acknowledged_by: str
    escalated_t: float | None
    worst_seen: float | None = None
    # Issue 12: one alarm per booth. Its active conditions (most urgent first), the line
    # that says them with their values ("Severe low oxygen 74 %, pulse too slow 47/min"),
    # and, once the guest got worse after an acknowledge, "worse since acknowledged:
    # 84 → 77 %".
    conditions: tuple[str, ...] = ()
    details: str = ""
    worse_since_ack: str = ""

    @property
    def latched(self) -> bool:
        """Condition gone, alarm kept until someone acknowledges it ("was 84 %")."""
        return not self.condition_active and not self.acknowledged

    @property
    def state(self) -> str:
        if self.acknowledged:
            return "acknowledged"
        if self.escalated:
            return "escalated"
        return "latched" if self.latched else "raised"

    @property
    def unit(self) -> str:
        return condition_unit(self.condition)

    def what_happened(self, live: LiveNumbers | None) -> str:
        """'was 84 %, now 95 %' once latched ('lowest 84 %, now 86 %' while it holds) for a
        vital-sign alarm; '' for a technical one."""
        if not self.unit:
            return ""
        was = worse(self.condition, self.worst_seen, self.worst)
        if was is None:
            was = self.value
        if was is None:
            return ""
        now_value = math.nan
        if live is not None and live.state.has_numbers:
            now_value = live.spo2 if self.unit == "%" else live.pr
        now = "no reading now" if math.isnan(now_value) else f"now {now_value:.0f} {self.unit}"
        extreme = "highest" if self.condition in WORST_IS_HIGHEST else "lowest"
        return f"{'was' if self.latched else extreme} {was:.0f} {self.unit}, {now}"

    def sort_key(self) -> tuple[bool, int, bool, bool, float]:
        """Most urgent first: unacknowledged, then priority, then a person's vital signs
        before a technical alarm (a severe low on one booth outranks a lost device on
        another, even an escalated one), then escalated, then oldest."""
        return (self.acknowledged, -self.priority, self.technical, not self.escalated,
                self.raised_t)


@dataclass(frozen=True, slots=True)
class Audible:
    """What the speaker should play right now."""

    priority: Priority
    escalated: bool
