"""What the engine tells the CLI, the screen, the speaker and the store: one frozen
dataclass per kind of event.

Every part used to read `event.type`, `event.state` and `event.fields["..."]` and guess
what was there; now a listener matches on the class and reads named, typed fields. The
JSON lines of `oximon monitor --json` are a documented contract, so they are made in one
place only (`to_json`), from these classes, key for key as before.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from oximon.types import DeviceState, Priority


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every engine event: its `kind` and `state` name its JSON line."""

    kind: ClassVar[str] = ""
    keep_empty: ClassVar[frozenset[str]] = frozenset()  # fields written even when empty
    t: float


# -- alarms --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmEvent(Event):
    """An alarm of one station (a booth, or "system") changed state.

    `worst` is the most extreme value the detectors reported while the condition held;
    `raised_t` when the alarm was raised (the event's own `t` for `AlarmRaised`).
    """

    kind: ClassVar[str] = "alarm"
    state: ClassVar[str] = ""
    station: str
    condition: str
    priority: Priority
    technical: bool = False
    message: str = ""
    raised_t: float
    worst: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmRaised(AlarmEvent):
    """A booth's alarm started — or, with `from_priority`, the booth's one alarm took a
    higher priority from a worse condition (it sounds again; still one alarm, and the
    store opens an incident when it becomes high). `restored`: an unacknowledged high
    alarm of an interrupted incident, brought back latched at start."""

    state: ClassVar[str] = "raised"
    value: float | None = None  # the value that met the rule
    onset: float | None = None  # when the rule first held (t - onset = the alarm delay)
    from_priority: Priority | None = None
    restored: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmAcknowledged(AlarmEvent):
    state: ClassVar[str] = "acknowledged"
    by: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmEscalated(AlarmEvent):
    state: ClassVar[str] = "escalated"
    unacknowledged_s: float
    from_priority: Priority | None = None  # a medium alarm that became high


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmCleared(AlarmEvent):
    state: ClassVar[str] = "cleared"
    condition_cleared_t: float | None = None  # when a latched alarm's condition ended
    by: str = ""  # who acknowledged a latched alarm, ending it


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmUpdated(AlarmEvent):
    """A condition of a booth's alarm started or ended (the alarm log keeps every change),
    or the guest got worse since the acknowledge: then `sounds` and the alarm is
    unacknowledged again ("worse since acknowledged: 84 → 77 %")."""

    state: ClassVar[str] = "updated"
    reason: str
    conditions: tuple[str, ...] = ()  # the conditions active now, most urgent first
    value: float | None = None
    sounds: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmReminder(AlarmEvent):
    """A high alarm still active `reminder_s` after it was acknowledged and no response
    was logged: a short reminder tone (IEC 60601-1-8 reminder signal)."""

    state: ClassVar[str] = "reminder"
    acknowledged_s: float  # seconds since the acknowledge (or the last response)


# -- audio ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioPaused(Event):
    kind: ClassVar[str] = "audio"
    state: ClassVar[str] = "paused"
    by: str = ""
    until: float
    duration_s: float

    @property
    def station(self) -> None:
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioResumed(Event):
    kind: ClassVar[str] = "audio"
    state: ClassVar[str] = "resumed"
    by: str = ""
    reason: str = ""  # "by hand", "pause expired", "new alarm"
    sounding: Priority | None = None  # what sounds again now

    @property
    def station(self) -> None:
        return None


# -- devices, incidents, the engine itself -------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceStateChanged(Event):
    kind: ClassVar[str] = "device"
    station: str
    device_state: DeviceState
    detail: str = ""

    @property
    def state(self) -> str:
        return self.device_state.value

    @property
    def words(self) -> str:
        return self.device_state.words


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentOpened(Event):
    kind: ClassVar[str] = "incident"
    state: ClassVar[str] = "opened"
    keep_empty: ClassVar[frozenset[str]] = frozenset({"reason"})
    station: str
    id: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentClosed(Event):
    kind: ClassVar[str] = "incident"
    state: ClassVar[str] = "closed"
    keep_empty: ClassVar[frozenset[str]] = frozenset({"outcome"})
    station: str
    id: str
    outcome: str = ""  # comma-separated outcome words


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineStalled(Event):
    """The watchdog saw no engine activity (printed at once from its own thread)."""

    kind: ClassVar[str] = "status"
    state: ClassVar[str] = "stalled"
    station: str
    words: str
    stalled_s: float


AudioEvent = AudioPaused | AudioResumed
IncidentEvent = IncidentOpened | IncidentClosed
EngineEvent = (AlarmEvent | AudioPaused | AudioResumed | DeviceStateChanged | IncidentOpened
               | IncidentClosed | EngineStalled)

# Keys that `to_json` never writes (they are the line's type/state/t or derived).
_NOT_FIELDS = frozenset({"t", "station", "device_state"})


def to_json(event: EngineEvent) -> dict[str, Any]:
    """The event as one `monitor --json` line: type, state, station, its fields in
    declaration order (empty ones left out), then t rounded to the millisecond."""
    out: dict[str, Any] = {"type": event.kind, "state": event.state}
    if event.station is not None:
        out["station"] = event.station
    if isinstance(event, DeviceStateChanged):
        out["words"] = event.words
    for f in fields(event):
        if f.name in _NOT_FIELDS:
            continue
        if isinstance(event, AlarmRaised) and f.name == "raised_t":
            continue  # the same as t
        value = getattr(event, f.name)
        if value is None or ((value == "" or value is False)
                             and f.name not in event.keep_empty):
            continue
        if isinstance(value, Priority):
            value = value.label
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, enum.Enum):
            value = value.value
        out[f.name] = value
    out["t"] = round(event.t, 3)
    return out


def payload(event: EngineEvent) -> dict[str, Any]:
    """The event's own fields as the alarm log stores them: its JSON line without the
    header (type, state, station) and without t."""
    out = to_json(event)
    for key in ("type", "state", "station", "t"):
        out.pop(key, None)
    return out
