"""Alarm sound: what should play (decided from the alarm manager) and a speaker interface.

The speaker is a `SoundSink` so the logic is tested with `FakeSoundSink` (tests have no
audio server); `ui.sound.QtSoundSink` is the real one. A sink that cannot play
says so (`available`/`problem`, or the `on_problem` callback later), and the controller
turns that into the technical alarm "sound unavailable": oximon never goes silent quietly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from oximon.alerts.manager import SYSTEM_STATION, AlarmManager, Audible
from oximon.alerts.tones import Tone, ToneBank
from oximon.alerts.visual import condition_words
from oximon.events import AlarmEvent, AudioPaused, AudioResumed, EngineEvent
from oximon.profile import Profile
from oximon.types import ConditionChange

if TYPE_CHECKING:
    from oximon.engine import Engine

log = logging.getLogger(__name__)


class SoundSink(Protocol):
    """A speaker. `play` loops a tone until `stop` or another `play`."""

    available: bool
    problem: str

    def play(self, tone: Tone) -> None: ...

    def stop(self) -> None: ...


class FakeSoundSink:
    """Records what would be heard; `available=False` imitates a machine with no sound."""

    def __init__(self, available: bool = True, problem: str = ""):
        self.available = available
        self.problem = problem or ("" if available else "no audio output")
        self.calls: list[tuple[str, str | None]] = []  # ("play", tone name) / ("stop", None)
        self.playing: Tone | None = None

    def play(self, tone: Tone) -> None:
        self.calls.append(("play", tone.name))
        self.playing = tone

    def stop(self) -> None:
        self.calls.append(("stop", None))
        self.playing = None


Report = Callable[[list[ConditionChange]], None]


class SoundController:
    """Keeps the speaker in step with the alarm manager: call `update()` after anything
    that changes alarms (it is cheap and only touches the sink on a change)."""

    def __init__(self, manager: AlarmManager, sink: SoundSink, profile: Profile,
                 now: Callable[[], float], report: Report):
        self.manager = manager
        self.sink = sink
        self.bank = ToneBank(profile)
        self._now = now
        self._report = report
        self._priority = profile["sound_unavailable"]["priority"]
        self._current: Audible | None = None
        self._unavailable = False
        if not sink.available:
            self.sound_failed(sink.problem or "no audio output")

    def on_event(self, event: EngineEvent) -> None:
        if isinstance(event, AlarmEvent | AudioPaused | AudioResumed):
            self.update()

    def update(self) -> None:
        if self._unavailable:
            return
        want = self.manager.audible()
        if want == self._current:
            return
        self._current = want
        try:
            if want is None:
                self.sink.stop()
            else:
                self.sink.play(self.bank.tone(want.priority, want.escalated))
        except Exception as exc:  # the speaker failing must become an alarm, not a crash
            log.exception("sound output failed")
            self.sound_failed(str(exc))

    def sound_failed(self, problem: str) -> None:
        """The speaker cannot play: raise the technical alarm (once)."""
        if self._unavailable:
            return
        self._unavailable = True
        self._report([ConditionChange(
            SYSTEM_STATION, "sound_unavailable", True, self._now(), self._priority,
            technical=True, message=f"{condition_words('sound_unavailable')} ({problem})")])


def attach_sound(engine: Engine, sink: SoundSink) -> SoundController:
    """Wire a speaker to an engine whose alarm system is an `AlarmManager`."""
    manager = engine.alarms
    if not isinstance(manager, AlarmManager):
        raise TypeError("sound needs the engine's alarms to be an alerts.AlarmManager")
    controller = SoundController(manager, sink, engine.profile, engine.clock.now,
                                 engine.report)
    if hasattr(sink, "on_problem"):
        sink.on_problem = controller.sound_failed
    engine.subscribe(controller.on_event)
    return controller
