"""The interfaces the engine is wired with.

The engine (in `oximon`) must not import `drivers`, `alerts` or `ui`; the composition root
(`oximon.cli`) builds concrete objects and hands them in. These protocols are the contract
each room implements.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Protocol

from oximon.alarms import AlarmView, Audible, RestoredAlarm
from oximon.clock import Clock
from oximon.events import EngineEvent
from oximon.profile import Profile
from oximon.types import ConditionChange, DeviceInfo, Sample, SourceEvent, Station


class Source(Protocol):
    """A device (real, simulated or replayed). `events()` yields samples and state changes
    until the source ends (a replay) or is cancelled (a live device)."""

    info: DeviceInfo

    def events(self, clock: Clock) -> AsyncIterator[SourceEvent]: ...


class AlarmSystem(Protocol):
    """Turns condition changes into alarm events (latching, acknowledge, escalation, audio
    pause) and is the one owner of alarm state: the screen and the speaker render its
    `active_alarms()` and `audible()`.

    Pure: driven only by its inputs and `now`, returns the events it produced.
    """

    def apply_profile(self, profile: Profile) -> None: ...

    def on_condition(self, change: ConditionChange) -> list[EngineEvent]: ...

    def observe(self, station: str, sample: Sample) -> None:
        """A reading, so an active alarm knows the worst value seen while it holds."""
        ...

    def tick(self, now: float) -> list[EngineEvent]: ...

    def acknowledge(
        self, now: float, station: str, condition: str | None = None, by: str = ""
    ) -> list[EngineEvent]: ...

    def pause_audio(self, now: float, by: str = "", seconds: float | None = None
                    ) -> list[EngineEvent]:
        """Silence alarm audio for at most the profile's maximum (a longer or forbidden
        pause raises a ValueError saying why)."""
        ...

    def end_station(self, station: str, now: float, by: str = "", force: bool = False
                    ) -> list[EngineEvent]:
        """The station's alarms end (removed: `force`, or its guest left); without `force`
        an unacknowledged one is refused with a ValueError saying so."""
        ...

    def note_response(self, station: str, t: float) -> None:
        """A response action was logged for the station (reminders wait again)."""
        ...

    def restore(self, alarms: list[RestoredAlarm], now: float) -> list[EngineEvent]:
        """Unacknowledged high alarms of an interrupted incident, back latched."""
        ...

    def resume_audio(self, now: float, by: str = "") -> list[EngineEvent]: ...

    def active_alarms(self) -> list[AlarmView]:
        """Every alarm still shown, most urgent first."""
        ...

    def audible(self) -> Audible | None: ...

    paused_by: str  # who paused audio ("" when not paused)

    @property
    def audio_paused(self) -> bool: ...

    def pause_remaining(self, now: float) -> float: ...


AlarmSystemFactory = Callable[[Profile], AlarmSystem]


class RecordSink(Protocol):
    """Where readings and events are kept (the incident store).

    Called in the engine's loop, so it must never wait for I/O (the store writes on a
    thread of its own). The engine's listeners hear each event before the sink does. The
    sink may return items of its own: EngineEvents (e.g. an incident opened), which the
    engine publishes, and ConditionChanges (e.g. "records_not_saved" on station "system"),
    which go through the alarm system like any detector's, so they sound, can be
    acknowledged and are kept in the alarm history."""

    def apply_profile(self, profile: Profile) -> None:
        """At start and on a profile change (e.g. the priority of "records not saved")."""
        ...

    def on_sample(self, station: str, sample: Sample) -> None: ...

    def on_event(self, event: EngineEvent) -> list[EngineEvent | ConditionChange]: ...

    def tick(self, now: float) -> list[EngineEvent | ConditionChange]:
        """Hand due batches to the writer, retry failed writes, close quiet incidents,
        report its own alarm condition."""
        ...

    def flush(self) -> list[EngineEvent | ConditionChange]: ...

    def close(self) -> None: ...


class IncidentLog(Protocol):
    """What the dashboard needs of the incident store while a response is under way.

    Times are engine seconds (the store turns them into wall-clock stamps with the clock).
    `action` names are stable words: "stimulated", "airway", "rescue_breaths_started",
    "rescue_breaths_stopped", "oxygen_on", "oxygen_off", "naloxone", "911_called",
    "ehs_arrived", "recovery_position", "cpr_started", "cpr_stopped", "sign", "note".
    """

    def open_incident(self, station: str, t: float, reason: str = "manual",
                      by: str = "") -> str: ...

    def current_incident(self, station: str) -> str | None: ...

    def record_action(self, incident_id: str, action: str, t: float, by: str = "",
                      details: dict[str, object] | None = None) -> None: ...

    def close_incident(self, incident_id: str, t: float, outcome: str,
                       aftercare: list[str] | None = None, by: str = "",
                       note: str = "") -> None: ...

    # What the dashboard also calls (every method it uses is promised here, none probed):

    def void_action(self, incident_id: str, action: str, t: float, by: str = "",
                    reason: str = "") -> None:
        """Strike out the entry `action` at `t` (an undone tap): kept, marked void."""
        ...

    def amend(self, incident_id: str, changes: dict[str, object], reason: str,
              by: str) -> None:
        """A correction (outcome, aftercare, note... after oximon closed the record)."""
        ...

    def record_details(self, incident_id: str, by: str, **details: object) -> None:
        """Who responded, who completed the record, and other record details."""
        ...

    def add_station(self, station: Station) -> None:
        """A device was paired to a booth: the log learns its alias."""
        ...

    @property
    def saving_ok(self) -> bool:
        """Records are being written now (False while writes fail)."""
        ...
