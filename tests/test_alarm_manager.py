"""AlarmManager rules, driven by ConditionChange objects and explicit times (no clock)."""

from __future__ import annotations

import pytest

from oximon.alarms import AlarmRequestError
from oximon.alerts import SYSTEM_STATION, AlarmManager, Audible
from oximon.events import EngineEvent, payload, to_json
from oximon.profile import Profile, ProfileError
from oximon.types import ConditionChange, Priority

HIGH, MEDIUM, LOW = Priority.HIGH, Priority.MEDIUM, Priority.LOW


def on(station: str, cond: str, t: float, prio: Priority = HIGH, value: float | None = None,
       technical: bool = False) -> ConditionChange:
    return ConditionChange(station, cond, True, t, prio, technical=technical,
                           onset=t - 15, value=value)


def off(station: str, cond: str, t: float, prio: Priority = HIGH,
        value: float | None = None) -> ConditionChange:
    return ConditionChange(station, cond, False, t, prio, value=value)


def sounding(m: AlarmManager) -> Audible:
    """What the manager sounds (failing when it is silent)."""
    audible = m.audible()
    assert audible is not None
    return audible


def states(events: list[EngineEvent]) -> list[tuple[str, str, str | None]]:
    return [(e.kind, e.state, payload(e).get("condition")) for e in events]


@pytest.fixture
def manager() -> AlarmManager:
    return AlarmManager(Profile.default())


def test_raise_carries_the_json_fields(manager: AlarmManager) -> None:
    [event] = manager.on_condition(on("b1", "spo2_low", 315.0, value=88.0))
    d = to_json(event)
    assert d["type"] == "alarm" and d["state"] == "raised"
    assert (d["station"], d["condition"], d["priority"], d["t"]) == ("b1", "spo2_low",
                                                                     "high", 315.0)
    assert d["value"] == 88.0 and d["onset"] == 300.0
    assert d["message"].startswith("Low oxygen")


def test_condition_with_no_priority_is_not_an_alarm(manager: AlarmManager) -> None:
    assert manager.on_condition(on("b1", "spo2_watch", 1.0, Priority.NONE)) == []
    assert manager.active_alarms() == []


def test_high_alarm_latches_with_worst_value_until_acknowledged(manager: AlarmManager) -> None:
    manager.on_condition(on("b1", "spo2_low", 315.0, value=88.0))
    # The detector reports the extreme of the episode when it clears: 84 %.
    assert manager.on_condition(off("b1", "spo2_low", 400.0, value=84.0)) == []
    [view] = manager.active_alarms()
    assert view.latched and view.state == "latched" and view.worst == 84.0
    assert view.condition_cleared_t == 400.0
    assert manager.audible() is not None  # a latched alarm still sounds
    events = manager.acknowledge(410.0, "b1", by="peer-2")
    assert states(events) == [("alarm", "acknowledged", "spo2_low"),
                              ("alarm", "cleared", "spo2_low")]
    assert payload(events[0])["by"] == "peer-2" and payload(events[0])["worst"] == 84.0
    assert payload(events[1])["condition_cleared_t"] == 400.0
    assert manager.active_alarms() == []
    assert manager.audible() is None


def test_latching_cannot_be_turned_off() -> None:
    # Issue 12: a profile may not weaken the low-oxygen alarms (the safety floors).
    with pytest.raises(ProfileError, match=r"'alarms\.latch_high': must be true"):
        Profile.default().with_overrides({"alarms.latch_high": False})


def test_medium_alarm_clears_by_itself(manager: AlarmManager) -> None:
    manager.on_condition(on("b1", "no_reading", 10.0, MEDIUM, technical=True))
    [event] = manager.on_condition(off("b1", "no_reading", 12.0, MEDIUM))
    assert event.state == "cleared" and payload(event)["technical"] is True
    assert manager.active_alarms() == []


def test_acknowledged_alarm_stays_visible_silent_then_clears(manager: AlarmManager) -> None:
    manager.on_condition(on("b1", "spo2_low", 315.0, value=88.0))
    assert states(manager.acknowledge(320.0, "b1", "spo2_low")) == [
        ("alarm", "acknowledged", "spo2_low")]
    [view] = manager.active_alarms()
    assert view.acknowledged and view.condition_active and view.state == "acknowledged"
    assert manager.audible() is None
    assert manager.acknowledge(321.0, "b1") == []  # nothing left to acknowledge
    # Issue 12: the episode waits alarms.episode_s (60 s) for the condition to come back
    assert manager.on_condition(off("b1", "spo2_low", 400.0)) == []
    assert manager.tick(459.9) == [] and manager.audible() is None
    [cleared] = manager.tick(460.0)
    assert (cleared.state, cleared.t, payload(cleared)["condition_cleared_t"]) == (
        "cleared", 460.0, 400.0)


