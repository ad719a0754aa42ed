"""Watchdog and heartbeat: a stalled or dead engine raises "Monitoring stopped"."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from oximon.alerts import SYSTEM_STATION, AlarmManager, WatchdogThread, engine_stopped
from oximon.alerts.watchdog import is_stalled
from oximon.clock import Clock, ManualClock, ScaledClock
from oximon.engine import Engine
from oximon.events import EngineEvent, payload
from oximon.profile import Profile
from oximon.types import DeviceInfo, Sample, SourceEvent, Station


def test_is_stalled() -> None:
    assert not is_stalled(None, 100.0, 2.0)  # not started yet
    assert not is_stalled(98.5, 100.0, 2.0)
    assert is_stalled(97.9, 100.0, 2.0)
    assert not is_stalled(97.9, 100.0, 2.0, period_s=0.25)


def test_engine_stopped_words_for_the_ui() -> None:
    engine = Engine(ScaledClock(), Profile.default(), AlarmManager)
    assert engine_stopped(engine, now=10.0) is None  # never ran: starting
    engine.heartbeat, engine.running = 9.0, True
    assert engine_stopped(engine, now=10.0) is None
    assert "no engine activity for 4 s" in (engine_stopped(engine, now=13.0) or "")
    engine.running = False
    assert "not running" in (engine_stopped(engine, now=9.5) or "")


def test_stalled_loop_raises_monitoring_stopped_and_latches() -> None:
    profile = Profile.default().with_overrides({"watchdog.stall_s": 0.1})
    alarms = AlarmManager(profile)
    engine = Engine(ScaledClock(speed=50), profile, alarms)
    engine.add_station(Station("b1"))
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    told: list[EngineEvent] = []

    async def scenario() -> WatchdogThread:
        dog = WatchdogThread(engine, asyncio.get_running_loop(), on_stall=told.append,
                             poll_s=0.01).start()
        task = asyncio.create_task(engine.run())
        await asyncio.sleep(0.05)
        assert not dog.stalled
        time.sleep(0.25)  # block the loop, as a hung callback would
        assert told and told[0].state == "stalled"  # told during the stall, from the thread
        await asyncio.sleep(0.08)  # loop runs again: the alarm is raised, then latched
        await engine.stop()
        task.cancel()
        dog.stop()
        return dog

    dog = asyncio.run(scenario())
    assert dog.stalls == 1
    raised = [e for e in events if e.kind == "alarm" and e.state == "raised"]
    assert [(e.station, payload(e)["condition"], payload(e)["priority"]) for e in raised] == [
        (SYSTEM_STATION, "monitoring_stopped", "high")]
    [view] = alarms.active_alarms()
    assert view.latched  # the loop recovered, but someone must see that it stopped


def test_dead_source_task_raises_monitoring_stopped_for_its_station() -> None:
    class Dying:
        info = DeviceInfo("x", "sim")

        async def events(self, clock: Clock) -> AsyncIterator[SourceEvent]:
            yield Sample(0.0, 97.0, 70.0)
            raise RuntimeError("reader crashed")

    engine = Engine(ManualClock(), Profile.default(), AlarmManager)
    engine.add_station(Station("b1"), Dying())
    events: list[EngineEvent] = []
    engine.subscribe(events.append)

    async def scenario() -> None:
        clock = engine.clock
        assert isinstance(clock, ManualClock)
        task = asyncio.create_task(engine.run())
        await clock.advance(1.0)
        await task

    asyncio.run(scenario())
    raised = {payload(e)["condition"]: e for e in events if e.state == "raised"}
    assert raised["monitoring_stopped"].station == "b1"
    assert payload(raised["monitoring_stopped"])["priority"] == "high"
    assert "reader crashed" in payload(raised["monitoring_stopped"])["message"]
    assert "lost_device" in raised
    assert engine.heartbeat is not None and not engine.running
    assert engine_stopped(engine) is not None
