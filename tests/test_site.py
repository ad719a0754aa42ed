"""A site of several computers, with real processes on a real PostgreSQL
(eval "$(bash .ci/start-postgres)"): two hubs and a viewer; an alarm seen across
processes; an acknowledgement from another process reaching the owning hub's alarm
manager; a hub killed with -9 noticed within 5 s; a restarted hub takes its booths back.

The viewer here is this test process's SiteWatch (the hubs are other processes); `oximon
site ack` and `oximon site status` run as processes of their own."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from oximon.site.state import (
    HubStatus,
    RemoteAlarm,
    SiteSnapshot,
    booth_list,
    booth_status,
    hub_alarm_words,
)
from oximon.site.viewer import SiteWatch
from tests.sitekit import oximon, scratch_site, start_hub, wait_for, while_running


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    with scratch_site(tmp_path) as made:
        yield made


@pytest.mark.postgres
def test_two_hubs_and_a_viewer(site: tuple[Path, str]) -> None:
    config, url = site
    hubs = {name: start_hub(config, name) for name in ("room-1", "room-2")}
    watch = SiteWatch(url, "test").start()
    try:
        def snap() -> SiteSnapshot:
            return watch.snapshot()

        wait_for("both hubs alive with their 4 booths", lambda: len(snap().booths) == 4 and all(
            h in snap().hubs and snap().hubs[h].alive for h in hubs))
        assert {b: s.hub for b, s in snap().booths.items()} == {
            "booth-1": "room-1", "booth-2": "room-1", "booth-3": "room-2", "booth-4": "room-2"}

        def booth1() -> RemoteAlarm | None:
            st = snap().booths.get("booth-1")
            return None if st is None else st.top_alarm()

        # An alarm raised by room-1's alarm manager, seen here.
        def sounding() -> RemoteAlarm | None:
            a = booth1()
            return a if a is not None and a.priority.label == "high" and not a.acknowledged \
                else None

        top = wait_for("booth-1's alarm on the viewer", sounding)
        assert top.condition.startswith("spo2")

        # Acknowledged from another process; room-1's alarm manager applies it, audited.
        done = oximon("site", "ack", "booth-1", "--config", str(config), "--by", "Sam")
        assert done.returncode == 0, done.stderr
        assert "acknowledged" in done.stdout
        # Shown with who did it (a latched alarm ends when acknowledged; a worse condition
        # raised since then would sound again, unacknowledged).
        wait_for("the acknowledgement published by room-1", lambda: not (
            alarms := snap().booths["booth-1"].alarms) or any(
            a.acknowledged_by.startswith("Sam (at ") for a in alarms))
        with psycopg.connect(url) as conn:
            actors = {r[0] for r in conn.execute(
                "SELECT actor FROM alarm_log WHERE station = 'booth-1' AND state = "
                "'acknowledged'")}
            audit = conn.execute("SELECT actor, target FROM audit_log WHERE action = "
                                 "'site.acknowledge'").fetchall()
        assert any(a.startswith("Sam (at ") for a in actors)
        assert audit == [("Sam", "booth-1")]

        # kill -9 of room-2: noticed within 5 s, its booths show no numbers.
        hubs["room-2"].send_signal(signal.SIGKILL)
        hubs["room-2"].wait(10)
        killed = time.monotonic()
        wait_for("room-2 dead on the viewer", lambda: not snap().hubs["room-2"].alive, 10.0)
        assert time.monotonic() - killed < 5.0
        s = snap()
        line = booth_status("booth-3", "room-2", s.booths.get("booth-3"), s.hubs["room-2"],
                            s.ages.get("booth-3"), "Booth 3")
        assert (line.hub_alive, line.spo2, line.pr) == (False, None, None)
        assert line.alarm is not None and line.alarm["priority"] == "high"
        assert line.alarm_words == "Booth 3 not monitored — hub room-2 silent"
        assert set(line.alarm) == {"priority", "condition", "state", "acknowledged_by"}
        status = oximon("site", "status", "--config", str(config), "--json")
        assert status.returncode == 0, status.stderr
        rows = {r["booth"]: r for r in map(json.loads, status.stdout.splitlines())}
        assert all(r["alarm"] is None or set(r["alarm"]) == {
            "priority", "condition", "state", "acknowledged_by"} for r in rows.values())
        assert rows["booth-3"]["hub_alive"] is False and rows["booth-3"]["spo2"] is None
        assert rows["booth-2"]["hub_alive"] is True and rows["booth-2"]["spo2"] is not None

        # Restarted, room-2 takes its booths back (its lease too: it is the same owner).
        old_run = snap().booths["booth-3"].run
        hubs["room-2"] = start_hub(config, "room-2")
        wait_for("room-2 back", lambda: snap().hubs["room-2"].alive
                 and snap().booths["booth-3"].run != old_run
                 and snap().booths["booth-4"].run != old_run)
        with psycopg.connect(url) as conn:
            owners = {r[0]: r[1] for r in conn.execute("SELECT booth, owner FROM booth_leases")}
            taken = {r[0]: json.loads(r[1]) for r in conn.execute(
                "SELECT target, detail FROM audit_log WHERE action = 'lease.taken_over'")}
        assert owners == {"booth-1": "room-1", "booth-2": "room-1", "booth-3": "room-2",
                          "booth-4": "room-2"}
        # The killed process's leases were taken over at once (its process is gone), audited.
        assert set(taken) == {"booth-3", "booth-4"}
        assert taken["booth-3"]["from_owner"] == taken["booth-3"]["to_owner"] == "room-2"

        # A second process with a hub's name, or another hub given the same booths, is
        # refused (exit 2) naming the booth and who holds it; the first keeps them.
        twin = oximon("hub", "--config", str(config), "--name", "room-1")
        assert twin.returncode == 2, twin.stderr
        assert "booth-1 is monitored by" in twin.stderr and "hub room-1" in twin.stderr
        copy = config.parent / "copy.toml"
        copy.write_text(config.read_text().replace('hub = "room-1"', 'hub = "room-9"', 1))
        thief = oximon("hub", "--config", str(copy), "--name", "room-9")
        assert thief.returncode == 2, thief.stderr
        assert "booth-1 is monitored by" in thief.stderr and "hub room-1" in thief.stderr
        assert snap().hubs["room-1"].alive

        # SIGTERM: a clean stop, seen at once as "stopped", leases released.
        hubs["room-1"].send_signal(signal.SIGTERM)
        assert hubs["room-1"].wait(30) == 0
        wait_for("room-1 stopped", lambda: snap().hubs["room-1"].stopped, 10.0)
        with psycopg.connect(url) as conn:
            held = {r[0] for r in conn.execute("SELECT booth FROM booth_leases")}
        assert held == {"booth-3", "booth-4"}
    finally:
        watch.stop()
        for name, proc in hubs.items():
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
            said = (config.parent / f"{name}.log").read_text()
            print(f"hub {name} (exit {proc.returncode}) said:\n{said}")  # shown on failure


@pytest.mark.postgres
def test_a_pause_from_any_screen_reaches_the_hub(site: tuple[Path, str]) -> None:
    from oximon.site import commands
    from oximon.site.schema import connect

    config, url = site
    hub = start_hub(config, "room-2", speed="1")
    watch = SiteWatch(url, "test").start()
    try:
        wait_for("room-2 alive", lambda: (h := watch.snapshot().hubs.get("room-2")) is not None
                 and h.alive)
        with connect(url, "test") as conn:
            cid = commands.send(conn, "room-2", "pause_audio", "Ana", "door-pc")
            assert commands.wait_result(conn, cid, 30.0) == "audio paused"
            cid = commands.send(conn, "room-2", "acknowledge", "Ana", "door-pc", booth="booth-1")
            assert commands.wait_result(conn, cid, 30.0) == \
                "not applied: booth-1 is not a booth of hub room-2"
        def room2() -> HubStatus | None:
            h = watch.snapshot().hubs["room-2"]
            return h if h.paused_by else None

        paused = wait_for("the pause published", room2)
        assert paused.paused_by == "Ana (at door-pc)" and paused.pause_left_s > 0
    finally:
        watch.stop()
        hub.send_signal(signal.SIGTERM)
        hub.wait(30)


def test_bad_site_files_are_exit_2(tmp_path: Path) -> None:
    f = tmp_path / "site.toml"
    f.write_text("[[stations]]\nid = 'booth-1'\nhub = 'room-1'\n")
    no_db = oximon("hub", "--config", str(f), "--name", "room-1")
    assert no_db.returncode == 2 and "key 'site.db' is missing" in no_db.stderr
    f.write_text("[site]\ndb = 'sqlite:////tmp/x.db'\n[[stations]]\nid = 'booth-1'\n"
                 "hub = 'room-1'\n")
    sqlite = oximon("site", "status", "--config", str(f))
    assert sqlite.returncode == 2 and "needs PostgreSQL" in sqlite.stderr
    f.write_text("[site]\ndb = 'postgresql://nobody@127.0.0.1:1/x'\n[[stations]]\n"
                 "id = 'booth-1'\nhub = 'room-1'\n")
    other = oximon("hub", "--config", str(f), "--name", "room-9")
    assert other.returncode == 2 and "no [[stations]] with hub = 'room-9'" in other.stderr
    assert "room-1" in other.stderr
    unknown = oximon("site", "ack", "booth-7", "--config", str(f), "--by", "Sam")
    assert unknown.returncode == 2 and "no booth 'booth-7'" in unknown.stderr
    down = oximon("site", "status", "--config", str(f), "--json")
    assert down.returncode == 1 and "cannot reach the site database" in down.stderr


def test_hub_alarm_words() -> None:
    assert hub_alarm_words("room-2", ["Booth 5", "Booth 6", "Booth 7", "Booth 8"]) == \
        "Booths 5–8 not monitored — hub room-2 silent"
    assert booth_list(["Booth 1", "Booth 3"]) == "Booths 1, 3"
    assert booth_list(["Blue", "Green"]) == "Blue, Green"
    assert hub_alarm_words("room-1", ["Booth 2"], "stopped") == \
        "Booth 2 not monitored — hub room-1 stopped"


def test_a_booth_never_shows_the_numbers_of_a_dead_hub() -> None:
    from oximon.site.state import BoothState
    from oximon.types import DeviceState

    st = BoothState("booth-1", "room-1", "run", 3, "Booth 1", DeviceState.STREAMING, "",
                    97.0, 70.0, 0.2)
    alive = HubStatus("room-1", "pc", 0.8, connected=True, stopped=False)
    assert booth_status("booth-1", "room-1", st, alive, 0.8).spo2 == 97.0
    for dead in (HubStatus("room-1", "pc", 5.1, True, False),  # silent
                 HubStatus("room-1", "pc", 0.1, False, False),  # its connection ended
                 HubStatus("room-1", "pc", 0.1, True, True), None):  # stopped, never seen
        line = booth_status("booth-1", "room-1", st, dead, 0.8)
        assert (line.hub_alive, line.spo2, line.pr) == (False, None, None)
        assert line.alarm is not None and line.alarm["condition"] == "hub_silent"
    moved = booth_status("booth-1", "room-9", st, alive, 0.8)  # published by another hub
    assert not moved.hub_alive


@pytest.mark.postgres
def test_a_dashboard_engine_shows_remote_booths(site: tuple[Path, str]) -> None:
    """The dashboard's engine on a viewer (no Qt here: the model the tiles render)."""
    import asyncio
    import math

    from oximon.alarms import SYSTEM_STATION
    from oximon.cli.site_view import SiteView
    from oximon.cli.wiring import configured_stations, get_config
    from oximon.clock import ScaledClock
    from oximon.events import AlarmAcknowledged
    from oximon.profile import load_profile
    from oximon.store import open_store
    from oximon.types import DeviceState, Priority

    config_path, url = site
    hub = start_hub(config_path, "room-1")
    config = get_config(str(config_path))
    view = SiteView(config)
    stations = view.stations(configured_stations(config, waveform=False))
    clock = ScaledClock(speed=1.0)
    records = open_store(url, clock=clock, writer=True)
    engine = view.build_engine(clock, load_profile(None), stations, records)
    seen: dict[str, Any] = {}
    acks: list[str] = []  # who acknowledged booth-1, as this screen heard it
    engine.subscribe(lambda e: acks.append(e.by) if isinstance(e, AlarmAcknowledged)
                     and e.station == "booth-1" else None)

    async def watch() -> None:
        # Tapped once the booth's one alarm is high (a rise in priority would make it
        # sound again, unacknowledged, as on the hub's own screen).
        await asyncio.to_thread(wait_for, "booth-1's high alarm on the screen", lambda: any(
            a.station == "booth-1" and not a.acknowledged and a.priority is Priority.HIGH
            for a in engine.alarms.active_alarms()))
        seen["numbers"] = engine.stations["booth-2"].spo2
        engine.acknowledge("booth-1", by="Lee")  # a tap on this screen
        # The hub applies it, records it, and every screen shows who (heard as an
        # acknowledgement: a worse reading since may have made it sound again; a poll
        # never swallows it: tests/test_site_watch_order.py).
        await asyncio.to_thread(wait_for, "the hub's acknowledgement", lambda: any(
            by.startswith("Lee (at ") for by in acks))
        silent = await asyncio.to_thread(wait_for, "room-2 never started", lambda: [
            a for a in engine.alarms.active_alarms() if a.station == SYSTEM_STATION])
        seen["silent"] = [a.message for a in silent]
        seen["booth-3"] = (engine.stations["booth-3"].state, engine.stations["booth-3"].spo2)

    try:
        while_running([engine], watch)
    finally:
        view.stop()
        records.close()
        hub.send_signal(signal.SIGTERM)
        hub.wait(30)
        print((config_path.parent / "room-1.log").read_text())  # shown on failure
        with psycopg.connect(url) as conn:
            print(conn.execute("SELECT booth, action, by, result FROM site_commands").fetchall())
            print(conn.execute("SELECT station, state, priority, condition, actor FROM alarm_log "
                               "WHERE station = 'booth-1' ORDER BY 1").fetchall())
    assert isinstance(seen["numbers"], float) and not math.isnan(seen["numbers"])
    with psycopg.connect(url) as conn:
        actors = {r[0] for r in conn.execute("SELECT actor FROM alarm_log WHERE station = "
                                             "'booth-1' AND state = 'acknowledged'")}
    assert any(a.startswith("Lee (at ") for a in actors)
    assert seen["silent"] == ["Booths 3–4 not monitored — hub room-2 silent"]
    state, spo2 = seen["booth-3"]
    assert state is DeviceState.LOST and math.isnan(spo2)


