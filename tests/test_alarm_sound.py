"""What the speaker plays, and "sound unavailable" when it cannot (no audio server here)."""

from __future__ import annotations

import pytest

import oximon.ui.sound as qt_sound
from oximon.alerts import SYSTEM_STATION, AlarmManager, FakeSoundSink, attach_sound
from oximon.alerts.tones import Tone
from oximon.clock import ManualClock
from oximon.engine import Engine
from oximon.events import EngineEvent, payload
from oximon.profile import Profile
from oximon.types import ConditionChange, Priority, Station
from oximon.ui.sound import QtSoundSink


def make_engine() -> tuple[Engine, list[EngineEvent]]:
    engine = Engine(ManualClock(), Profile.default(), AlarmManager)
    engine.add_station(Station("b1"))
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    return engine, events


def tone_of(sink: FakeSoundSink) -> str | None:
    """The name of the tone playing, read afresh (no narrowing carried between asserts)."""
    return None if sink.playing is None else sink.playing.name


def cond(active: bool, t: float, condition: str = "spo2_low",
         prio: Priority = Priority.HIGH) -> ConditionChange:
    return ConditionChange("b1", condition, active, t, prio,
                           technical=not condition.startswith(("spo2", "pr_")))


def test_sound_follows_alarms_ack_pause_escalation() -> None:
    engine, _ = make_engine()
    sink = FakeSoundSink()
    attach_sound(engine, sink)
    clock = engine.clock
    assert isinstance(clock, ManualClock)
    engine.report([cond(True, 0.0, "no_reading", Priority.MEDIUM)])
    assert tone_of(sink) == "medium"
    engine.report([cond(True, 1.0)])
    assert tone_of(sink) == "high"
    clock.set(31.0)
    engine.tick()  # escalation: louder tone
    assert tone_of(sink) == "high-escalated"
    engine.pause_audio(by="peer")
    assert tone_of(sink) is None
    clock.set(151.0)
    engine.tick()  # pause expired, still unacknowledged
    assert tone_of(sink) == "high-escalated"
    engine.acknowledge("b1", "spo2_low")
    assert tone_of(sink) == "medium"
    engine.acknowledge("b1")
    assert tone_of(sink) is None
    # only changes reach the speaker
    assert sink.calls == [("play", "medium"), ("play", "high"), ("play", "high-escalated"),
                          ("stop", None), ("play", "high-escalated"), ("play", "medium"),
                          ("stop", None)]


def test_unavailable_sink_raises_sound_unavailable_alarm() -> None:
    engine, events = make_engine()
    attach_sound(engine, FakeSoundSink(available=False, problem="no audio output device"))
    [raised] = [e for e in events if e.kind == "alarm"]
    assert raised.station == SYSTEM_STATION and raised.state == "raised"
    assert payload(raised)["condition"] == "sound_unavailable"
    assert payload(raised)["priority"] == "medium" and payload(raised)["technical"] is True
    assert "no audio output device" in payload(raised)["message"]


def test_a_sink_that_fails_while_playing_becomes_an_alarm() -> None:
    class Broken(FakeSoundSink):
        def play(self, tone: Tone) -> None:
            raise OSError("device unplugged")

    engine, events = make_engine()
    attach_sound(engine, Broken())
    engine.report([cond(True, 0.0)])
    conditions = [payload(e)["condition"] for e in events if e.state == "raised"]
    assert conditions == ["spo2_low", "sound_unavailable"]


def test_qt_sink_without_qtmultimedia_reports_instead_of_crashing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_qt() -> None:
        raise ImportError("libpulse.so.0: cannot open shared object file")

    monkeypatch.setattr(qt_sound, "_load_qt", no_qt)
    sink = QtSoundSink()
    assert not sink.available and "libpulse.so.0" in sink.problem
    sink.play(Tone("x", Priority.HIGH, False, 1.0, __import__("numpy").zeros(10)))  # no-op
    sink.stop()
    engine, events = make_engine()
    attach_sound(engine, sink)
    assert [payload(e)["condition"] for e in events if e.kind == "alarm"] == ["sound_unavailable"]


def test_qt_sink_on_this_machine_never_raises(qapp: object) -> None:
    sink = QtSoundSink()  # tests have no audio server: unavailable, with the reason
    assert sink.available != bool(sink.problem)
    sink.close()


def test_attach_sound_needs_the_alarm_manager() -> None:
    class Other:
        def on_condition(self, c): return []
        def tick(self, now): return []
        def acknowledge(self, now, station, condition=None, by=""): return []

    # Not the alarm manager (the point of the test), so not the port's type either.
    engine = Engine(ManualClock(), Profile.default(), Other())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        attach_sound(engine, FakeSoundSink())
