"""The "hub silent" alarm on a screen (no database: the watch's snapshot is set by hand):
its words stay current while the hub is away — stopped or silent, the booths as their
hub last named them — and it is gone, not latched, when the hub is back; the booths of
a hub that is away say they are not monitored and send no number."""

from __future__ import annotations

import asyncio

from oximon.alarms import SYSTEM_STATION
from oximon.cli.site_view import SiteAlarms
from oximon.clock import ManualClock
from oximon.events import AlarmCleared, AlarmRaised, AlarmUpdated
from oximon.profile import load_profile
from oximon.site.remote import RemoteBooths, RemoteSource
from oximon.site.state import BoothState, HubStatus, SiteSnapshot
from oximon.site.viewer import SiteWatch
from oximon.types import DeviceState, Sample, StateChange

BOOTHS = {"booth-3": ("room-2", "Booth 3"), "booth-4": ("room-2", "Booth 4")}


def remote() -> RemoteBooths:
    return RemoteBooths("postgresql://nobody@127.0.0.1:1/x", BOOTHS,
                        SiteWatch("postgresql://nobody@127.0.0.1:1/x"))


def hub(alive: bool = True, stopped: bool = False) -> HubStatus:
    return HubStatus("room-2", "pc-2", 0.5 if alive else 9.0, connected=alive or stopped,
                     stopped=stopped)


def booth(bid: str, label: str, spo2: float = 96.0) -> BoothState:
    return BoothState(bid, "room-2", "run-1", 1, label, DeviceState.STREAMING, "", spo2, 70.0,
                      0.2)


def words(alarms: SiteAlarms) -> list[str]:
    return [a.message for a in alarms.active_alarms() if a.station == SYSTEM_STATION]


def test_the_hub_alarm_says_what_is_true_now_and_goes_when_the_hub_is_back() -> None:
    r = remote()
    alarms = SiteAlarms(load_profile(None), r)
    r.watch._snap = SiteSnapshot({b: booth(b, lab) for b, (_, lab) in BOOTHS.items()},
                                 {"room-2": hub()})
    assert alarms.tick(0.0) == [] and words(alarms) == []

    r.watch._snap.hubs["room-2"] = hub(alive=False, stopped=True)
    raised = alarms.tick(1.0)
    assert [type(e) for e in raised] == [AlarmRaised]
    assert words(alarms) == ["Booths 3–4 not monitored — hub room-2 stopped"]

    # Its process restarted and died before its first beat: silent now, not "stopped".
    r.watch._snap.hubs["room-2"] = hub(alive=False)
    (changed,) = alarms.tick(2.0)
    assert isinstance(changed, AlarmUpdated)
    assert words(alarms) == ["Booths 3–4 not monitored — hub room-2 silent"]
    r.watch._snap.booths["booth-3"] = booth("booth-3", "Booth 3 (left)")  # renamed on the hub
    alarms.tick(3.0)
    assert words(alarms) == ["Booth 3 (left), Booth 4 not monitored — hub room-2 silent"]
    assert alarms.tick(4.0) == []  # nothing new: nothing said

    # Back: the alarm is gone (a high alarm would latch until acknowledged; this one is
    # over — its booths are monitored again).
    r.watch._snap.hubs["room-2"] = hub()
    gone = alarms.tick(5.0)
    assert any(isinstance(e, AlarmCleared) and e.station == SYSTEM_STATION for e in gone)
    assert words(alarms) == []
    assert alarms.audible() is None


def test_a_booth_of_a_hub_that_is_away_is_not_monitored_and_shows_no_number() -> None:
    r = remote()
    r.watch._snap = SiteSnapshot({"booth-3": booth("booth-3", "Booth 3", 91.0)},
                                 {"room-2": hub()})
    source = RemoteSource(r, "booth-3", poll_s=1.0)
    clock = ManualClock()
    said: list[Sample | StateChange] = []

    async def watch() -> None:
        events = source.events(clock)
        said.append(await anext(events))  # streaming
        said.append(await anext(events))  # its number
        r.watch._snap.hubs["room-2"] = hub(alive=False)
        pending = asyncio.ensure_future(anext(events))
        await clock.advance(1.0)
        said.append(await pending)
        r.watch._snap.booths["booth-3"] = booth("booth-3", "Booth 3", 80.0)  # a late row
        pending = asyncio.ensure_future(anext(events))
        await clock.advance(3.0)
        assert not pending.done()  # nothing: no number from a hub that is away
        pending.cancel()

    asyncio.run(watch())
    assert isinstance(said[0], StateChange) and said[0].state is DeviceState.STREAMING
    assert isinstance(said[1], Sample) and said[1].spo2 == 91.0
    lost = said[2]
    assert isinstance(lost, StateChange) and lost.state is DeviceState.LOST
    assert lost.detail == "not monitored — hub room-2 silent"


def test_every_screen_says_the_last_response_once() -> None:
    """On a hub's own screen its booth's alarm ends with the last response logged for it
    (on any screen); published, another screen shows it once, not twice."""
    from oximon.site.state import RemoteAlarm, with_last_response
    from oximon.types import ConditionChange, Priority

    alarms = SiteAlarms(load_profile(None), remote())
    said = {"booth-1": "stimulated — Lee (at door-pc)"}
    alarms.last_response = lambda b: said.get(b, "")
    alarms.on_condition(ConditionChange("booth-1", "spo2_severe", True, 1.0, Priority.HIGH,
                                        value=78.0))
    (mine,) = [a for a in alarms.active_alarms() if a.station == "booth-1"]
    assert mine.details.startswith("Severe low oxygen")
    assert mine.details.endswith(" · last response: stimulated — Lee (at door-pc)")
    said["booth-1"] = "oxygen on — Sam"
    (mine,) = [a for a in alarms.active_alarms() if a.station == "booth-1"]
    there = with_last_response(RemoteAlarm.of(mine, 2.0).view("booth-1", 50.0),
                               "oxygen on — Sam")
    assert there.details == mine.details and there.details.count("last response") == 1
