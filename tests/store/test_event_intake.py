"""What the store reads from an engine event (the one place it does)."""

from __future__ import annotations

from oximon.store.event_intake import read_event
from oximon.types import EngineEvent


def test_a_station_alarm_goes_to_the_alarm_log_and_the_episode_rule():
    got = read_event(EngineEvent("alarm", "acknowledged", 12.0, "s1", {
        "condition": "spo2_low", "priority": "high", "by": "peer A", "value": 84.0,
        "message": "SpO2 low"}))
    assert got.t == 12.0
    assert got.log is not None and got.log.write_now
    assert (got.log.kind, got.log.state, got.log.actor) == ("alarm", "acknowledged", "peer A")
    assert got.log.rest == {"value": 84.0, "message": "SpO2 low"}
    assert got.change is not None
    assert (got.change.station, got.change.high, got.change.actor) == ("s1", True, "peer A")
    assert got.change.data == {"condition": "spo2_low", "priority": "high", "value": 84.0,
                               "message": "SpO2 low", "state": "acknowledged"}


def test_system_alarms_audio_and_other_events_never_touch_incidents():
    system = read_event(EngineEvent("alarm", "raised", 1.0, "system",
                                    {"condition": "records_not_saved", "technical": True}))
    assert system.log is not None and system.change is None
    audio = read_event(EngineEvent("audio", "paused", 2.0, None, {"by": "x"}))
    assert audio.log is not None and not audio.log.write_now and audio.change is None
    device = read_event(EngineEvent("device", "streaming", 3.0, "s1"))
    assert device.log is None and device.change is None and device.t == 3.0