def test_a_remote_booth_is_one_alarm_as_its_hub_holds_it() -> None:
    """What a hub's manager holds (one alarm per booth episode) reaches a screen whole:
    its conditions and details survive publication, a lead condition that changes is not
    a new alarm, a priority rise is a raised event that sounds, an acknowledge says who."""
    from oximon.alerts.manager import AlarmManager
    from oximon.cli.site_view import remote_changes
    from oximon.events import AlarmAcknowledged, AlarmRaised, AlarmUpdated
    from oximon.profile import load_profile
    from oximon.types import ConditionChange, Priority

    hub = AlarmManager(load_profile(None))

    def published(now: float) -> Any:
        (view,) = [a for a in hub.active_alarms() if a.station == "booth-1"]
        sent = json.loads(json.dumps(RemoteAlarm.of(view, now).to_dict()))
        return RemoteAlarm.from_dict(sent).view("booth-1", 1000.0 + now)  # the screen's clock

    hub.on_condition(ConditionChange("booth-1", "spo2_drop", True, 10.0, Priority.MEDIUM,
                                     value=90.0))
    first = published(11.0)
    assert remote_changes(None, first, 1011.0)[0].state == "raised"
    hub.on_condition(ConditionChange("booth-1", "pr_low", True, 12.0, Priority.MEDIUM,
                                     value=45.0))
    both = published(12.5)
    assert both.conditions == ("spo2_drop", "pr_low") and "45/min" in both.details
    (changed,) = remote_changes(first, both, 1012.5)
    assert isinstance(changed, AlarmUpdated) and not changed.sounds
    hub.on_condition(ConditionChange("booth-1", "spo2_severe", True, 13.0, Priority.HIGH,
                                     value=76.0))
    worse = published(13.5)
    (rise,) = remote_changes(both, worse, 1013.5)
    assert isinstance(rise, AlarmRaised) and rise.from_priority is Priority.MEDIUM
    assert worse.priority is Priority.HIGH and worse.conditions[0] == "spo2_severe"
    hub.acknowledge(14.0, "booth-1", by="Sam (at door-pc)")
    seen = published(14.5)
    (ack,) = remote_changes(worse, seen, 1014.5)
    assert isinstance(ack, AlarmAcknowledged) and ack.by == "Sam (at door-pc)"
    assert seen.acknowledged_t == pytest.approx(1014.0)
    line = booth_status("booth-1", "room-1", _state_with(RemoteAlarm.of(
        hub.active_alarms()[0], 14.5)), HubStatus("room-1", "pc", 0.5, True, False), 0.5)
    assert line.alarm == {"priority": "high", "condition": "spo2_severe",
                          "state": "acknowledged", "acknowledged_by": "Sam (at door-pc)"}


def _state_with(alarm: RemoteAlarm) -> Any:
    from oximon.site.state import BoothState
    from oximon.types import DeviceState

    return BoothState("booth-1", "room-1", "run", 1, "Booth 1", DeviceState.STREAMING, "",
                      80.0, 44.0, 0.1, (alarm,))
