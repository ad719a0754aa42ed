"""A viewer's dashboard window (real QApplication, off-screen, the qasync loop the
dashboard runs on) fed by a real hub process: the remote booth's tile shows its live
numbers, its alarm is on its tile and the banner, Space acknowledges it from the window
and the hub applies it (seen in `oximon site status --json`, another process); a response
tapped on the panel that opens lands in the hub's incident; P and Shift+P pause and resume
the hub's audio."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.sitekit import Viewer, oximon, rows, scratch_site, start_hub, stop

AUDIO = "('pause_audio', 'resume_audio')"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    with scratch_site(tmp_path, [("room-1", "rapid-desat"), ("room-1", "normal")]) as made:
        yield made


async def until(what: str, check: Callable[[], object], timeout: float = 90.0) -> None:
    """Let the window and the engine run until `check` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def status(config: Path) -> dict[str, dict]:
    done = oximon("site", "status", "--config", str(config), "--json")
    assert done.returncode == 0, done.stderr
    return {r["booth"]: r for r in map(json.loads, done.stdout.splitlines())}


@pytest.mark.postgres
def test_a_viewer_window_shows_a_hubs_booth_and_acknowledges_it(qtbot, site) -> None:
    import qasync
    from PySide6.QtWidgets import QApplication

    from oximon.ui import app

    config, url = site
    hub = start_hub(config, "room-1", "10")
    viewer = Viewer(config, url)
    window = app.build_window(viewer.engine, viewer.services, title="viewer")
    qtbot.addWidget(window)
    window.show()
    loop = qasync.QEventLoop(QApplication.instance())
    asyncio.set_event_loop(loop)
    seen: dict[str, Any] = {}

    async def main() -> None:
        run = asyncio.create_task(viewer.engine.run())
        try:
            tile = window.tiles["booth-2"]
            await until("booth-2's live numbers on its tile", lambda: tile.stack
                        .currentIndex() == 0 and tile.spo2.text().isdigit()
                        and tile.pr.text().isdigit())
            seen["numbers"] = (tile.spo2.text(), tile.pr.text())

            def high() -> bool:
                assert hub.poll() is None, "the hub stopped"
                return viewer.engine.stations["booth-1"].spo2 <= 78 and any(
                    a.station == "booth-1" and not a.acknowledged and a.priority.label ==
                    "high" for a in viewer.engine.alarms.active_alarms())

            # Near its lowest (acknowledged while still falling, it would sound again).
            await until("booth-1's high alarm", high)
            await until("on the banner", lambda: "Booth 1" in window.banner.text())
            seen["banner"] = window.banner.text()
            seen["tile"] = window.tiles["booth-1"].alarm.text()
            seen["ack visible"] = window.tiles["booth-1"].ack.isVisible()
            # Space acknowledges only a booth on screen for a second (the wall's gate).
            await until("on screen a second", lambda: window.banner.ready())
            qtbot.keyClick(window, Qt.Key.Key_Space)  # acknowledge by key, on this screen
            rec: dict[str, dict] = {}

            async def acknowledged_on_the_hub() -> bool:
                rec.update(await asyncio.to_thread(status, config))
                alarm = rec["booth-1"]["alarm"]
                return alarm is None or alarm["acknowledged_by"] != ""

            deadline = loop.time() + 60
            while not await acknowledged_on_the_hub():
                assert loop.time() < deadline, "the acknowledgement never reached the hub"
                await asyncio.sleep(0.2)
            seen["status"] = rec["booth-1"]
            # The high alarm's response panel opened on the hub's incident: a tap on it.
            await until("the response panel", lambda: "booth-1" in window.panels)
            panel = window.panels["booth-1"]
            seen["incident"] = panel.incident_id
            panel.tap("stimulated")
            await until("the tile shows the acknowledgement", lambda: not window.tiles[
                "booth-1"].ack.isVisible())
            # P pauses the audio, Shift+P resumes it: here and on the hub.
            qtbot.keyClick(window, Qt.Key.Key_P)
            await until("paused here", lambda: viewer.engine.alarms.paused_by != "")
            qtbot.keyClick(window, Qt.Key.Key_P, Qt.KeyboardModifier.ShiftModifier)
            await until("resumed here", lambda: viewer.engine.alarms.paused_by == "")
            await until("both applied by the hub", lambda: len(rows(
                url, f"SELECT 1 FROM site_commands WHERE action IN {AUDIO} AND applied_at "
                "IS NOT NULL")) == 2)
        finally:
            viewer.engine.request_stop()
            await run

    try:
        with loop:
            loop.run_until_complete(main())
    finally:
        window.timer.stop()
        viewer.close()
        stop(hub, config.parent / "room-1.log")
        print(rows(url, "SELECT booth, action, by, result FROM site_commands"))  # on failure
    spo2, pr = seen["numbers"]
    assert 85 <= int(spo2) <= 100 and 40 <= int(pr) <= 140
    assert "HIGH" in str(seen["banner"]).upper() and "Booth 1" in str(seen["banner"])
    assert seen["tile"] and seen["ack visible"] is True
    st = seen["status"]
    assert isinstance(st, dict)
    assert st["hub_alive"] is True
    assert st["alarm"] is None or " (at " in st["alarm"]["acknowledged_by"]
    ackers = [a for (a,) in rows(url, "SELECT actor FROM alarm_log WHERE station = 'booth-1' "
                                 "AND state = 'acknowledged'")]
    assert ackers and all(" (at " in a for a in ackers)
    assert rows(url, "SELECT id FROM incidents WHERE station = 'booth-1'") == [
        (seen["incident"],)]
    acted = rows(url, "SELECT data FROM incident_events WHERE incident_id = %s AND kind = "
                 "'action'", seen["incident"])
    assert [json.loads(d)["action"] for (d,) in acted] == ["stimulated"]
    assert rows(url, f"SELECT action, result FROM site_commands WHERE action IN {AUDIO} "
                "ORDER BY id") == [("pause_audio", "audio paused"),
                                   ("resume_audio", "audio resumed")]
