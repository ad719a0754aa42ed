"""A new profile while monitoring runs: every station's detectors follow it at once, alarms
that no longer hold clear, ones that now hold are raised with their real onset, and an
alarm that holds under both carries on untouched."""

from __future__ import annotations

from oximon.alerts import AlarmManager
from oximon.clock import ManualClock
from oximon.engine import Engine
from oximon.events import EngineEvent, payload
from oximon.live_profile import MIN_MEMORY_S, ReplayablePipeline, memory_s
from oximon.profile import load_profile
from oximon.types import DeviceState, Flags, Sample, StateChange, Station


def engine_with(profile=None, stations=("s1",)):
    clock = ManualClock()
    engine = Engine(clock, profile or load_profile(None), AlarmManager)
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    for sid in stations:
        engine.add_station(Station(sid))
    return engine, clock, events


def feed(engine, clock, spo2, start, end, pr=70.0, sids=("s1",), hz=1.0, flags=Flags.NONE):
    n = int((end - start) * hz)
    for i in range(n):
        t = start + i / hz
        clock.set(t)
        for sid in sids:
            engine.feed(sid, Sample(t, spo2, pr, flags=flags))
        engine.tick(t)


def alarm_events(events, condition, state=None):
    return [e for e in events if e.kind == "alarm" and payload(e).get("condition") == condition
            and (state is None or e.state == state)]


def active(engine, condition, sid="s1"):
    return [a for a in engine.alarms.active_alarms()
            if a.station == sid and a.condition == condition]


def test_lower_threshold_ends_a_low_oxygen_alarm_on_every_station():
    engine, clock, events = engine_with(stations=("s1", "s2"))
    engine.apply_profile(engine.profile.with_overrides({"spo2_low.threshold": 94.0}))
    feed(engine, clock, 92.0, 0, 60, sids=("s1", "s2"))
    assert len(alarm_events(events, "spo2_low", "raised")) == 2
    lower = engine.profile.with_overrides({"spo2_low.threshold": 90.0})
    assert engine.apply_profile(lower) == 2
    for sid in ("s1", "s2"):
        (alarm,) = active(engine, "spo2_low", sid)
        assert not alarm.condition_active  # a high alarm latches until acknowledged
    feed(engine, clock, 92.0, 60, 120, sids=("s1", "s2"))
    assert len(alarm_events(events, "spo2_low", "raised")) == 2  # no new alarm at 92 %
    assert engine.profile.get("spo2_low.threshold") == 90.0


def test_higher_threshold_raises_at_once_with_the_real_onset():
    engine, clock, events = engine_with()
    feed(engine, clock, 92.0, 0, 60)
    assert not alarm_events(events, "spo2_low")
    engine.apply_profile(engine.profile.with_overrides({"spo2_low.threshold": 94.0}))
    (raised,) = alarm_events(events, "spo2_low", "raised")
    assert raised.t == clock.now()
    assert payload(raised)["onset"] < 10.0  # low since the start, not since the change


def test_an_alarm_that_still_holds_carries_on_untouched():
    engine, clock, events = engine_with()
    feed(engine, clock, 80.0, 0, 60)
    assert alarm_events(events, "spo2_low", "raised")
    assert active(engine, "spo2_severe")[0].conditions == ("spo2_severe", "spo2_low")
    before = len(events)
    engine.apply_profile(engine.profile.with_overrides({"pr_high.threshold": 150.0}))
    assert events[before:] == []
    # The rebuilt detectors still know the condition is active: recovery ends it.
    feed(engine, clock, 97.0, 60, 120)
    (alarm,) = active(engine, "spo2_low")
    assert not alarm.condition_active


def test_the_alarm_manager_takes_the_new_escalation_time():
    engine, clock, events = engine_with()
    engine.apply_profile(engine.profile.with_overrides({"alarms.escalate_after_s": 10.0}))
    feed(engine, clock, 80.0, 0, 40)
    (raised,) = alarm_events(events, "spo2_low", "raised")  # the booth's one alarm
    (escalated,) = alarm_events(events, "spo2_low", "escalated")
    assert 10.0 <= escalated.t - raised.t < 11.0


def test_device_states_older_than_the_history_still_count():
    engine, clock, events = engine_with()
    engine.feed("s1", StateChange(0.0, DeviceState.STREAMING))
    feed(engine, clock, float("nan"), 0, 700, flags=Flags.FINGER_OUT)
    assert len(alarm_events(events, "no_reading", "raised")) == 1
    before = len(events)
    engine.apply_profile(engine.profile.with_overrides({"spo2_low.threshold": 92.0}))
    assert events[before:] == []
    assert active(engine, "no_reading")[0].condition_active


def test_history_is_bounded_and_keeps_no_waveform():
    profile = load_profile(None)
    pipe = ReplayablePipeline("s1", profile)
    assert pipe.keep_s == memory_s(profile) >= MIN_MEMORY_S
    for i in range(3000):
        pipe.push(Sample(i * 0.5, 97.0, 70.0, pleth=(1.0, 2.0), pleth_rate=50.0))
    kept = list(pipe._history)
    assert kept[-1].t - kept[0].t <= pipe.keep_s
    assert all(isinstance(s, Sample) and s.pleth == () for s in kept)
    longer = profile.with_overrides({"spo2_drop.baseline_window_s": 900.0})
    pipe.rebuild(longer, 1500.0)
    assert pipe.keep_s == memory_s(longer) > MIN_MEMORY_S
