"""Test doubles for the dashboard: an in-memory IncidentLog that records every call, and an
alarm system that follows the alarms issue's contract (latching, audio pause, escalation)
where the real manager is not merged yet."""

from __future__ import annotations

from dataclasses import dataclass, field

from alerts import AlarmManager
from oximon.profile import Profile
from oximon.types import ConditionChange, EngineEvent, Priority


@dataclass
class FakeIncidentLog:
    """oximon.ports.IncidentLog, in memory; `calls` keeps everything in order."""

    calls: list[tuple] = field(default_factory=list)
    open: dict[str, str] = field(default_factory=dict)  # station -> id
    fail_actions: bool = False
    _n: int = 0

    def open_incident(self, station: str, t: float, reason: str = "manual",
                      by: str = "") -> str:
        self._n += 1
        iid = f"inc-{self._n}"
        self.open[station] = iid
        self.calls.append(("open", station, t, reason, by))
        return iid

    def current_incident(self, station: str) -> str | None:
        return self.open.get(station)

    def record_action(self, incident_id: str, action: str, t: float, by: str = "",
                      details: dict[str, object] | None = None) -> None:
        if self.fail_actions:
            raise OSError("disk full")
        self.calls.append(("action", incident_id, action, t, dict(details or {})))

    def close_incident(self, incident_id: str, t: float, outcome: str,
                       aftercare: list[str] | None = None, by: str = "",
                       note: str = "") -> None:
        self.calls.append(("close", incident_id, t, outcome, list(aftercare or []), note))
        for station, iid in list(self.open.items()):
            if iid == incident_id:
                del self.open[station]

    def actions(self) -> list[tuple[str, float, dict]]:
        return [(c[2], c[3], c[4]) for c in self.calls if c[0] == "action"]


class ContractAlarms(AlarmManager):
    """The minimal manager plus what issue 5 promises: a high alarm latches (its condition
    clearing emits "cleared" with latched=True and it stays until acknowledged),
    escalation of an unacknowledged high alarm, and `pause_audio` with "audio" events."""

    def __init__(self, profile: Profile):
        super().__init__(profile)
        self.paused_until: float | None = None
        self.escalated: set[tuple[str, str]] = set()
        self.latched: set[tuple[str, str]] = set()

    def on_condition(self, change: ConditionChange) -> list[EngineEvent]:
        key = (change.station, change.condition)
        alarm = self.active.get(key)
        if (not change.active and alarm is not None and alarm.priority is Priority.HIGH
                and alarm.acknowledged_t is None):
            self.latched.add(key)
            return [self._event(alarm, "cleared", change.t, latched=True)]
        return super().on_condition(change)

    def acknowledge(self, now: float, station: str, condition: str | None = None,
                    by: str = "") -> list[EngineEvent]:
        out = super().acknowledge(now, station, condition, by)
        for key in [k for k in self.latched if k[0] == station]:
            self.latched.discard(key)
            out.append(self._event(self.active.pop(key), "cleared", now))
        return out

    def tick(self, now: float) -> list[EngineEvent]:
        out: list[EngineEvent] = []
        after = float(self.profile["alarms"]["escalate_after_s"])
        for key, alarm in self.active.items():
            if (alarm.priority is Priority.HIGH and alarm.acknowledged_t is None
                    and key not in self.escalated and now - alarm.raised_t >= after):
                self.escalated.add(key)
                out.append(self._event(alarm, "escalated", now))
        if self.paused_until is not None and now >= self.paused_until:
            self.paused_until = None
            out.append(EngineEvent("audio", "resumed", now))
        return out

    def pause_audio(self, now: float, by: str = "") -> list[EngineEvent]:
        self.paused_until = now + float(self.profile["alarms"]["audio_pause_s"])
        return [EngineEvent("audio", "paused", now, None,
                            {"until": self.paused_until, "by": by})]
