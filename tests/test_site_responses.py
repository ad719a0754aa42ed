"""Responses logged on a viewer for a hub's booth land in the hub's incident (one incident
per episode, on the site's store), and the hub's alarm manager holds back the reminder as
it does for a response logged on its own screen; audio pauses and resumes from a viewer
reach the hubs, with who. Real hub processes on a real PostgreSQL; the viewer is this
process's dashboard engine and the incident log the dashboard's composition root builds."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sitekit import Viewer, rows, scratch_site, start_hub, stop, wait_for, while_running

REMINDER_S = 30.0  # the profile's floor
PROFILE = f"""
[alarms]
reminder_s = {REMINDER_S}
realarm_step = 10.0
"""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    with scratch_site(tmp_path, [("room-1", "slow-desat"), ("room-1", "normal")]) as made:
        (tmp_path / "profile.toml").write_text(PROFILE)
        yield made


@pytest.mark.postgres
def test_a_response_on_a_viewer_lands_in_the_hubs_incident(site: tuple[Path, str]) -> None:
    config, url = site
    hub = start_hub(config, "room-1", "10", "--profile", str(config.parent / "profile.toml"))
    viewer = Viewer(config, url)
    log, engine = viewer.services.incident_log, viewer.engine
    seen: dict[str, Any] = {}

    def high_alarm_at_its_lowest() -> bool:
        st = viewer.view.remote.state("booth-1")
        top = None if st is None else st.top_alarm()
        assert hub.poll() is None, "the hub stopped"
        return bool(top and top.priority.label == "high" and st and st.spo2 is not None
                    and st.spo2 <= 80)

    async def respond() -> None:
        await asyncio.to_thread(wait_for, "booth-1's high alarm", high_alarm_at_its_lowest)
        # The hub's store opened the booth's incident on the high alarm: the viewer's
        # panel finds that one, and opening "by hand" gives that one too.
        iid = await asyncio.to_thread(wait_for, "the hub's incident",
                                      lambda: log.current_incident("booth-1"))
        seen["iid"] = iid
        seen["opened"] = await asyncio.to_thread(log.open_incident, "booth-1",
                                                 engine.clock.now(), "manual", "Lee")
        engine.acknowledge("booth-1", by="Lee")
        await asyncio.to_thread(wait_for, "the acknowledgement", lambda: [
            a for a in engine.alarms.active_alarms()
            if a.station == "booth-1" and a.acknowledged])
        await asyncio.sleep(1.0)  # a little hub time between the ack and the response
        await asyncio.to_thread(log.record_action, iid, "stimulated", engine.clock.now(),
                                "Lee")
        await asyncio.to_thread(log.record_action, iid, "oxygen_on", engine.clock.now(),
                                "Lee")
        undo_t = engine.clock.now()
        await asyncio.to_thread(log.record_action, iid, "airway", undo_t, "Lee")
        await asyncio.to_thread(log.void_action, iid, "airway", undo_t, "Lee",
                                "tapped by mistake")
        # Every screen shows them: the hub publishes the incident's last responses
        # (the undone one gone) and the booth's alarm on each screen says the last.
        shown = await asyncio.to_thread(wait_for, "the responses on the screen", lambda: [
            a.details for a in engine.alarms.active_alarms() if a.station == "booth-1"
            and "last response: oxygen on — Lee (at " in a.details])
        seen["details"] = shown[0]
        published = viewer.view.remote.state("booth-1")
        assert published is not None
        seen["published"] = [w for w, _ in published.responses]
        # The reminder comes REMINDER_S hub seconds after the last response: wait for it.
        await asyncio.to_thread(wait_for, "the hub's reminder", lambda: rows(
            url, "SELECT t FROM alarm_log WHERE station = 'booth-1' AND state = "
            "'reminder'"), 90.0)

    try:
        while_running([engine], respond)
    finally:
        viewer.close()
        stop(hub, config.parent / "room-1.log")
    iid = seen["iid"]
    assert seen["opened"] == iid
    assert [w.split(" — ")[0] for w in seen["published"]] == ["stimulated", "oxygen on"]
    assert seen["details"].startswith("Severe low oxygen")  # the alarm's own words first
    assert rows(url, "SELECT id FROM incidents WHERE station = 'booth-1'") == [(iid,)]
    actions = rows(url, "SELECT t, actor, data FROM incident_events WHERE incident_id = %s "
                   "AND kind = 'action' ORDER BY seq", iid)
    said = [(json.loads(d)["action"], actor) for _, actor, d in actions]
    assert [a for a, _ in said] == ["stimulated", "oxygen_on", "airway"]
    assert all(actor.startswith("Lee (at ") for _, actor in said)
    voids = rows(url, "SELECT data FROM incident_events WHERE incident_id = %s AND kind = "
                 "'amendment'", iid)
    assert len(voids) == 1 and "void_action" in voids[0][0]
    # The hub's alarm manager: acknowledged at `ack`, a response logged at `last` (its
    # time). Without the response the reminder would come at ack + REMINDER_S; it came
    # REMINDER_S after the response instead.
    (ack,) = rows(url, "SELECT t FROM alarm_log WHERE station = 'booth-1' AND state = "
                  "'acknowledged'")
    last = max(t for t, _, _ in actions)
    first_reminder = min(t for (t,) in rows(url, "SELECT t FROM alarm_log WHERE station = "
                                               "'booth-1' AND state = 'reminder'"))
    assert last > ack[0] + 5.0
    assert first_reminder >= last + REMINDER_S - 0.5


@pytest.mark.postgres
def test_pause_and_resume_from_a_viewer_reach_the_hub_and_every_screen(
        site: tuple[Path, str]) -> None:
    """Viewer A pauses, then resumes; the hub applies both (its alarm log says who), and
    viewer B shows the pause and the resume with who did them."""
    from oximon.events import AudioPaused, AudioResumed
    from oximon.site.schema import connect
    from oximon.site.viewer import read_site

    config, url = site
    hub = start_hub(config, "room-1", "1")
    a, b = Viewer(config, url), Viewer(config, url)
    heard: list[tuple[str, str]] = []  # what screen B heard
    b.engine.subscribe(lambda e: heard.append((e.state, e.by))
                       if isinstance(e, AudioPaused | AudioResumed) else None)

    def hub_audio() -> tuple[str, float, str]:
        with connect(url, "test") as conn:
            h = read_site(conn).hubs["room-1"]
        return h.paused_by, h.pause_left_s, h.resumed_by

    async def both() -> None:
        await asyncio.to_thread(wait_for, "room-1 alive", lambda: a.view.remote.alive(
            "room-1") and b.view.remote.alive("room-1"))
        a.engine.pause_audio(by="Ana")
        paused = await asyncio.to_thread(wait_for, "the hub paused", lambda: (
            h := hub_audio())[0] and h)
        assert str(paused[0]).startswith("Ana (at ") and float(paused[1]) > 0
        await asyncio.to_thread(wait_for, "screen B paused", lambda: b.engine.alarms
                                .pause_remaining(b.engine.clock.now()) > 0)
        assert b.engine.alarms.paused_by.startswith("Ana (at ")
        assert a.engine.resume_audio(by="Ana")
        resumed: Any = await asyncio.to_thread(wait_for, "the hub resumed", lambda: (
            h := hub_audio())[2] and not h[0] and h)
        assert str(resumed[2]).startswith("Ana (at ")
        await asyncio.to_thread(wait_for, "screen B resumed", lambda: b.engine.alarms
                                .pause_remaining(b.engine.clock.now()) == 0)

    try:
        while_running([a.engine, b.engine], both)
    finally:
        a.close()
        b.close()
        stop(hub, config.parent / "room-1.log")
    assert [s for s, _ in heard] == ["paused", "resumed"]
    assert all(by.startswith("Ana (at ") for _, by in heard)
    logged = rows(url, "SELECT state, actor FROM alarm_log WHERE kind = 'audio' ORDER BY seq")
    # In the alarm log: screen A's own ("Ana"), and the hub's and screen B's, who say
    # from which computer it came; the hub applied both commands.
    assert [s for s, by in logged if by == "Ana"] == ["paused", "resumed"]
    assert sorted(s for s, by in logged if by.startswith("Ana (at ")) == [
        "paused", "paused", "resumed", "resumed"]
    assert rows(url, "SELECT action, result FROM site_commands ORDER BY id") == [
        ("pause_audio", "audio paused"), ("resume_audio", "audio resumed")]
