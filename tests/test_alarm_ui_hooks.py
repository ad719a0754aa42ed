"""The screen shows system alarms (no sound, monitoring stopped) and notices a dead engine;
the UI's colours and flash rates come from alerts.visual (IEC 60601-1-8 ranges)."""

from __future__ import annotations

import time

from oximon.alerts import SYSTEM_STATION, AlarmManager, FakeSoundSink, attach_sound
from oximon.alerts.visual import (
    ALARM_VISUALS,
    HIGH_FLASH_RANGE_HZ,
    MEDIUM_FLASH_RANGE_HZ,
    visual_for,
)
from oximon.clock import ManualClock
from oximon.engine import Engine
from oximon.profile import Profile
from oximon.types import Priority, Station
from oximon.ui.style import DARK, FLASH_HZ, PRIORITY_WORDS


def test_visual_spec_within_iec_ranges_and_never_colour_alone() -> None:
    high, medium, low = (ALARM_VISUALS[p] for p in (Priority.HIGH, Priority.MEDIUM,
                                                    Priority.LOW))
    assert HIGH_FLASH_RANGE_HZ[0] <= high.flash_hz <= HIGH_FLASH_RANGE_HZ[1]
    assert MEDIUM_FLASH_RANGE_HZ[0] <= medium.flash_hz <= MEDIUM_FLASH_RANGE_HZ[1]
    assert not low.flashes and low.lit(0.3) and low.lit(12.7)
    assert 0.2 <= high.duty <= 0.6 and 0.2 <= medium.duty <= 0.6
    assert (high.colour, medium.colour, low.colour) == ("#ff1744", "#ffd600", "#18ffff")
    shapes = {v.shape for v in (high, medium, low)}
    words = {v.words for v in (high, medium, low)}
    assert len(shapes) == 3 and len(words) == 3 and all(shapes) and all(words)
    # high at 2 Hz: lit for the first quarter second, dark for the next
    assert high.lit(0.1) and not high.lit(0.35)
    assert visual_for(Priority.MEDIUM, escalated=True).colour == high.colour
    assert FLASH_HZ[Priority.HIGH] == high.flash_hz and Priority.LOW not in FLASH_HZ
    assert PRIORITY_WORDS[Priority.HIGH] == (high.words, high.shape, True)
    assert DARK.priority[Priority.HIGH] == high.colour


def _engine() -> Engine:
    engine = Engine(ManualClock(), Profile.default(), AlarmManager)
    engine.add_station(Station("b1", alias="Booth 1"))
    return engine


def test_banner_shows_sound_unavailable(qtbot) -> None:
    from oximon.cli.dashboard_services import build_services
    from oximon.ui.dashboard import DashboardWindow
    from oximon.ui.model import DashboardModel

    engine = _engine()
    model = DashboardModel(engine)
    window = DashboardWindow(model, build_services(engine))
    qtbot.addWidget(window)
    attach_sound(engine, FakeSoundSink(available=False, problem="no audio output device"))
    assert [a.station for a in model.all_alarms()] == [SYSTEM_STATION]
    window.redraw()
    text = window.banner.text()
    assert "Sound unavailable" in text and "All stations" in text
    engine.acknowledge(SYSTEM_STATION)
    assert model.all_alarms()[0].acknowledged


def test_banner_notices_a_dead_or_stalled_engine(qtbot) -> None:
    from oximon.cli.dashboard_services import build_services
    from oximon.ui.dashboard import DashboardWindow
    from oximon.ui.model import DashboardModel

    engine = _engine()
    window = DashboardWindow(DashboardModel(engine), build_services(engine))
    qtbot.addWidget(window)
    window.redraw()
    assert "MONITORING STOPPED" not in window.banner.text()  # not started yet
    engine.running, engine.heartbeat = True, time.monotonic() - 5.0
    window.redraw()
    assert "MONITORING STOPPED" in window.banner.text()
    engine.heartbeat = time.monotonic()
    window.redraw()
    assert "MONITORING STOPPED" not in window.banner.text()
    engine.running = False  # run() ended or died
    window.redraw()
    assert "MONITORING STOPPED" in window.banner.text()