def test_acknowledge_one_alarm_or_a_whole_station(manager: AlarmManager) -> None:
    manager.on_condition(on("b1", "spo2_low", 10.0))
    manager.on_condition(on("b1", "pr_low", 10.0, MEDIUM))  # joins the booth's one alarm
    manager.on_condition(on("b2", "spo2_low", 10.0))
    manager.on_condition(on("b2", "no_reading", 10.0, MEDIUM, technical=True))
    assert states(manager.acknowledge(11.0, "b1", "pr_low")) == [
        ("alarm", "acknowledged", "spo2_low")]
    assert manager.acknowledge(12.0, "b1") == []
    assert states(manager.acknowledge(12.0, "b2", "no_reading")) == [
        ("alarm", "acknowledged", "no_reading")]
    unacked = [(v.station, v.condition) for v in manager.active_alarms() if not v.acknowledged]
    assert unacked == [("b2", "spo2_low")]


def test_worse_condition_re_alarms_after_acknowledge(manager: AlarmManager) -> None:
    manager.on_condition(on("b1", "spo2_low", 315.0, value=88.0))
    manager.acknowledge(316.0, "b1")
    assert manager.audible() is None
    events = manager.on_condition(on("b1", "spo2_severe", 330.0, value=83.0))
    # Issue 12: still one alarm (its identity stays spo2_low), sounding again
    assert states(events) == [("alarm", "updated", "spo2_low")]
    assert payload(events[0])["sounds"] is True
    assert payload(events[0])["reason"] == "worse since acknowledged: severe low oxygen"
    assert sounding(manager).priority is HIGH
    [view] = manager.active_alarms()
    assert view.condition == "spo2_severe" and view.conditions == ("spo2_severe", "spo2_low")
    assert view.details.startswith("Severe low oxygen 83 %, low oxygen")


def test_unacknowledged_high_alarm_escalates_after_30_s_once(manager: AlarmManager) -> None:
    seen: list[EngineEvent] = []
    m = AlarmManager(Profile.default(), notify=seen.append)
    m.on_condition(on("b1", "spo2_low", 315.0))
    assert m.tick(344.75) == []
    events = m.tick(345.0)
    assert states(events) == [("alarm", "escalated", "spo2_low")]
    assert events[0].t == 345.0 and payload(events[0])["raised_t"] == 315.0
    assert seen == events  # the notification hook got it
    assert m.tick(400.0) == []  # escalates once
    assert m.active_alarms()[0].state == "escalated"
    assert sounding(m).escalated


def test_acknowledged_high_alarm_does_not_escalate(manager: AlarmManager) -> None:
    manager.on_condition(on("b1", "spo2_low", 315.0))
    manager.acknowledge(330.0, "b1")
    assert manager.tick(400.0) == []


def test_a_broken_notifier_does_not_stop_escalation() -> None:
    def boom(event: EngineEvent) -> None:
        raise RuntimeError("second screen unplugged")

    m = AlarmManager(Profile.default(), notify=boom)
    m.on_condition(on("b1", "spo2_low", 0.0))
    assert states(m.tick(30.0)) == [("alarm", "escalated", "spo2_low")]


def test_lost_device_becomes_high_after_60_s_unacknowledged(manager: AlarmManager) -> None:
    manager.on_condition(on("b1", "lost_device", 100.0, MEDIUM, technical=True))
    assert manager.tick(159.9) == []
    [event] = manager.tick(160.0)
    assert event.state == "escalated" and payload(event)["priority"] == "high"
    assert payload(event)["from_priority"] == "medium"
    assert manager.active_alarms()[0].priority is HIGH
    assert manager.tick(200.0) == []  # not escalated a second time by the 30 s rule


def test_lost_device_acknowledged_in_time_stays_medium(manager: AlarmManager) -> None:
    manager.on_condition(on("b1", "lost_device", 100.0, MEDIUM, technical=True))
    manager.acknowledge(130.0, "b1")
    assert manager.tick(200.0) == []
    assert manager.active_alarms()[0].priority is MEDIUM


def test_medium_alarm_without_escalation_rule_never_escalates(manager: AlarmManager) -> None:
    manager.on_condition(on("b1", "no_reading", 100.0, MEDIUM, technical=True))
    assert manager.tick(10_000.0) == []


def test_audio_pause_lasts_the_profile_maximum_then_sounds_again(
        manager: AlarmManager) -> None:
    manager.on_condition(on("b1", "spo2_low", 315.0))
    [paused] = manager.pause_audio(350.0, by="peer-1")
    assert (paused.kind, paused.state, paused.station) == ("audio", "paused", None)
    assert payload(paused)["until"] == 470.0 and payload(paused)["by"] == "peer-1"
    assert manager.audible() is None and manager.pause_remaining(400.0) == 70.0
    assert [e.kind for e in manager.tick(469.75)] == ["alarm"]  # escalation, still paused
    resumed = [e for e in manager.tick(470.0) if e.kind == "audio"]
    assert [(e.state, payload(e)["reason"], payload(e)["sounding"]) for e in resumed] == [
        ("resumed", "pause expired", "high")]
    assert manager.audible() is not None


