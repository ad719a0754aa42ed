"""The live engine on a replay raises exactly the alarms `analyze` lists for that file."""

from __future__ import annotations

import asyncio

import pytest

from alerts import AlarmManager
from drivers.replay import ReplaySource
from oximon.analysis import analyze
from oximon.clock import ManualClock
from oximon.engine import Engine
from oximon.profile import load_profile
from oximon.recording import read_recording
from oximon.types import Station
from tests.synthetic import generate, write_csv


def _engine_alarms(path, profile) -> list[tuple]:
    clock = ManualClock()
    engine = Engine(clock, profile, AlarmManager)
    engine.add_station(Station("replay-1"), ReplaySource(str(path)))
    open_: dict[str, list] = {}
    out: list[list] = []

    def on_event(ev):
        if ev.type != "alarm":
            return
        cond = ev.fields["condition"]
        if ev.state == "raised":
            open_[cond] = rec = [cond, ev.fields["priority"], ev.t, None]
            out.append(rec)
        elif ev.state == "cleared":
            open_.pop(cond)[3] = ev.t

    engine.subscribe(on_event)

    async def main():
        task = asyncio.create_task(engine.run())
        while not task.done():
            await clock.advance(0.25)
        await task

    asyncio.run(main())
    return sorted((tuple(a) for a in out), key=lambda a: (a[2], a[0]))


@pytest.mark.parametrize("seed", [2, 7])
def test_engine_replay_raises_what_analyze_lists(tmp_path, seed):
    rec = generate(seed, 1500, slow_falls=1, dips=4, gaps=3, spikes=6)
    path = tmp_path / "rec.csv"
    write_csv(path, rec)
    profile = load_profile(None)
    r = read_recording(path)
    batch = [(a.condition, a.priority.label, a.raised_s, a.cleared_s)
             for a in analyze(r.time, r.spo2, r.pr, profile,
                              flags=[int(f) for f in r.flags]).alarms]
    live = _engine_alarms(path, profile)
    assert live == batch
    assert {"spo2_low", "no_reading"} <= {a[0] for a in batch}
