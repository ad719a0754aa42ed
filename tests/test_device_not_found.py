"""A device that never connects raises "device not found" (it used to show "Searching"
forever), and looking for a device reads differently from a finger searching for a pulse."""

from __future__ import annotations

import json

from oximon.cli import main
from oximon.types import DeviceState
from tests.eventkit import feed_as_source


def test_missing_serial_device_raises_device_not_found_after_30_s(capsys, tmp_path):
    code = main(["monitor", "--source", f"serial:{tmp_path}/no-such-port", "--duration", "40",
                 "--speed", "20", "--json", "--db", f"sqlite:///{tmp_path}/i.db"])
    out = capsys.readouterr().out
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    looking = [e for e in events if e["type"] == "device" and e["state"] == "searching"]
    assert looking and looking[0]["words"] == "Looking for the device…"
    raised = [e for e in events if e["type"] == "alarm" and e["state"] == "raised"]
    assert [(e["condition"], e["priority"], e["message"]) for e in raised] == [
        ("device_not_found", "medium", "Device not found — check it is on and near")]
    assert 30.0 <= raised[0]["t"] < 31.0


def test_device_search_and_pulse_search_use_different_words():
    assert DeviceState.SEARCHING.words == "Looking for the device…"
    assert "Searching" not in DeviceState.SEARCHING.words
    assert DeviceState.NO_SIGNAL.words == "No reading — check on the person"


def test_pulse_search_detail_still_says_searching():
    from oximon.alerts import AlarmManager
    from oximon.clock import ManualClock
    from oximon.engine import Engine
    from oximon.profile import load_profile
    from oximon.types import Flags, Sample, StateChange, Station

    engine = Engine(ManualClock(), load_profile(None), AlarmManager)
    engine.add_station(Station("s1"))
    engine.feed("s1", StateChange(0.0, DeviceState.CONNECTING))
    feed_as_source(engine, "s1", Sample(0.1, flags=Flags.SEARCHING))
    live = engine.stations["s1"]
    assert live.state is DeviceState.NO_SIGNAL and live.state_detail == "searching for pulse"
