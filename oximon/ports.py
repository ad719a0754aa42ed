"""The interfaces the engine is wired with.

The engine (in `oximon`) must not import `drivers`, `alerts` or `ui`; the composition root
(`oximon.cli`) builds concrete objects and hands them in. These protocols are the contract
each room implements.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Protocol

from oximon.clock import Clock
from oximon.profile import Profile
from oximon.types import ConditionChange, DeviceInfo, EngineEvent, Sample, SourceEvent


class Source(Protocol):
    """A device (real, simulated or replayed). `events()` yields samples and state changes
    until the source ends (a replay) or is cancelled (a live device)."""

    info: DeviceInfo

    def events(self, clock: Clock) -> AsyncIterator[SourceEvent]: ...


class AlarmSystem(Protocol):
    """Turns condition changes into alarm events (latching, acknowledge, escalation...).

    Pure: driven only by its inputs and `now`, returns the events it produced.
    """

    def on_condition(self, change: ConditionChange) -> list[EngineEvent]: ...

    def tick(self, now: float) -> list[EngineEvent]: ...

    def acknowledge(
        self, now: float, station: str, condition: str | None = None, by: str = ""
    ) -> list[EngineEvent]: ...


AlarmSystemFactory = Callable[[Profile], AlarmSystem]


class RecordSink(Protocol):
    """Where readings and events are kept (the incident store). May add events of its own
    (e.g. an incident opened) which the engine then publishes."""

    def on_sample(self, station: str, sample: Sample) -> None: ...

    def on_event(self, event: EngineEvent) -> list[EngineEvent]: ...

    def flush(self) -> list[EngineEvent]: ...

    def close(self) -> None: ...
