"""The alarms issue's must-show, in virtual time on a crafted replay
(tests/data/alarm_mustshow.csv: SpO2 97 %, 88 % from t = 300 s to 400 s, 96 %, then no
valid reading from t = 1000 s to the end at 1030 s)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from oximon.alerts import AlarmManager, FakeSoundSink, attach_sound
from oximon.cli import main
from oximon.clock import ManualClock
from oximon.drivers.replay import ReplaySource
from oximon.engine import Engine
from oximon.events import EngineEvent, payload
from oximon.profile import Profile
from oximon.types import Station

CSV = Path(__file__).parent / "data" / "alarm_mustshow.csv"


def first(events: list[EngineEvent], kind: str, state: str,
          condition: str | None = None) -> EngineEvent:
    for e in events:
        if e.kind == kind and e.state == state and (
                condition is None or payload(e).get("condition") == condition):
            return e
    raise AssertionError(f"no {kind} {state} {condition or ''} in {events}")


@pytest.fixture(scope="module")
def run() -> tuple[list[EngineEvent], FakeSoundSink, list[tuple[float, str | None]]]:
    clock = ManualClock()
    engine = Engine(clock, Profile.default(), AlarmManager)
    engine.add_station(Station("replay-1"), ReplaySource(str(CSV)))
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    sink = FakeSoundSink()
    attach_sound(engine, sink)
    heard: list[tuple[float, str | None]] = []
    engine.subscribe(lambda e: heard.append(
        (e.t, sink.playing.name if sink.playing else None)))

    async def scenario() -> None:
        task = asyncio.create_task(engine.run())
        await clock.advance(360.0)
        engine.pause_audio(by="peer-1")  # a worker silences it while they go to look
        await clock.advance(700.0)
        await task

    asyncio.run(scenario())
    return events, sink, heard


def test_spo2_88_from_300_s_raises_high_alarm_at_315(run) -> None:
    events, _, _ = run
    raised = first(events, "alarm", "raised", "spo2_low")
    assert payload(raised)["priority"] == "high"
    assert abs(raised.t - 315.0) <= 2.0
    assert payload(raised)["value"] == 88.0


def test_unacknowledged_high_alarm_escalates_30_s_after_raised(run) -> None:
    events, _, _ = run
    raised = first(events, "alarm", "raised", "spo2_low")
    escalated = first(events, "alarm", "escalated", "spo2_low")
    assert abs((escalated.t - raised.t) - 30.0) <= 0.25  # one engine tick


def test_high_alarm_latches_after_spo2_recovers(run) -> None:
    events, _, _ = run
    cleared = [e for e in events if e.state == "cleared"
               and payload(e).get("condition") == "spo2_low"]
    assert cleared == []  # SpO2 back to 96 % at 400 s, but nobody acknowledged it


def test_audio_pause_expires_after_120_s_and_sound_returns(run) -> None:
    events, _, heard = run
    paused = first(events, "audio", "paused")
    resumed = first(events, "audio", "resumed")
    assert paused.t == 360.0 and payload(paused)["by"] == "peer-1"
    assert abs((resumed.t - paused.t) - 120.0) <= 0.25
    assert payload(resumed)["reason"] == "pause expired"
    assert payload(resumed)["sounding"] == "high"  # the latched alarm sounds again
    sound_at = dict(heard)
    assert sound_at[paused.t] is None
    assert sound_at[resumed.t] == "high-escalated"


def test_readings_stop_at_1000_s_raise_technical_alarm_at_1010(run) -> None:
    events, _, _ = run
    raised = first(events, "alarm", "raised", "no_reading")
    assert abs(raised.t - 1010.0) <= 2.0
    assert payload(raised)["technical"] is True
    assert payload(raised)["priority"] == "medium"


def test_monitor_json_prints_alarm_states_in_virtual_time(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["monitor", "--source", f"replay:{CSV}", "--json", "--speed", "400"])
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    alarms = [d for d in lines if d["type"] == "alarm"]
    got = {(d["state"], d["condition"]): d for d in alarms}
    for d in alarms:  # the DESIGN.md fields
        assert {"type", "state", "station", "condition", "priority", "t"} <= d.keys()
    assert abs(got[("raised", "spo2_low")]["t"] - 315.0) <= 2.0
    assert abs(got[("escalated", "spo2_low")]["t"] - got[("raised", "spo2_low")]["t"]
               - 30.0) <= 2.0
    assert abs(got[("raised", "no_reading")]["t"] - 1010.0) <= 2.0
    assert got[("raised", "spo2_low")]["station"] == "replay-1"
