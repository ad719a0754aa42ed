"""Alarm latency: from a sample's arrival to the alarm event, beyond the set delay.

24 stations stream in real time (10 samples/s each with a 50 Hz pleth, like a finger
oximeter) through the real engine, pipeline, AlarmManager and (by default) the incident
store. Each station's SpO2 cycles every 30 s: normal, a 6 s fall to 80 %, 8 s there, a 6 s
recovery — so spo2_low and spo2_severe raise, clear and raise again every cycle (a step
change would be held as an artifact and never clear); a simulated worker acknowledges
each alarm as it comes. The delays are shortened (`spo2_low.delay_s` = 2 s) only to get
many alarms per minute: what is timed is what comes after the delay — from the moment the
source hands over the sample that completes the delay to the moment listeners (screen,
speaker, JSON) receive the "raised" event.

Runs, one after the other (each `--duration` seconds):
- no store (engine and alarms alone);
- with the store: SQLite in a temporary folder (every alarm opens or joins an incident,
  is written to the alarm log, readings every second);
- with the store while another program holds the database's write lock the whole time
  (the store's writer waits; alarms must not).
`--db URL` uses that database (e.g. PostgreSQL) for the store runs instead.

Two figures per run:
- arrival → event: the source yields the sample → the event reaches a listener;
- due → event: the time the sample was due on the clock → the event (adds the asyncio
  loop's scheduling lag when 24 sources and the ticker compete for it).

Run: /work/venv/bin/python bench/alarm_latency.py [--stations 24] [--duration 90]
Goal: p99 <= 10 ms. Not a test; never runs in the suite.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from oximon.alerts import AlarmManager
from oximon.clock import Clock, ScaledClock
from oximon.engine import Engine
from oximon.events import EngineEvent, payload
from oximon.profile import Profile
from oximon.store import open_store
from oximon.types import (
    DeviceInfo,
    DeviceState,
    Sample,
    SourceEvent,
    StateChange,
    Station,
)

CHUNK_S = 0.1
PLETH_HZ = 50
CYCLE_S = 30.0  # normal 8 s, fall 6 s, low 8 s, recover 6 s, normal 2 s
GOAL_MS = 10.0


class CyclingSource:
    """A real-time source whose SpO2 falls and recovers every cycle, recording arrival
    times."""

    def __init__(self, sid: str, phase: float, arrivals: dict[str, list[tuple[float, float]]]):
        self.sid = sid
        self.phase = phase
        self.arrivals = arrivals.setdefault(sid, [])
        self.info = DeviceInfo(f"bench:{sid}", "sim", "sim", "bench source")

    def spo2(self, t: float) -> float:
        u = (t + self.phase) % CYCLE_S
        if u < 8:
            return 97.0
        if u < 14:
            return float(round(97 - 17 * (u - 8) / 6))
        if u < 22:
            return 80.0
        if u < 28:
            return float(round(80 + 17 * (u - 22) / 6))
        return 97.0

    async def events(self, clock: Clock) -> AsyncIterator[SourceEvent]:
        t = clock.now()
        yield StateChange(t, DeviceState.STREAMING)
        n = round(CHUNK_S * PLETH_HZ)
        while True:
            t += CHUNK_S
            wait = t - clock.now()
            if wait > 0:
                await clock.sleep(wait)
            k = np.arange(n) / PLETH_HZ + t
            pleth = tuple(50 + 40 * np.sin(2 * math.pi * 1.2 * k))
            sample = Sample(t, self.spo2(t), 72.0, 3.0, pleth, PLETH_HZ)
            self.arrivals.append((t, time.perf_counter()))
            yield sample


def percentiles(values: list[float]) -> str:
    if not values:
        return "no alarms"
    a = np.array(values) * 1000
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return (f"n={len(a):4d}  p50={p50:6.2f} ms  p95={p95:6.2f} ms  p99={p99:6.2f} ms  "
            f"max={a.max():6.2f} ms  (p99/goal = {p99 / GOAL_MS:.2f})")


async def bench(stations: int, duration: float, db: str | None, lock: bool) -> list[float]:
    """One run; returns the arrival → event latencies (seconds)."""
    profile = Profile.default().with_overrides({
        "spo2_low.delay_s": 2.0, "spo2_severe.delay_s": 1.0})
    clock = ScaledClock(speed=1.0)
    store = open_store(db, clock=clock, writer=True, busy_timeout_s=5.0) if db else None
    holder = None
    if store is not None and lock:
        assert store.target.path is not None, "--lock needs SQLite"
        holder = sqlite3.connect(store.target.path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    engine = Engine(clock, profile, AlarmManager, records=store)
    arrivals: dict[str, list[tuple[float, float]]] = {}
    for i in range(stations):
        sid = f"b{i + 1}"
        station = Station(sid)
        engine.add_station(station, CyclingSource(sid, i * CYCLE_S / stations, arrivals))
        if store is not None:
            store.add_station(station)
    from_arrival: list[float] = []
    from_due: list[float] = []
    unmatched = 0
    loop = asyncio.get_running_loop()

    def on_event(event: EngineEvent) -> None:
        nonlocal unmatched
        if event.kind != "alarm" or event.state != "raised" or event.station is None \
                or event.station == "system":
            return
        now_perf, now_clock = time.perf_counter(), clock.now()
        # the sample that completed the delay: the latest one at or before the event's t
        seen = arrivals.get(event.station, [])
        for t, perf in reversed(seen):
            if t <= event.t + 1e-9:
                from_arrival.append(now_perf - perf)
                from_due.append(now_clock - t)
                break
        else:
            unmatched += 1
        loop.call_soon(engine.acknowledge, event.station, payload(event)["condition"], "bench")

    engine.subscribe(on_event)
    system: list[str] = []

    def on_system_alarm(e: EngineEvent) -> None:
        if e.station == "system" and e.kind == "alarm":
            system.append(f"{payload(e)['condition']} {e.state}")

    engine.subscribe(on_system_alarm)
    t0, cpu0 = time.perf_counter(), time.process_time()
    await engine.run(duration=duration)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    if holder is not None:
        holder.execute("ROLLBACK")
        holder.close()
    if store is not None:
        store.close()
    samples = sum(len(v) for v in arrivals.values())
    print(f"  samples: {samples} ({samples / wall:.0f}/s); CPU {100 * cpu / wall:.1f} % of "
          f"one core; alarms raised: {len(from_arrival)} (unmatched {unmatched})"
          + (f"; system alarms: {', '.join(system)}" if system else ""))
    print(f"  arrival → event: {percentiles(from_arrival)}")
    print(f"  due     → event: {percentiles(from_due)}")
    return from_arrival


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=24)
    parser.add_argument("--duration", type=float, default=90.0, help="seconds (real time), "
                        "per run")
    parser.add_argument("--db", metavar="URL", help="database for the store runs (default: "
                        "SQLite in a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oximon-latency-") as tmp:
        sqlite_db = str(Path(tmp) / "bench.db")
        runs = [("no store", None, False), ("with the store", args.db or sqlite_db, False)]
        if args.db is None:
            runs.append(("with the store, database locked by another program", sqlite_db,
                         True))
        print(f"{args.stations} stations streaming {1 / CHUNK_S:.0f} samples/s each with "
              f"{PLETH_HZ} Hz pleth, real time, {args.duration:.0f} s per run")
        for name, db, lock in runs:
            print(f"{name}:", flush=True)
            got = asyncio.run(bench(args.stations, args.duration, db, lock))
            if got:
                p99 = float(np.percentile(np.array(got) * 1000, 99))
                print(f"  goal p99 <= {GOAL_MS:.0f} ms: {'met' if p99 <= GOAL_MS else 'NOT met'}")


if __name__ == "__main__":
    main()