def test_pausing_again_restarts_never_exceeds_maximum(manager: AlarmManager) -> None:
    manager.pause_audio(0.0)
    [again] = manager.pause_audio(100.0)
    assert payload(again)["until"] == 220.0  # 120 s from the second press, not 240 s


def test_new_alarm_ends_the_pause_unless_the_profile_says_otherwise() -> None:
    m = AlarmManager(Profile.default())
    m.pause_audio(0.0)
    events = m.on_condition(on("b2", "spo2_low", 10.0))
    assert states(events) == [("alarm", "raised", "spo2_low"), ("audio", "resumed", None)]
    assert payload(events[1])["reason"] == "new alarm"
    keep = AlarmManager(Profile.default().with_overrides({"alarms.new_alarm_ends_pause": False}))
    keep.pause_audio(0.0)
    assert states(keep.on_condition(on("b2", "spo2_low", 10.0))) == [
        ("alarm", "raised", "spo2_low")]
    assert keep.audible() is None


def test_resume_by_hand_and_zero_pause_profile() -> None:
    m = AlarmManager(Profile.default())
    assert m.resume_audio(1.0) == []
    m.pause_audio(0.0)
    [ev] = m.resume_audio(5.0, by="peer")
    assert ev.state == "resumed" and payload(ev)["reason"] == "by hand"
    no_pause = AlarmManager(Profile.default().with_overrides({"alarms.audio_pause_s": 0}))
    with pytest.raises(AlarmRequestError, match="not allowed by this site's profile"):
        no_pause.pause_audio(0.0)


def test_audible_is_the_highest_unacknowledged_priority(manager: AlarmManager) -> None:
    assert manager.audible() is None
    manager.on_condition(on("b1", "battery_low", 1.0, LOW, technical=True))
    assert sounding(manager).priority is LOW
    manager.on_condition(on("b2", "no_reading", 2.0, MEDIUM, technical=True))
    assert sounding(manager).priority is MEDIUM
    manager.acknowledge(3.0, "b2")
    assert sounding(manager).priority is LOW


def test_history_keeps_every_state_change_and_who(manager: AlarmManager) -> None:
    manager.on_condition(on("b1", "spo2_low", 315.0, value=88.0))
    manager.tick(345.0)
    manager.pause_audio(350.0, by="peer-1")
    manager.on_condition(off("b1", "spo2_low", 400.0, value=84.0))
    manager.tick(470.0)
    manager.acknowledge(480.0, "b1", by="peer-2")
    got = [(h.t, h.kind, h.state, h.by) for h in manager.history]
    assert got == [
        (315.0, "alarm", "raised", ""),
        (345.0, "alarm", "escalated", ""),
        (350.0, "audio", "paused", "peer-1"),
        (400.0, "alarm", "condition_cleared", ""),
        (470.0, "audio", "resumed", ""),
        (480.0, "alarm", "acknowledged", "peer-2"),
        (480.0, "alarm", "cleared", "peer-2"),
    ]
    assert manager.history[-1].worst == 84.0


def test_latched_condition_returning_keeps_one_alarm(manager: AlarmManager) -> None:
    manager.on_condition(on("b1", "spo2_low", 315.0, value=88.0))
    manager.on_condition(off("b1", "spo2_low", 400.0, value=86.0))
    assert manager.on_condition(on("b1", "spo2_low", 420.0, value=87.0)) == []
    [view] = manager.active_alarms()
    assert view.condition_active and view.worst == 86.0 and view.value == 87.0
    assert view.raised_t == 315.0


def test_pulse_high_worst_is_the_highest(manager: AlarmManager) -> None:
    manager.on_condition(on("b1", "pr_high", 10.0, MEDIUM, value=150.0))
    manager.on_condition(on("b1", "pr_high", 11.0, MEDIUM, value=171.0))
    manager.on_condition(on("b1", "pr_high", 12.0, MEDIUM, value=160.0))
    assert manager.active_alarms()[0].worst == 171.0


def test_active_alarms_most_urgent_first(manager: AlarmManager) -> None:
    manager.on_condition(on("b1", "battery_low", 1.0, LOW, technical=True))
    manager.on_condition(on("b2", "spo2_low", 2.0))
    manager.on_condition(on(SYSTEM_STATION, "sound_unavailable", 0.5, MEDIUM, technical=True))
    manager.on_condition(on("b3", "spo2_low", 3.0))
    manager.acknowledge(4.0, "b3")
    order = [(v.station, v.condition) for v in manager.active_alarms()]
    assert order == [("b2", "spo2_low"), (SYSTEM_STATION, "sound_unavailable"),
                     ("b1", "battery_low"), ("b3", "spo2_low")]
