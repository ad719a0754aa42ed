"""AlarmManager: conditions in, alarm events out. Pure: no clock of its own, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from oximon.profile import Profile
from oximon.types import ConditionChange, EngineEvent, Priority


@dataclass
class Alarm:
    station: str
    condition: str
    priority: Priority
    technical: bool
    raised_t: float
    message: str = ""
    acknowledged_t: float | None = None
    acknowledged_by: str = ""


class AlarmManager:
    def __init__(self, profile: Profile):
        self.profile = profile
        self.active: dict[tuple[str, str], Alarm] = {}

    def on_condition(self, change: ConditionChange) -> list[EngineEvent]:
        key = (change.station, change.condition)
        if change.active and key not in self.active:
            alarm = Alarm(change.station, change.condition, change.priority, change.technical,
                          change.t, change.message)
            self.active[key] = alarm
            return [self._event(alarm, "raised", change.t, value=change.value)]
        if not change.active and key in self.active:
            alarm = self.active.pop(key)
            return [self._event(alarm, "cleared", change.t)]
        return []

    def tick(self, now: float) -> list[EngineEvent]:
        return []

    def acknowledge(self, now: float, station: str, condition: str | None = None,
                    by: str = "") -> list[EngineEvent]:
        out = []
        for (sid, cond), alarm in self.active.items():
            wanted = sid == station and (condition is None or cond == condition)
            if wanted and alarm.acknowledged_t is None:
                alarm.acknowledged_t, alarm.acknowledged_by = now, by
                out.append(self._event(alarm, "acknowledged", now, by=by))
        return out

    @staticmethod
    def _event(alarm: Alarm, state: str, t: float, **extra: object) -> EngineEvent:
        fields: dict[str, object] = {
            "condition": alarm.condition,
            "priority": alarm.priority.label,
        }
        if alarm.technical:
            fields["technical"] = True
        if alarm.message:
            fields["message"] = alarm.message
        fields.update({k: v for k, v in extra.items() if v not in (None, "")})
        return EngineEvent("alarm", state, t, alarm.station, fields)
