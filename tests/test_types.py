import math

import pytest

from oximon.events import AlarmRaised, to_json
from oximon.types import DeviceState, Flags, Priority, Sample, Station


def test_flags_round_trip_through_names():
    flags = Flags.FINGER_OUT | Flags.LOW_BATTERY
    assert flags.names() == ["finger_out", "low_battery"]
    assert Flags.parse("|".join(flags.names())) == flags
    assert Flags.parse("") == Flags.NONE


def test_unknown_flag_is_named():
    with pytest.raises(ValueError, match="'wet'"):
        Flags.parse("finger_out|wet")


def test_sample_without_value_is_invalid_and_serialises_null():
    s = Sample(t=1.0, flags=Flags.FINGER_OUT)
    assert not s.valid
    assert math.isnan(s.spo2)
    assert s.to_dict() == {"t": 1.0, "spo2": None, "pr": None, "pi": None,
                           "flags": ["finger_out"]}


def test_only_streaming_state_shows_numbers_and_others_have_words():
    assert DeviceState.STREAMING.has_numbers
    for state in DeviceState:
        assert state.words
        if state is not DeviceState.STREAMING:
            assert not state.has_numbers
    assert DeviceState.NO_SIGNAL.words == "No reading — check on the person"
    assert DeviceState.LOST.words == "Lost device"


def test_priority_orders_and_parses():
    assert Priority.HIGH > Priority.MEDIUM > Priority.LOW
    assert Priority.parse(" High ") is Priority.HIGH
    with pytest.raises(ValueError):
        Priority.parse("urgent")


def test_station_label_prefers_alias_and_never_needs_a_name():
    assert Station("sim-1").label == "sim-1"
    assert Station("sim-1", booth="3").label == "3"
    assert Station("sim-1", alias="Blue", booth="3").label == "Blue"


def test_engine_event_json_shape_matches_design():
    ev = AlarmRaised(t=132.0004, station="sim-1", condition="spo2_low",
                     priority=Priority.HIGH, raised_t=132.0004)
    assert to_json(ev) == {"type": "alarm", "state": "raised", "station": "sim-1",
                            "condition": "spo2_low", "priority": "high", "t": 132.0}
