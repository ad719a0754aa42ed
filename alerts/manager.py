"""AlarmManager: detector conditions in, alarm events out.

Pure: no clock of its own, no I/O, no Qt. Time comes from the conditions' `t` and from the
`now` the engine passes to `tick`, `acknowledge` and `pause_audio`, so every rule below is
tested with plain numbers, and `--speed` runs stamp events in virtual time.

The rules (IEC 60601-1-8 style, values from the profile):
- an alarm is raised when a condition with a priority becomes active; one alarm per
  (station, condition), so a worse condition (`spo2_severe` after `spo2_low`) re-alarms
  even when the first was acknowledged;
- a high alarm *latches*: if its condition clears before anyone acknowledged it, it stays
  (showing the worst value) until acknowledged; medium and low alarms clear by themselves;
- acknowledging silences an alarm; it stays visible while its condition holds;
- an unacknowledged high alarm escalates after `alarms.escalate_after_s`; a lost device
  (medium) becomes high after `lost_device.escalate_to_high_s`; escalations also go to an
  optional notification hook (a second screen, a supervisor's phone);
- audio pause silences every alarm for at most `alarms.audio_pause_s`, then sound resumes
  if anything still needs it (a new alarm ends the pause at once if the profile says so);
- every state change goes into `history`, with who acknowledged or paused.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from oximon.alarms import SYSTEM_STATION, WORST_IS_HIGHEST, AlarmView, Audible, worse
from oximon.alerts.visual import condition_words
from oximon.events import (
    AlarmAcknowledged,
    AlarmCleared,
    AlarmEscalated,
    AlarmRaised,
    AudioPaused,
    AudioResumed,
    EngineEvent,
)
from oximon.profile import Profile
from oximon.types import ConditionChange, Priority, Sample

__all__ = ["SYSTEM_STATION", "WORST_IS_HIGHEST", "AlarmManager", "AlarmView", "Audible",
           "HistoryEntry"]

log = logging.getLogger(__name__)

HISTORY_LIMIT = 100_000  # entries kept in memory; the store keeps the full record

Notifier = Callable[[AlarmEscalated], None]


class _AlarmFields(TypedDict):
    t: float
    station: str
    condition: str
    priority: Priority
    technical: bool
    message: str
    raised_t: float
    worst: float | None


@dataclass
class Alarm:
    """One alarm's mutable state inside the manager."""

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

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_t is not None

    @property
    def escalated(self) -> bool:
        return self.escalated_t is not None

    def see(self, value: float | None) -> None:
        if value is None:
            return
        self.value = value
        self.worst = worse(self.condition, self.worst, value)
        self.worst_seen = worse(self.condition, self.worst_seen, value)

    def view(self) -> AlarmView:
        return AlarmView(self.station, self.condition, self.priority, self.technical,
                         self.message, self.raised_t, self.condition_active,
                         self.condition_cleared_t, self.value, self.worst,
                         self.acknowledged_t, self.acknowledged_by, self.escalated_t,
                         self.worst_seen)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One alarm or audio state change. `state` is an event state ("raised",
    "acknowledged", "escalated", "cleared", "paused", "resumed") or "condition_cleared"
    (a latched alarm's condition ended; the alarm stays until acknowledged)."""

    t: float
    kind: str  # "alarm" | "audio"
    state: str
    station: str | None = None
    condition: str | None = None
    priority: Priority = Priority.NONE
    by: str = ""
    value: float | None = None
    worst: float | None = None


class AlarmManager:
    """The `oximon.ports.AlarmSystem`: the one owner of alarm state (plus its `history`)."""

    def __init__(self, profile: Profile, notify: Notifier | None = None):
        self.apply_profile(profile)
        self.notify = notify
        self._alarms: dict[tuple[str, str], Alarm] = {}
        self.history: deque[HistoryEntry] = deque(maxlen=HISTORY_LIMIT)
        self.paused_until: float | None = None
        self.paused_by = ""

    def apply_profile(self, profile: Profile) -> None:
        """Take the profile's alarm settings (at start, and when a supervisor changes them
        while running: alarms already raised keep their state and follow the new timings)."""
        alarms = profile["alarms"]
        self.latch_high: bool = alarms["latch_high"]
        self.escalate_after_s: float = alarms["escalate_after_s"]
        self.audio_pause_s: float = alarms["audio_pause_s"]
        self.new_alarm_ends_pause: bool = alarms["new_alarm_ends_pause"]
        self.escalate_to_high_s: dict[str, float] = {
            "lost_device": profile["lost_device"]["escalate_to_high_s"],
            "device_not_found": profile["lost_device"]["escalate_to_high_s"],
        }

    # -- conditions ---------------------------------------------------------------------
    def on_condition(self, change: ConditionChange) -> list[EngineEvent]:
        if change.priority is Priority.NONE:
            return []  # shown on the tile (e.g. the watch band), never an alarm
        key = (change.station, change.condition)
        alarm = self._alarms.get(key)
        if change.active:
            if alarm is not None:
                alarm.see(change.value)
                if not alarm.condition_active:  # a latched alarm's condition came back
                    alarm.condition_active = True
                    alarm.condition_cleared_t = None
                return []
            alarm = Alarm(change.station, change.condition, change.priority, change.technical,
                          change.t, change.message or condition_words(change.condition),
                          onset=change.onset, raised_priority=change.priority)
            alarm.see(change.value)
            self._alarms[key] = alarm
            out: list[EngineEvent] = [self._raised(alarm, change)]
            if self.paused_until is not None and self.new_alarm_ends_pause:
                out.append(self._resumed(change.t, reason="new alarm"))
            return out
        if alarm is None:
            return []
        alarm.see(change.value)
        alarm.condition_active = False
        alarm.condition_cleared_t = change.t
        if not alarm.acknowledged and self._latches(alarm):
            self._record(alarm, "condition_cleared", change.t)
            return []
        del self._alarms[key]
        return [self._cleared(alarm, change.t)]

    def _latches(self, alarm: Alarm) -> bool:
        return self.latch_high and alarm.priority >= Priority.HIGH

    # -- time ---------------------------------------------------------------------------
    def tick(self, now: float) -> list[EngineEvent]:
        out: list[EngineEvent] = []
        for alarm in list(self._alarms.values()):
            if alarm.acknowledged or alarm.escalated:
                continue
            age = now - alarm.raised_t
            to_high = self.escalate_to_high_s.get(alarm.condition)
            if alarm.priority < Priority.HIGH:
                if to_high is not None and age >= to_high:
                    before = alarm.priority
                    alarm.priority = Priority.HIGH
                    out.append(self._escalate(alarm, now, from_priority=before))
            elif age >= self.escalate_after_s:
                out.append(self._escalate(alarm, now))
        if self.paused_until is not None and now >= self.paused_until:
            out.append(self._resumed(now, reason="pause expired"))
        return out

    def _escalate(self, alarm: Alarm, now: float,
                  from_priority: Priority | None = None) -> AlarmEscalated:
        alarm.escalated_t = now
        self._record(alarm, "escalated", now)
        event = AlarmEscalated(**self._common(alarm, now),
                               unacknowledged_s=round(now - alarm.raised_t, 3),
                               from_priority=from_priority)
        if self.notify is not None:
            try:
                self.notify(event)
            except Exception:  # a broken second screen must never stop the alarms
                log.exception("escalation notifier failed on %s", event)
        return event

    # -- people -------------------------------------------------------------------------
    def acknowledge(self, now: float, station: str, condition: str | None = None,
                    by: str = "") -> list[EngineEvent]:
        """Acknowledge one alarm (`condition`) or every alarm of a station."""
        out: list[EngineEvent] = []
        for key, alarm in list(self._alarms.items()):
            if key[0] != station or (condition is not None and key[1] != condition):
                continue
            if alarm.acknowledged:
                continue
            alarm.acknowledged_t, alarm.acknowledged_by = now, by
            self._record(alarm, "acknowledged", now, by)
            out.append(AlarmAcknowledged(**self._common(alarm, now), by=by))
            if not alarm.condition_active:  # latched: seen now, so it ends
                del self._alarms[key]
                out.append(self._cleared(alarm, now, by))
        return out

    def pause_audio(self, now: float, by: str = "") -> list[EngineEvent]:
        """Silence every alarm for at most `alarms.audio_pause_s` (pausing again restarts
        the countdown, never lengthens it past the maximum). A profile with 0 forbids it."""
        if self.audio_pause_s <= 0:
            return []
        self.paused_until = now + self.audio_pause_s
        self.paused_by = by
        self.history.append(HistoryEntry(now, "audio", "paused", by=by))
        return [AudioPaused(t=now, by=by, until=round(self.paused_until, 3),
                            duration_s=self.audio_pause_s)]

    def resume_audio(self, now: float, by: str = "") -> list[EngineEvent]:
        if self.paused_until is None:
            return []
        return [self._resumed(now, by=by, reason="by hand")]

    def observe(self, station: str, sample: Sample) -> None:
        """A reading of a station: the worst value its alarms have seen follows it (while
        their condition holds), so the screen can say "lowest 77 %" between verdicts."""
        if not sample.valid:
            return
        for (sid, condition), alarm in self._alarms.items():
            if sid != station or not alarm.condition_active:
                continue
            if condition.startswith("spo2"):
                alarm.worst_seen = worse(condition, alarm.worst_seen, sample.spo2)
            elif condition.startswith("pr") and sample.pr == sample.pr:
                alarm.worst_seen = worse(condition, alarm.worst_seen, sample.pr)

    # -- what the UI and the speaker read -----------------------------------------------
    def active_alarms(self) -> list[AlarmView]:
        """Every alarm still shown, most urgent first (unacknowledged, escalated, priority,
        oldest)."""
        return sorted((a.view() for a in self._alarms.values()), key=AlarmView.sort_key)

    def audible(self) -> Audible | None:
        """The tone that should sound now, or None (nothing unacknowledged, or paused)."""
        if self.paused_until is not None:
            return None
        loud = [a for a in self._alarms.values() if not a.acknowledged]
        if not loud:
            return None
        top = max(a.priority for a in loud)
        return Audible(top, any(a.escalated for a in loud if a.priority == top))

    @property
    def audio_paused(self) -> bool:
        return self.paused_until is not None

    def pause_remaining(self, now: float) -> float:
        """Seconds left of the audio pause (0 when not paused), for the UI's countdown."""
        return 0.0 if self.paused_until is None else max(0.0, self.paused_until - now)

    # -- events and history -------------------------------------------------------------
    def _resumed(self, t: float, by: str = "", reason: str = "") -> AudioResumed:
        self.paused_until = None
        self.paused_by = ""
        self.history.append(HistoryEntry(t, "audio", "resumed", by=by))
        sounding = self.audible()
        return AudioResumed(t=t, by=by, reason=reason,
                            sounding=sounding.priority if sounding else None)

    def _record(self, alarm: Alarm, state: str, t: float, by: str = "") -> None:
        self.history.append(HistoryEntry(t, "alarm", state, alarm.station, alarm.condition,
                                         alarm.priority, by, alarm.value, alarm.worst))

    @staticmethod
    def _common(alarm: Alarm, t: float) -> _AlarmFields:
        """The fields every alarm event carries, as the alarm stands at `t`."""
        return {"t": t, "station": alarm.station, "condition": alarm.condition,
                "priority": alarm.priority, "technical": alarm.technical,
                "message": alarm.message, "raised_t": round(alarm.raised_t, 3),
                "worst": alarm.worst}

    def _raised(self, alarm: Alarm, change: ConditionChange) -> AlarmRaised:
        self._record(alarm, "raised", change.t)
        return AlarmRaised(**self._common(alarm, change.t), value=change.value,
                           onset=None if change.onset is None else round(change.onset, 3))

    def _cleared(self, alarm: Alarm, t: float, by: str = "") -> AlarmCleared:
        self._record(alarm, "cleared", t, by)
        cleared_t = alarm.condition_cleared_t
        return AlarmCleared(**self._common(alarm, t), by=by,
                            condition_cleared_t=None if cleared_t in (None, t)
                            else round(cleared_t, 3))
