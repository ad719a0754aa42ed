"""One alarm's state inside the manager: the booth's alarm (every vital-sign condition of a
booth, combined) or one technical alarm (a device fault, the system).

Why one alarm per booth: a single desaturation used to raise severe, low, dropping,
falling-fast and pulse alarms at once, five banner lines and tones for one guest, hiding
other booths. Now the conditions are the alarm's *details*; its priority is the highest
one seen in the episode, and only a rise in priority (or a worse condition after an
acknowledge) sounds again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from oximon.alarms import AcknowledgeMarks, AlarmView, worse
from oximon.alarms import condition_unit as unit
from oximon.alerts.visual import condition_words
from oximon.types import Priority

VITAL = "*vital"  # the key of a booth's combined vital-sign alarm

# Same priority, more urgent: the condition shown first (and a re-alarm when it starts
# after an acknowledge). Lower index = worse.
SEVERITY = ("spo2_severe", "spo2_low", "spo2_drop", "pr_low", "pr_high")


def rank(condition: str, priority: Priority) -> tuple[int, int]:
    """Sort key: higher priority first, then the more urgent condition."""
    order = SEVERITY.index(condition) if condition in SEVERITY else len(SEVERITY)
    return (-int(priority), order)


@dataclass
class Held:
    """One active condition of an alarm."""

    priority: Priority
    message: str
    value: float | None = None


@dataclass
class Alarm(AcknowledgeMarks):
    """One alarm's mutable state. `condition` is its identity in events (the condition
    that gave it its priority: it changes only with a priority rise, so the incident log
    can pair raised and cleared); `lead` what the screen names first."""

    station: str
    condition: str
    priority: Priority
    technical: bool
    raised_t: float
    message: str = ""
    onset: float | None = None
    value: float | None = None
    worst: float | None = None
    worst_seen: float | None = None  # samples included (the screen's "lowest 77 %")
    condition_active: bool = True
    condition_cleared_t: float | None = None
    acknowledged_t: float | None = None
    acknowledged_by: str = ""
    escalated_t: float | None = None
    raised_priority: Priority = Priority.NONE
    held: dict[str, Held] = field(default_factory=dict)
    lead: str = ""
    # Re-alarm on worsening: the SpO2 when acknowledged, since when it has been a step
    # below, and what the screen says once it sounded again.
    ack_spo2: float | None = None
    ack_rank: tuple[int, int] | None = None  # the worst condition seen since acknowledged
    below_since: float | None = None
    worse_text: str = ""
    last_reminder_t: float | None = None

    def conditions(self) -> tuple[str, ...]:
        """Active conditions, most urgent first."""
        return tuple(sorted(self.held, key=lambda c: rank(c, self.held[c].priority)))

    def see(self, value: float | None, condition: str | None = None) -> None:
        cond = condition or self.condition
        if value is None:
            return
        if cond == self.lead or condition is None:
            self.value = value
        if unit(cond) == unit(self.lead or self.condition):
            self.worst = worse(cond, self.worst, value)
            self.worst_seen = worse(cond, self.worst_seen, value)

    def details(self) -> str:
        """"Severe low oxygen 74 %, low oxygen, oxygen dropping, pulse too slow 47/min":
        the conditions most urgent first, each unit's latest value once."""
        parts: list[str] = []
        shown: set[str] = set()
        for cond in self.conditions():
            h = self.held[cond]
            words = (h.message.split(" — ")[0] or condition_words(cond))
            if parts:
                words = words[:1].lower() + words[1:]
            u = unit(cond)
            if h.value is not None and u and u not in shown:
                shown.add(u)
                words += f" {h.value:.0f} %" if u == "%" else f" {h.value:.0f}{u}"
            parts.append(words)
        if self.worse_text:
            parts.append(self.worse_text)
        return ", ".join(parts)

    def follow(self, spo2: float, pr: float) -> None:
        """A valid reading: the held conditions show the latest value of their unit."""
        for cond, h in self.held.items():
            u = unit(cond)
            if u == "%":
                h.value = spo2
            elif u and not math.isnan(pr):
                h.value = pr

    def view(self) -> AlarmView:
        return AlarmView(self.station, self.lead or self.condition, self.priority,
                         self.technical, self.message, self.raised_t, self.condition_active,
                         self.condition_cleared_t, self.value, self.worst,
                         self.acknowledged_t, self.acknowledged_by, self.escalated_t,
                         self.worst_seen, conditions=self.conditions(),
                         details=self.details(), worse_since_ack=self.worse_text)
