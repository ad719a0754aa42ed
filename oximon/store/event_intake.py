"""The one place the store reads (and writes) an engine event.

Everything the store needs from the engine's typed events is translated here into the
store's own plain values, and the incident events the store reports back are built here.
The alarm log keeps each event's fields as its JSON line has them (`payload`), so records
written before and after the typed events compare and chain alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oximon.events import EngineEvent, IncidentClosed, IncidentOpened, payload
from oximon.store.episode import is_high

SYSTEM = "system"  # the alarm station for what concerns the whole system (alerts' word)
AUTO = "oximon"  # the actor for what oximon does by itself
_LOG_OWN = ("condition", "priority", "technical", "by")  # alarm log columns of their own
_INCIDENT_KEYS = ("condition", "priority", "technical", "value", "message")


@dataclass(frozen=True)
class AlarmLogEntry:
    """An alarm state change or audio pause, for the alarm log."""

    kind: str  # "alarm" or "audio"
    state: str
    t: float
    station: str | None
    condition: str | None
    priority: str | None
    technical: bool
    actor: str
    rest: dict[str, Any]  # the other fields, kept as data
    write_now: bool  # an alarm is a record: written at once, not with the next batch


@dataclass(frozen=True)
class AlarmChange:
    """An alarm of a monitored station changed state: what the episode rule looks at."""

    station: str
    state: str
    t: float
    condition: str
    high: bool
    actor: str  # who changed it ("oximon" unless a person did)
    value: Any  # the reading that raised it (kept on an incident it opens)
    data: dict[str, Any]  # what the incident's "alarm" event keeps


@dataclass(frozen=True)
class Intake:
    """What one engine event means to the store."""

    t: float
    log: AlarmLogEntry | None
    change: AlarmChange | None


def _text(value: Any, size: int) -> str | None:
    return None if value is None else str(value)[:size]


def read_event(event: EngineEvent) -> Intake:
    """Translate an engine event into the store's own values (pure)."""
    f = payload(event)
    log = change = None
    if event.kind in ("alarm", "audio"):
        log = AlarmLogEntry(
            kind=event.kind, state=str(event.state)[:32], t=event.t, station=event.station,
            condition=_text(f.get("condition"), 64), priority=_text(f.get("priority"), 16),
            technical=bool(f.get("technical")), actor=str(f.get("by") or "")[:128],
            rest={k: v for k, v in f.items() if k not in _LOG_OWN},
            write_now=event.kind == "alarm")
    if event.kind == "alarm" and event.station is not None and event.station != SYSTEM:
        data = {k: v for k, v in f.items() if k in _INCIDENT_KEYS}
        data["state"] = event.state
        change = AlarmChange(
            station=event.station, state=event.state, t=event.t,
            condition=str(f.get("condition", "")),
            high=is_high(f.get("priority"), f.get("technical")),
            actor=str(f.get("by") or AUTO), value=f.get("value"), data=data)
    return Intake(event.t, log, change)


def incident_opened(t: float, station: str, incident_id: str, reason: str) -> IncidentOpened:
    """The event the store reports when it opens an incident."""
    return IncidentOpened(t=t, station=station, id=incident_id, reason=reason)


def incident_closed(t: float, station: str, incident_id: str, outcome: list[str]
                    ) -> IncidentClosed:
    """The event the store reports when an incident closes."""
    return IncidentClosed(t=t, station=station, id=incident_id, outcome=",".join(outcome))
