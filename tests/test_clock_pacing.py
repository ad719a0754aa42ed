"""`--speed` runs are deterministic: a paced ScaledClock never runs ahead of the engine, so
an overloaded loop makes the run slower in real time, never raises stale data."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from oximon.alerts import AlarmManager
from oximon.clock import Clock, ManualClock, ScaledClock
from oximon.device_state import SignalWatch
from oximon.drivers.sim import SimulatorSource
from oximon.engine import Engine
from oximon.events import EngineEvent, payload
from oximon.profile import load_profile
from oximon.types import (
    ConditionChange,
    DeviceInfo,
    DeviceState,
    Priority,
    Sample,
    SourceEvent,
    StateChange,
    Station,
)


class CpuBurner:
    """A source whose every reading costs `burn_s` of real CPU: the overloaded loop."""

    info = DeviceInfo(address="test:burner", transport="sim", protocol="sim")

    def __init__(self, burn_s: float, every_s: float = 1.0):
        self.burn_s, self.every_s = burn_s, every_s

    async def events(self, clock: Clock) -> AsyncIterator[SourceEvent]:
        yield StateChange(clock.now(), DeviceState.CONNECTING)
        watch = SignalWatch()
        while True:
            end = time.perf_counter() + self.burn_s
            while time.perf_counter() < end:
                pass
            for event in watch.see(Sample(clock.now(), 97.0, 70.0)):
                yield event
            await clock.sleep(self.every_s)


def _run(clock: ScaledClock, duration: float, sims: int, burn_s: float) -> list[EngineEvent]:
    engine = Engine(clock, load_profile(None), AlarmManager)
    for i in range(sims):
        engine.add_station(Station(f"sim-{i + 1}"), SimulatorSource("normal", i + 1,
                                                                   pleth=False))
    engine.add_station(Station("burner"), CpuBurner(burn_s))
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    asyncio.run(engine.run(duration=duration))
    return events


def _technical_raised(events: list[EngineEvent]) -> list[tuple[str | None, str]]:
    return [(e.station, payload(e)["condition"]) for e in events
            if e.kind == "alarm" and e.state == "raised"
            and payload(e)["condition"] in ("stale_data", "no_reading")]


def test_overloaded_speed_run_raises_no_stale_data_and_keeps_time_in_order() -> None:
    # Each burn (40 ms real) is 8 virtual seconds at speed 200: more than the 5 s
    # stale-data delay. A free-running clock would jump past every other station's data.
    clock = ScaledClock(speed=200)
    assert clock.paced
    events = _run(clock, duration=20.0, sims=4, burn_s=0.04)
    assert _technical_raised(events) == []
    assert clock.slipped > 0.2  # it really was overloaded, and virtual time waited
    streaming = {e.station for e in events if e.kind == "device" and e.state == "streaming"}
    assert streaming == {"sim-1", "sim-2", "sim-3", "sim-4", "burner"}


def test_the_same_run_on_a_free_running_clock_does_see_stale_data() -> None:
    """The check above can fail: without pacing, the overload shows up as stale data."""
    events = _run(ScaledClock(speed=200, paced=False), duration=20.0, sims=4, burn_s=0.04)
    assert any(cond == "stale_data" for _, cond in _technical_raised(events))


def test_paced_clock_stands_still_at_its_limit_and_never_goes_back() -> None:
    clock = ScaledClock(speed=1000, held=True)
    time.sleep(0.01)
    assert clock.now() == 0.0  # held until the first pace()
    clock.pace(2.0)
    time.sleep(0.01)  # 10 virtual seconds of real time, but only 2 were granted
    assert clock.now() == 2.0
    clock.pace(1.0)  # a limit never moves back
    assert clock.now() == 2.0
    real_before = time.monotonic()
    clock.pace(None)
    t = clock.now()
    time.sleep(0.002)
    moved = clock.now() - t
    real = time.monotonic() - real_before
    assert moved > 0  # free again, continuing from where it stood
    # No jump: it moved no more than real time at its speed allows (a bound read from the
    # real clock, not a constant: a loaded machine may sleep 5 ms for 2).
    assert moved <= 1000 * real + 1e-6, (moved, real)
    assert 2.0 <= t <= 2.0 + 1000 * real + 1e-6  # from where it stood, not from wall time


def test_sleepers_wait_for_the_engine_to_grant_time() -> None:
    clock = ScaledClock(speed=1000, held=True)
    woke: list[float] = []

    async def main() -> None:
        sleeper = asyncio.create_task(clock.sleep(1.0))
        await asyncio.sleep(0.01)
        assert not sleeper.done()  # 10 virtual s of real time passed, none granted
        clock.pace(0.5)
        await asyncio.sleep(0.01)
        assert not sleeper.done()
        clock.pace(1.0)
        await asyncio.wait_for(sleeper, 1.0)
        woke.append(clock.now())

    asyncio.run(main())
    assert woke == [1.0]


def test_speed_one_is_never_paced_and_manual_clock_is_unchanged() -> None:
    clock = ScaledClock()
    clock.pace(0.0)  # ignored: live monitoring keeps real time
    time.sleep(0.002)
    assert clock.now() > 0.0
    manual = ManualClock()
    manual.pace(5.0)  # a manual clock moves only when told
    assert manual.now() == 0.0


def test_a_clear_is_never_stamped_before_its_raise() -> None:
    engine = Engine(ManualClock(), load_profile(None), AlarmManager)
    engine.add_station(Station("s1"))
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    engine.report([ConditionChange("s1", "no_reading", True, 20.0, Priority.MEDIUM,
                                   technical=True, onset=10.0, message="No reading")])
    engine.report([ConditionChange("s1", "no_reading", False, 19.9, Priority.MEDIUM,
                                   technical=True, message="No reading")])
    times = [(e.state, e.t) for e in events if e.kind == "alarm"]
    assert times == [("raised", 20.0), ("cleared", 20.0)]
