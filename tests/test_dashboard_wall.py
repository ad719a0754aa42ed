"""The wall itself: 24 tiles fit 1366×768 and a wall screen; the demo dashboard runs on
the real engine loop and its numbers change; plots repaint only when their data changed;
devices (pair, rename, swap, remove) and settings (supervisor-only, audited)."""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
from dataclasses import replace

import pytest
from PySide6.QtCore import QRect, Qt

from oximon.alerts import AlarmManager
from oximon.cli.wiring import build_engine, demo_specs, open_sources
from oximon.clock import ManualClock, ScaledClock
from oximon.drivers import open_source
from oximon.engine import Engine
from oximon.profile import load_profile
from oximon.supervisor import PasswordFile, SupervisorSession
from oximon.types import ConditionChange, DeviceState, Priority, Sample
from oximon.ui.dashboard import DashboardOptions, grid_shape
from oximon.ui.devices import FoundDevice
from oximon.ui.sim_drive import SimDriver
from tests.eventkit import feed_as_source
from tests.ui_fakes import build_window


def sim_window(qtbot, n: int, size=(1366, 768), specs: list[str] | None = None, **seams):
    clock = ManualClock()
    engine = Engine(clock, load_profile(None), AlarmManager)
    for station, source in open_sources(specs or demo_specs(n)):
        engine.add_station(station, source)
    window = build_window(engine, **seams)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    driver = SimDriver(engine, clock)
    return window, driver


def settle(qtbot, window) -> None:
    qtbot.wait(20)  # let queued re-layouts run
    window.redraw()


@pytest.mark.parametrize("size,min_digits_px", [((1366, 768), 30), ((3840, 2160), 90)])
def test_24_tiles_fill_the_screen_without_overlap(qtbot, size, min_digits_px):
    window, driver = sim_window(qtbot, 24, size)
    driver.run_to(30.0)
    settle(qtbot, window)
    assert window.size().width() == size[0] and window.size().height() == size[1]
    assert window.wall.shape[:2] == (4, 6)
    wall = window.wall.rect()
    rects: list[QRect] = []
    for tile in window.tiles.values():
        assert tile.isVisible()
        r = tile.geometry()
        assert wall.contains(r), (r, wall)
        assert all(not r.intersects(o) for o in rects)
        rects.append(r)
        assert tile.spo2.font().pixelSize() >= min_digits_px
        assert tile.name.font().pixelSize() >= 11
        # The number fits its label (not clipped).
        assert tile.spo2.fontMetrics().horizontalAdvance("100") <= tile.spo2.width()
        assert tile.pr.fontMetrics().horizontalAdvance("140") <= tile.pr.width()
    covered = sum(r.width() * r.height() for r in rects)
    assert covered > 0.8 * wall.width() * wall.height()  # the tiles fill the wall


def test_grid_shape_prefers_readable_tiles():
    assert grid_shape(1, 1366, 700) == (1, 1)
    assert grid_shape(6, 1366, 700) == (2, 3)
    assert grid_shape(24, 1366, 700) == (4, 6)
    assert grid_shape(24, 800, 700) in ((5, 5), (6, 4))


def test_demo_dashboard_opens_and_numbers_change(qtbot):
    """The real path: simulated sources pulled by engine.run() on the qasync loop shared
    with Qt, the window redrawing from its own timer."""
    import qasync
    from PySide6.QtWidgets import QApplication

    loop = qasync.QEventLoop(QApplication.instance(), already_running=False)
    asyncio.set_event_loop(loop)
    engine = build_engine(ScaledClock(speed=8.0), load_profile(None),
                          list(open_sources(demo_specs(4))))
    window = build_window(engine)
    qtbot.addWidget(window)
    window.show()
    seen: dict[str, set[str]] = {sid: set() for sid in window.tiles}
    paints: list[int] = []

    async def watch() -> None:
        run = asyncio.create_task(engine.run(duration=24.0))  # 3 s of real time
        while not run.done():
            await asyncio.sleep(0.1)
            for sid, tile in window.tiles.items():
                if tile.stack.currentIndex() == 0:
                    seen[sid].add(tile.spo2.text() + "/" + tile.pr.text())
            paints.append(sum(t.wave.paints for t in window.tiles.values()))
        await run

    try:
        loop.run_until_complete(watch())
    finally:
        window.timer.stop()
        loop.close()  # now, while Qt is alive (not from the garbage collector later)
        asyncio.set_event_loop(None)
    assert all(len(values) >= 3 for sid, values in seen.items() if sid != "sim-4")
    assert paints[-1] > paints[0]  # the pleth kept moving
    assert window.model.views["sim-1"].trend_spo2.version >= 15


