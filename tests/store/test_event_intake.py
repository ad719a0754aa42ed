"""What the store reads from an engine event (the one place it does)."""

from __future__ import annotations

from oximon.events import AudioPaused, DeviceStateChanged
from oximon.store.event_intake import read_event
from oximon.types import DeviceState
from tests.eventkit import alarm_event


def test_a_station_alarm_goes_to_the_alarm_log_and_the_episode_rule():
    got = read_event(alarm_event("acknowledged", 12.0, "s1", "spo2_low", "high",
                                 by="peer A", message="SpO2 low", raised_t=10.0, worst=84.0))
    assert got.t == 12.0
    assert got.log is not None and got.log.write_now
    assert (got.log.kind, got.log.state, got.log.actor) == ("alarm", "acknowledged", "peer A")
    assert got.log.rest == {"message": "SpO2 low", "raised_t": 10.0, "worst": 84.0}
    assert got.change is not None
    assert (got.change.station, got.change.high, got.change.actor) == ("s1", True, "peer A")
    assert got.change.data == {"condition": "spo2_low", "priority": "high",
                               "message": "SpO2 low", "state": "acknowledged"}


def test_a_raise_keeps_the_value_that_met_the_rule():
    got = read_event(alarm_event("raised", 5.0, "s1", "spo2_low", value=87.0, onset=-10.0))
    assert got.change is not None and got.change.value == 87.0
    assert got.change.data["value"] == 87.0


def test_system_alarms_audio_and_other_events_never_touch_incidents():
    system = read_event(alarm_event("raised", 1.0, "system", "records_not_saved", "medium",
                                    technical=True))
    assert system.log is not None and system.change is None
    audio = read_event(AudioPaused(t=2.0, by="x", until=122.0, duration_s=120.0))
    assert audio.log is not None and not audio.log.write_now and audio.change is None
    device = read_event(DeviceStateChanged(t=3.0, station="s1",
                                           device_state=DeviceState.STREAMING))
    assert device.log is None and device.change is None and device.t == 3.0
