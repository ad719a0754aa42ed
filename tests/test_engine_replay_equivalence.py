"""The live engine on a replay raises exactly the alarms `analyze` lists for that file.

`analyze` lists condition episodes (raised when a rule holds past its delay, cleared when
it stops holding); the live alarm system adds people to that (a high alarm stays latched
until acknowledged), so the comparison is made where the engine hands conditions over.
"""

from __future__ import annotations

import asyncio

import pytest

from oximon.alerts import AlarmManager
from oximon.analysis import analyze
from oximon.clock import ManualClock
from oximon.drivers.replay import ReplaySource
from oximon.engine import Engine
from oximon.events import EngineEvent, payload
from oximon.profile import load_profile
from oximon.recording import read_recording
from oximon.types import Station
from tests.synthetic import generate, write_csv


def _engine_run(path, profile) -> tuple[list[tuple], list[tuple]]:
    """Run the real engine on the replay; return the condition episodes it handed to the
    alarm system (what `analyze` lists) and the alarm events people saw."""
    episodes: list[list] = []
    open_: dict[str, list] = {}

    class Watched(AlarmManager):
        def on_condition(self, change):
            if change.active:
                open_[change.condition] = rec = [change.condition, change.priority.label,
                                                 change.t, None]
                episodes.append(rec)
            elif change.condition in open_:
                open_.pop(change.condition)[3] = change.t
            return super().on_condition(change)

    clock = ManualClock()
    engine = Engine(clock, profile, Watched)
    engine.add_station(Station("replay-1"), ReplaySource(str(path)))
    raised: list[tuple[str, float]] = []

    def on_event(ev: EngineEvent) -> None:
        if ev.kind == "alarm" and ev.state == "raised":
            raised.append((payload(ev)["condition"], ev.t))

    engine.subscribe(on_event)

    async def main():
        task = asyncio.create_task(engine.run())
        while not task.done():
            await clock.advance(0.25)
        await task

    asyncio.run(main())
    return sorted((tuple(a) for a in episodes), key=lambda a: (a[2], a[0])), raised


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
    live, raised = _engine_run(path, profile)
    assert live == batch
    # Every alarm the live engine raised is one analyze lists, at the same time (a latched
    # high alarm that nobody acknowledged is not raised again, so raised ⊆ batch).
    batch_raises = {(a[0], a[2]) for a in batch}
    assert raised and set(raised) <= batch_raises
    assert {"spo2_low", "no_reading"} <= {a[0] for a in batch}