def test_plots_repaint_only_when_their_data_changed(qtbot):
    window, driver = sim_window(qtbot, 2)
    driver.run_to(5.0)
    settle(qtbot, window)
    tile = window.tiles["sim-1"]
    qtbot.wait(20)
    before = (tile.wave.paints, tile.trend.paints)
    for _ in range(5):
        window.redraw()
        qtbot.wait(5)
    assert (tile.wave.paints, tile.trend.paints) == before
    driver.run_to(7.0)
    window.redraw()
    qtbot.waitUntil(lambda: tile.wave.paints > before[0])
    assert tile.trend.paints > before[1]  # two new trend seconds


def test_redraw_timer_is_capped():
    assert DashboardOptions().redraw_hz <= 30


def test_pair_rename_swap_remove(qtbot):
    window, driver = sim_window(qtbot, 3)
    found = [FoundDevice("sim:normal:77", "Oximeter 77", "sim", "simulated"),
             FoundDevice("ble:nonsense", "Broken", "ble")]
    opened: list[str] = []

    def opener(spec: str):
        opened.append(spec)
        return open_source(spec)

    window.services = replace(window.services, discover=lambda: found, open_source=opener)
    dialog = window.open_devices()
    qtbot.addWidget(dialog)
    dialog.scan()
    assert dialog.found_table.rowCount() == 2
    assert dialog.booth.text() == "4" and dialog.alias.text() == "Booth 4"
    dialog.alias.setText("Blue chair")
    dialog.pair_selected()
    assert opened == ["sim:normal:77"]
    assert "Paired" in dialog.status.text()
    new = [sid for sid, live in window.model.engine.stations.items()
           if live.station.booth == "4"]
    assert len(new) == 1 and window.model.label(new[0]) == "Blue chair"
    settle(qtbot, window)
    assert new[0] in window.tiles and window.tiles[new[0]].name.text() == "Blue chair"

    # A spec the opener refuses: a message, no station.
    dialog.found_table.selectRow(0)
    dialog.pair_selected()
    assert "Cannot use Broken" in dialog.status.text()
    assert len(window.model.engine.stations) == 4

    # Rename.
    dialog.stations_table.clearSelection()
    dialog.stations_table.selectRow(0)
    dialog.new_alias.setText("Window seat")
    dialog.rename_selected()
    assert window.model.label("sim-1") == "Window seat"
    # Swap booths 2 and 3: the devices change places, the wall follows booth order.
    dialog.stations_table.clearSelection()
    dialog.stations_table.selectRow(1)
    dialog.stations_table.selectRow(2)
    dialog.swap_selected()
    assert window.model.live("sim-2").station.booth == "3"
    assert window.model.station_ids()[:3] == ["sim-1", "sim-3", "sim-2"]
    # Remove is refused while the station alarms, and takes two taps.
    driver.run_to(3.0)
    alarms = window.model.engine.alarms
    alarms.on_condition(ConditionChange("sim-1", "x", True, 3.0, Priority.MEDIUM,
                                        technical=True))
    dialog.stations_table.clearSelection()
    dialog.stations_table.selectRow(0)
    dialog.remove_selected()
    assert "Tap again" in dialog.remove_button.text()
    dialog.remove_selected()
    assert "has an alarm" in dialog.status.text() and "sim-1" in window.tiles
    alarms.on_condition(ConditionChange("sim-1", "x", False, 3.0, Priority.MEDIUM,
                                        technical=True))
    assert not window.model.views["sim-1"].alarms
    dialog.stations_table.clearSelection()
    dialog.stations_table.selectRow(0)
    dialog.remove_selected()
    dialog.remove_selected()
    settle(qtbot, window)
    assert "sim-1" not in window.model.engine.stations and "sim-1" not in window.tiles
    dialog.close()


