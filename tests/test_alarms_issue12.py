"""Issue 12, rule by rule, with a fake clock: one alarm per booth episode, re-alarm on
worsening, reminders, flapping, the integrated delay, per-booth limits and standby,
latched alarms after a restart, safety floors, and requests refused with words."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from oximon.alarms import AlarmRequestError, RestoredAlarm
from oximon.alerts import AlarmManager
from oximon.booths import BoothSettingsError
from oximon.clock import ManualClock
from oximon.engine import Engine
from oximon.events import AlarmReminder, EngineEvent, payload
from oximon.pipeline.stages import Level
from oximon.profile import Profile, ProfileError, load_profile
from oximon.types import (
    ConditionChange,
    DeviceState,
    Flags,
    Priority,
    Sample,
    StateChange,
    Station,
)

ROOT = Path(__file__).resolve().parents[1]
HIGH, MEDIUM = Priority.HIGH, Priority.MEDIUM


def rig(profile: Profile | None = None) -> tuple[Engine, ManualClock, list[EngineEvent]]:
    clock = ManualClock()
    engine = Engine(clock, profile or Profile.default(), AlarmManager)
    engine.add_station(Station("b1"))
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    engine.feed("b1", StateChange(0.0, DeviceState.STREAMING))
    return engine, clock, events


def run(engine: Engine, clock: ManualClock, t0: float, t1: float, spo2, pr=70.0,
        flags: Flags = Flags.NONE) -> None:
    """One reading a second from t0 to t1; spo2/pr may be functions of t."""
    t = t0
    while t < t1:
        clock.set(t)
        s = spo2(t) if callable(spo2) else spo2
        p = pr(t) if callable(pr) else pr
        engine.feed("b1", Sample(t, s, p, flags=flags))
        engine.tick(t)
        t += 1.0


def alarms(events: list[EngineEvent], state: str) -> list[EngineEvent]:
    return [e for e in events if e.kind == "alarm" and e.state == state]


# -- one alarm per booth episode --------------------------------------------------------------
def test_one_desaturation_is_one_alarm_whose_priority_rises() -> None:
    engine, clock, events = rig()
    run(engine, clock, 0, 200, 97.0)
    # a fast, deep fall with a slow pulse: dropping, low, severe and pulse all hold
    run(engine, clock, 200, 320, lambda t: max(74.0, 97 - (t - 200)), pr=45.0)
    new = [e for e in alarms(events, "raised") if payload(e).get("from_priority") is None]
    assert len(new) == 1  # was 4-5 alarms at once
    [view] = engine.alarms.active_alarms()
    assert view.priority is HIGH and view.condition == "spo2_severe"
    assert set(view.conditions) == {"spo2_severe", "spo2_low", "spo2_drop", "pr_low"}
    assert view.details.startswith("Severe low oxygen 74 %, low oxygen, ")
    assert view.details.endswith("pulse too slow 45/min")
    # the log keeps every condition change
    reasons = [payload(e)["reason"] for e in alarms(events, "updated")]
    assert "spo2_severe started" in reasons


def test_a_higher_priority_condition_sounds_again_and_opens_as_high() -> None:
    m = AlarmManager(Profile.default())
    m.on_condition(ConditionChange("b1", "spo2_drop", True, 10.0, MEDIUM, value=92.0))
    m.acknowledge(12.0, "b1")
    assert m.audible() is None
    [ev] = m.on_condition(ConditionChange("b1", "spo2_low", True, 30.0, HIGH, value=88.0))
    assert ev.state == "raised" and payload(ev)["from_priority"] == "medium"
    assert payload(ev)["priority"] == "high" and payload(ev)["condition"] == "spo2_low"
    assert m.audible() is not None and len(m.active_alarms()) == 1


# -- re-alarm on worsening and reminders ------------------------------------------------------
def test_acknowledged_at_84_sounds_again_at_the_step() -> None:
    m = AlarmManager(Profile.default())  # realarm_step 5
    m.on_condition(ConditionChange("b1", "spo2_low", True, 100.0, HIGH, value=84.0))
    m.observe("b1", Sample(100.0, 84.0, 70.0))
    m.acknowledge(101.0, "b1", by="peer")
    for t, v in [(102, 82.0), (103, 80.0), (104, 80.0), (105, 79.0)]:
        m.observe("b1", Sample(float(t), v, 70.0))
        assert m.tick(float(t)) == [] and m.audible() is None  # 80 is not yet 5 below
    for t in range(106, 110):  # 79 and below: held 5 s before it sounds
        m.observe("b1", Sample(float(t), 77.0, 70.0))
        assert m.tick(float(t)) == []
    m.observe("b1", Sample(110.0, 77.0, 70.0))
    [ev] = m.tick(110.0)
    assert ev.state == "updated" and payload(ev)["sounds"] is True
    assert payload(ev)["reason"] == "worse since acknowledged: 84 → 77 %"
    [view] = m.active_alarms()
    assert not view.acknowledged and view.worse_since_ack == "worse since acknowledged: 84 → 77 %"
    assert "worse since acknowledged: 84 → 77 %" in view.details
    assert m.audible() is not None


def test_a_short_artifact_a_step_lower_does_not_undo_the_acknowledge() -> None:
    m = AlarmManager(Profile.default())
    m.on_condition(ConditionChange("b1", "spo2_low", True, 100.0, HIGH, value=84.0))
    m.observe("b1", Sample(100.0, 84.0, 70.0))
    m.acknowledge(101.0, "b1")
    for t, v in [(102, 60.0), (103, 60.0), (104, 84.0), (110, 84.0)]:
        m.observe("b1", Sample(float(t), v, 70.0))
        assert m.tick(float(t)) == []


def test_reminder_when_no_response_is_logged() -> None:
    m = AlarmManager(Profile.default())  # reminder_s 120
    m.on_condition(ConditionChange("b1", "spo2_low", True, 0.0, HIGH, value=86.0))
    m.acknowledge(10.0, "b1")
    assert m.tick(129.0) == []
    [ev] = m.tick(130.0)
    assert isinstance(ev, AlarmReminder) and ev.acknowledged_s == 120.0
    m.note_response("b1", 200.0)  # a response action logged: the reminder waits again
    assert m.tick(319.0) == []
    assert [e.state for e in m.tick(320.0)] == ["reminder"]


# -- flapping -----------------------------------------------------------------------------------
def test_a_flapping_pulse_is_one_alarm() -> None:
    engine, clock, events = rig()
    # pulse 46 for 20 s, 55 for 20 s, ... for 20 minutes (was a new pr_low every ~45 s)
    run(engine, clock, 0, 1200, 97.0, pr=lambda t: 46.0 if (t // 20) % 2 else 55.0)
    assert len(alarms(events, "raised")) == 1
    run(engine, clock, 1200, 1300, 97.0, pr=70.0)  # back to normal for good: it clears
    assert len(alarms(events, "cleared")) == 1


def test_pulse_limits_have_hysteresis() -> None:
    engine, clock, events = rig()
    run(engine, clock, 0, 30, 97.0, pr=48.0)
    assert len(alarms(events, "raised")) == 1
    run(engine, clock, 30, 300, 97.0, pr=51.0)  # above 50 but not past 50 + 2
    [view] = engine.alarms.active_alarms()
    assert view.condition_active


# -- the integrated delay -------------------------------------------------------------------------
def test_integrated_delay_deep_fall_sooner_shallow_dip_never() -> None:
    level = Level(15_000, 10_000, sat=25 * 1000 * 1000)  # 25 points x s
    thr = 90_000
    hits = []
    for i, v in enumerate([92, 89, 87, 87, 80, 80]):
        q = v * 1000
        hits.append(level.update(float(i), i * 1000, q < thr, q >= 91_000, max(0, thr - q)))
    # depth x seconds after the onset: 3, 6, 16, 26 → active at the 6th reading (5 s),
    # not after 15 s
    assert hits == [0, 0, 0, 0, 0, 1]
    engine, clock, events = rig()
    run(engine, clock, 0, 200, 92.0)
    run(engine, clock, 200, 212, 89.0)  # a one-point dip for 12 s: never alarms
    run(engine, clock, 212, 300, 92.0)
    assert alarms(events, "raised") == []
    run(engine, clock, 300, 340, 80.0)  # 10 points below 90: well before 15 s (the
    [low] = alarms(events, "raised")  # step is first held 8 s as a possible artifact)
    assert payload(low)["condition"] == "spo2_low" and low.t - payload(low)["onset"] < 10


# -- per-booth limits and standby -------------------------------------------------------------
def test_per_booth_pulse_limit_and_standby_resets_it() -> None:
    engine, clock, events = rig()
    engine.set_booth_limits("b1", {"pr_low.threshold": 40.0})
    assert engine.booths["b1"].words(
        {"pr_low.threshold": 50.0, "pr_high.threshold": 140.0}) == "limits: pulse 40–140"
    run(engine, clock, 0, 120, 97.0, pr=45.0)  # this guest rests at 45: no alarm
    assert alarms(events, "raised") == []
    with pytest.raises(ProfileError, match=r"spo2_low\.threshold"):
        engine.set_booth_limits("b1", {"spo2_low.threshold": 85.0})  # below the floor
    with pytest.raises(BoothSettingsError, match="cannot be set per booth"):
        engine.set_booth_limits("b1", {"alarms.latch_high": 0.0})
    assert engine.booths["b1"].limits == {"pr_low.threshold": 40.0}
    engine.set_standby("b1", True)
    assert engine.booths["b1"].limits == {}
    assert engine.booths["b1"].words({}) == "Standby"


def test_standby_raises_no_no_reading_alarm_and_a_new_guest_ends_it() -> None:
    engine, clock, events = rig()
    run(engine, clock, 0, 30, math.nan, pr=math.nan, flags=Flags.FINGER_OUT)
    assert [payload(e)["condition"] for e in alarms(events, "raised")] == ["no_reading"]
    engine.acknowledge("b1")
    engine.set_standby("b1", True)  # the guest left: the no-reading alarm ends
    assert engine.alarms.active_alarms() == []
    run(engine, clock, 30, 600, math.nan, pr=math.nan, flags=Flags.FINGER_OUT)
    assert len(alarms(events, "raised")) == 1  # nothing new for ten minutes
    run(engine, clock, 600, 610, 97.0)  # a new guest on the probe
    assert not engine.booths["b1"].standby
    run(engine, clock, 610, 640, math.nan, pr=math.nan, flags=Flags.FINGER_OUT)
    assert [payload(e)["condition"] for e in alarms(events, "raised")][-1] == "no_reading"


def test_standby_is_refused_while_an_alarm_sounds() -> None:
    engine, clock, _ = rig()
    run(engine, clock, 0, 30, math.nan, pr=math.nan, flags=Flags.FINGER_OUT)
    with pytest.raises(AlarmRequestError, match="acknowledge it first"):
        engine.set_standby("b1", True)


# -- latched alarms survive a restart --------------------------------------------------------
def test_restart_brings_the_latched_alarm_back_escalated() -> None:
    engine, clock, events = rig()
    clock.set(5.0)
    engine.restore_alarms([RestoredAlarm("b1", "spo2_low", HIGH, value=84.0, worst=81.0,
                                         escalated=True)])
    assert not [e for e in events if e.kind == "alarm"]  # at the first tick, once all listen
    engine.tick(5.0)
    assert [(e.state, payload(e).get("restored")) for e in events if e.kind == "alarm"] == [
        ("raised", True), ("escalated", None)]
    [view] = engine.alarms.active_alarms()
    assert view.latched and view.escalated and view.worst == 81.0
    assert engine.alarms.audible() is not None
    engine.acknowledge("b1")
    assert engine.alarms.active_alarms() == []


# -- bad input ------------------------------------------------------------------------------------
def test_acknowledging_a_cleared_alarm_and_pausing_too_long_say_why() -> None:
    engine, _clock, _ = rig()
    with pytest.raises(AlarmRequestError, match=r"nothing to acknowledge at b1 \(low oxygen\)"):
        engine.acknowledge("b1", "spo2_low")
    with pytest.raises(AlarmRequestError, match="at most 120 s"):
        engine.pause_audio(by="peer", seconds=600)
    assert engine.pause_audio(by="peer", seconds=60)


@pytest.mark.parametrize(("text", "key"), [
    ('[spo2_low]\nthreshold = 0\n', "spo2_low.threshold"),
    ('[spo2_low]\ndelay_s = 3600\n', "spo2_low.delay_s"),
    ('[spo2_low]\npriority = "low"\n', "spo2_low.priority"),
    ('[alarms]\nlatch_high = false\n', "alarms.latch_high"),
    ('[pr_low]\nthreshold = 150\n', "pr_low.threshold"),
    ('[validity]\npr_min = 260\npr_max = 250\n', "validity.pr_min"),
    ('[spo2_severe]\nthreshold = 92\n', "spo2_severe.threshold"),
    ('[spo2_falling]\npoints = 4\n', "[spo2_falling]"),
])
def test_profiles_out_of_bounds_are_refused_naming_file_and_key(tmp_path, text, key) -> None:
    f = tmp_path / "site.toml"
    f.write_text(text)
    with pytest.raises(ProfileError) as err:
        load_profile(f)
    assert str(f) in str(err.value) and key in str(err.value)


def test_a_refused_profile_is_exit_2_on_the_command_line(tmp_path) -> None:
    f = tmp_path / "site.toml"
    f.write_text('[spo2_low]\nthreshold = 0\ndelay_s = 3600\npriority = "low"\n'
                 '[alarms]\nlatch_high = false\n')
    rec = tmp_path / "r.csv"
    rec.write_text("time,spo2,pr\n0,97,70\n1,97,70\n")
    done = subprocess.run([sys.executable, "-m", "oximon", "analyze", str(rec), "--profile",
                           str(f)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert str(f) in done.stderr and "spo2_low.threshold" in done.stderr
    assert "safety floor" in done.stderr


def test_restart_reads_the_interrupted_incident_from_the_store(tmp_path) -> None:
    from oximon.cli.wiring import build_engine
    from oximon.store import open_store
    from tests.eventkit import alarm_event

    url = str(tmp_path / "site.sqlite3")
    clock = ManualClock()
    first = open_store(url, clock=clock, writer=True)
    first.add_station(Station("b1"))
    first.on_event(alarm_event("raised", 5.0, "b1", "spo2_low", value=84.0))
    first.on_event(alarm_event("escalated", 35.0, "b1", "spo2_low"))
    first.flush()
    first.close()  # the run stops with the incident open and the alarm unacknowledged
    again = open_store(url, clock=ManualClock(), writer=True)
    try:
        engine = build_engine(ManualClock(), Profile.default(), [(Station("b1"), None)],
                              records=again)
        [view] = engine.alarms.active_alarms()
        assert (view.station, view.condition, view.priority) == ("b1", "spo2_low", HIGH)
        assert view.latched and view.escalated and view.value == 84.0
    finally:
        again.close()
