"""The engine in virtual time: samples → pipeline → alarms, with no real waiting."""

import asyncio
import math

from oximon.alerts import AlarmManager
from oximon.clock import ManualClock
from oximon.drivers.replay import ReplaySource
from oximon.drivers.sim import SimulatorSource
from oximon.drivers.sim_model import SimulatedOximeter
from oximon.engine import Engine
from oximon.events import EngineEvent, payload
from oximon.profile import load_profile
from oximon.types import DeviceInfo, DeviceState, Sample, StateChange, Station
from tests.eventkit import feed_as_source


def make_engine(clock=None):
    clock = clock or ManualClock()
    engine = Engine(clock, load_profile(None), AlarmManager)
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    return engine, clock, events


def drive(engine, clock, sid, scenario, seconds, seed=1):
    """Feed a simulated person straight into the engine's synchronous core."""
    for event in SimulatedOximeter(scenario, seed, pleth=False).advance(seconds):
        clock.set(event.t)
        feed_as_source(engine, sid, event)
        engine.tick()


def alarms(events, state="raised"):
    return [e for e in events if e.kind == "alarm" and e.state == state]


def test_slow_desaturation_raises_a_high_low_oxygen_alarm_after_the_delay():
    engine, clock, events = make_engine()
    engine.add_station(Station("s1"))
    drive(engine, clock, "s1", "slow-desat", 900, seed=3)
    raised = [e for e in alarms(events) if payload(e)["condition"] == "spo2_low"]
    assert raised and payload(raised[0])["priority"] == "high"
    # the alarm comes after SpO2 held below 90 for the profile's 15 s
    assert payload(raised[0])["value"] < 90


def test_normal_half_hour_raises_no_alarm():
    engine, clock, events = make_engine()
    engine.add_station(Station("s1"))
    drive(engine, clock, "s1", "normal", 1800, seed=1)
    assert alarms(events) == []


def test_finger_out_shows_words_not_numbers_and_raises_no_reading_after_10_s():
    engine, clock, events = make_engine()
    engine.add_station(Station("s1"))
    drive(engine, clock, "s1", "finger-out", 80)
    live = engine.stations["s1"]
    assert live.state is DeviceState.NO_SIGNAL and live.state_detail == "finger out"
    assert math.isnan(live.spo2) and math.isnan(live.pr)
    raised = alarms(events)
    assert [payload(e)["condition"] for e in raised] == ["no_reading"]
    assert 69.5 <= raised[0].t <= 71


def test_lost_device_is_a_state_and_an_alarm_and_numbers_disappear():
    engine, clock, events = make_engine()
    engine.add_station(Station("s1"))
    drive(engine, clock, "s1", "disconnect", 70)
    live = engine.stations["s1"]
    assert live.state is DeviceState.LOST
    assert math.isnan(live.spo2)
    assert "lost_device" in [payload(e)["condition"] for e in alarms(events)]


def test_silent_link_raises_no_reading_from_tick_alone():
    engine, clock, events = make_engine()
    engine.add_station(Station("s1"))
    feed_as_source(engine, "s1", Sample(t=0.0, spo2=97, pr=70))
    clock.set(4.0)
    engine.tick()
    assert alarms(events) == []
    clock.set(9.0)
    engine.tick()
    assert [payload(e)["condition"] for e in alarms(events)] == ["stale_data"]
    clock.set(10.5)
    engine.tick()
    assert [payload(e)["condition"] for e in alarms(events)] == ["stale_data", "no_reading"]


def test_run_with_a_manual_clock_pulls_from_sources_until_duration():
    async def main():
        engine, clock, events = make_engine()
        engine.add_station(Station("sim-1"), SimulatorSource("slow-desat", 3, pleth=False))
        task = asyncio.create_task(engine.run(duration=600))
        await clock.advance(601)
        await asyncio.wait_for(task, 5)
        return engine, events

    engine, events = asyncio.run(main())
    assert engine.stations["sim-1"].samples >= 5900
    assert any(payload(e).get("condition") == "spo2_low" for e in alarms(events))


def test_run_ends_when_a_replay_ends(tmp_path):
    csv = tmp_path / "r.csv"
    # a physiological fall (2-3 points a second) crossing 90 at t = 30
    fall = {27: 95, 28: 93, 29: 91}
    csv.write_text("time,spo2,pr\n" + "".join(
        f"{i},{fall.get(i, 97 if i < 30 else 86)},70\n" for i in range(60)))

    async def main():
        engine, clock, events = make_engine()
        engine.add_station(Station("replay-1"), ReplaySource(str(csv)))
        task = asyncio.create_task(engine.run())
        await clock.advance(100)
        await asyncio.wait_for(task, 5)
        return engine, events

    engine, events = asyncio.run(main())
    assert engine.stations["replay-1"].state is DeviceState.ENDED
    raised = alarms(events)
    low = [e for e in raised if payload(e)["condition"] == "spo2_low"]
    # at most the 15 s delay after the averaged (4 s median) reading drops below 90; the
    # integrated delay (points x seconds below 90) brings a deep step sooner
    assert low and payload(low[0])["onset"] < low[0].t <= 48


class _Broken:
    info = DeviceInfo("broken", "sim")

    async def events(self, clock):
        yield StateChange(clock.now(), DeviceState.CONNECTING)
        yield Sample(t=clock.now(), spo2=97, pr=70)
        raise OSError("device vanished")


def test_a_source_that_dies_becomes_a_lost_device_not_a_crash():
    async def main():
        engine, clock, events = make_engine()
        engine.add_station(Station("s1"), _Broken())
        task = asyncio.create_task(engine.run(duration=5))
        await clock.advance(6)
        await asyncio.wait_for(task, 5)
        return engine, events

    engine, _events = asyncio.run(main())
    assert engine.stations["s1"].state is DeviceState.LOST
    assert "device vanished" in engine.stations["s1"].state_detail


def test_a_failing_listener_does_not_stop_monitoring():
    engine, clock, events = make_engine()
    engine.add_station(Station("s1"))

    def broken(_event):
        raise RuntimeError("boom")

    engine.subscribe(broken)
    engine.subscribe(events.append)
    drive(engine, clock, "s1", "finger-out", 80)
    assert alarms(events)


def test_a_stop_asked_for_before_the_run_began_is_not_forgotten():
    """SIGTERM while the dashboard was still being built used to be lost: `run` cleared
    the request and monitored on, and `systemctl stop` hung until it was killed."""
    engine, clock, _events = make_engine()

    async def main() -> None:
        engine.request_stop()  # before run() begins
        await asyncio.wait_for(engine.run(), timeout=5.0)  # ManualClock: no time passes
        assert not engine.running
        # A later run is not stopped by the old request.
        task = asyncio.create_task(engine.run())
        await asyncio.sleep(0)
        assert engine.running and not task.done()
        engine.request_stop()
        await clock.advance(1.0)  # its next tick
        await asyncio.wait_for(task, timeout=5.0)

    asyncio.run(main())