def test_settings_need_supervisor_mode_and_every_change_is_audited(qtbot, tmp_path):
    audit: list[dict] = []
    session = SupervisorSession(PasswordFile(tmp_path / "pw.json"), kdf_n=2**10)
    window, _ = sim_window(qtbot, 1, audit=audit.append, session=session)
    dialog = window.open_settings()
    qtbot.addWidget(dialog)
    assert not dialog.editors["spo2_low.threshold"].isEnabled()
    assert not dialog.apply_changes() and not audit
    dialog.close()

    session.set_password("a-long-password", by="sup")  # first use unlocks
    dialog = window.open_settings()
    qtbot.addWidget(dialog)
    assert dialog.editors["spo2_low.threshold"].isEnabled()
    dialog.editors["spo2_low.threshold"].setValue(92.0)
    dialog.editors["alarms.escalate_after_s"].setValue(20.0)
    assert dialog.apply_changes()
    assert [(a["action"], a["key"], a.get("old"), a.get("new"), a["by"]) for a in audit] == [
        ("profile_changed", "spo2_low.threshold", 90.0, 92.0, "sup"),
        ("profile_changed", "alarms.escalate_after_s", 30.0, 20.0, "sup"),
        ("profile_applied", None, None, None, "sup")]
    assert window.model.engine.profile.get("spo2_low.threshold") == 92.0
    assert window.model.band_limits() == (92.0, 95.0)
    assert not dialog.apply_changes()  # nothing changed since
    assert len(audit) == 3
    dialog.close()


def test_high_contrast_and_text_size_keys(qtbot):
    window, driver = sim_window(qtbot, 2)
    driver.run_to(3.0)
    window.windowHandle().requestActivate()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_H)
    assert window.palette_.name == "high contrast"
    size = window.tiles["sim-1"].name.font().pixelSize()
    qtbot.keyClick(window, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert window.options.text_scale > 1.0
    assert window.tiles["sim-1"].name.font().pixelSize() > size


def test_sample_flood_does_not_redraw(qtbot):
    """Samples only fill buffers; nothing on screen changes until the timer's redraw."""
    window, driver = sim_window(qtbot, 1)
    driver.run_to(3.0)
    window.timer.stop()
    settle(qtbot, window)
    qtbot.wait(20)
    tile = window.tiles["sim-1"]
    text, paints = tile.spo2.text(), tile.wave.paints
    for i in range(50):
        feed_as_source(window.model.engine, "sim-1", Sample(3.0 + i * 0.02, 80.0, 60.0,
                                                 pleth=(10.0, 90.0), pleth_rate=50.0))
    qtbot.wait(20)
    assert tile.spo2.text() == text and tile.wave.paints == paints
    window.redraw()
    assert tile.spo2.text() == "80"


def test_cli_dashboard_demo_runs_and_exits(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-m", "oximon", "dashboard", "--demo", "--stations", "2",
         "--duration", "1"], capture_output=True, text=True, timeout=60, env=env,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert proc.returncode == 0, proc.stderr
    bad = subprocess.run([sys.executable, "-m", "oximon", "dashboard", "--demo",
                          "--stations", "25"], capture_output=True, text=True, timeout=60,
                         env=env)
    assert bad.returncode == 2 and "choose 1 to 24" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_nan_values_never_reach_the_screen(qtbot):
    window, driver = sim_window(qtbot, 1)
    driver.run_to(3.0)
    feed_as_source(window.model.engine, "sim-1", Sample(3.1, 97.0, math.nan))
    window.redraw()
    tile = window.tiles["sim-1"]
    assert tile.pr.text() == "--" and "nan" not in tile.spo2.text().lower()


def test_simulated_booths_stream_numbers_not_connecting(qtbot):
    """The screenshot and test driver feeds simulators as their live source does: the
    simulator decides 'streaming', so calm booths show digits, not 'Connecting…'."""
    window, driver = sim_window(qtbot, 4)
    driver.run_to(20.0)
    settle(qtbot, window)
    streaming = [sid for sid, live in window.model.engine.stations.items()
                 if live.state is DeviceState.STREAMING]
    assert len(streaming) >= 3
    for sid in streaming:
        tile = window.tiles[sid]
        assert tile.stack.currentIndex() == 0 and tile.spo2.text().isdigit()
