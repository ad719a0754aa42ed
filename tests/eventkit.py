"""Typed engine events for tests, from the words a test speaks ("raised", "high")."""

from __future__ import annotations

from oximon.device_state import SignalWatch
from oximon.engine import Engine
from oximon.events import (
    AlarmAcknowledged,
    AlarmCleared,
    AlarmEscalated,
    AlarmEvent,
    AlarmRaised,
)
from oximon.types import Priority, SourceEvent

_ALARMS: dict[str, type[AlarmEvent]] = {
    "raised": AlarmRaised, "acknowledged": AlarmAcknowledged,
    "escalated": AlarmEscalated, "cleared": AlarmCleared}


def alarm_event(state: str, t: float, station: str, condition: str,
                priority: str | Priority = "high", technical: bool = False,
                raised_t: float | None = None, **extra: object) -> AlarmEvent:
    """An alarm event as the alarm manager makes it (`extra`: value, by, ...)."""
    cls = _ALARMS[state]
    if cls is AlarmEscalated:
        extra.setdefault("unacknowledged_s", 0.0)
    prio = priority if isinstance(priority, Priority) else Priority.parse(priority)
    return cls(t=float(t), station=station, condition=condition, priority=prio,
               technical=technical, raised_t=float(t if raised_t is None else raised_t),
               **extra)  # type: ignore[arg-type]


def feed_as_source(engine: Engine, station: str, item: SourceEvent) -> None:
    """Feed the engine as a real source would: a source decides its device's state
    (oximon.device_state), so a test's sample goes through the same watch, starting
    from the state the engine shows now."""
    for event in SignalWatch(engine.stations[station].state).see(item):
        engine.feed(station, event)
