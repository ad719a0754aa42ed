"""The wall as it is drawn, checked in pixels (QWidget.grab() → QImage), not only in
widget properties: the high alarm is the loudest tile in both flash phases, digits and
names are large enough from 3 m at laptop and wall-screen sizes, the response panel's
buttons never move, no booth is switched to by itself, and an escalation is acknowledged
only once it has been on screen for a second (engine time: a ManualClock, no sleeps)."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QWidget

from oximon.types import Flags, Priority, Sample
from oximon.ui.alarm_views import ACK_AFTER_S
from oximon.ui.response import CPR, OXYGEN, RESCUE
from oximon.ui.style import DARK, missing_glyphs
from tests.eventkit import feed_as_source
from tests.test_dashboard_flows import PLETH, Rig
from tests.test_dashboard_wall import settle, sim_window
from tests.ui_fakes import FakeIncidentLog


def grab(window: QWidget) -> QImage:
    QApplication.processEvents()
    return window.grab().toImage()


def rect_in(window: QWidget, widget: QWidget) -> QRect:
    top_left = widget.mapTo(window, QPoint(0, 0))
    return QRect(top_left, widget.size())


def loud_pixels(image: QImage, rect: QRect, skip: QRect | None = None) -> int:
    """Pixels in `rect` (but not in `skip`: the tile's pleth and trend, drawn the same on
    every tile) that shout: strongly saturated and not dark (an alarm's reds and yellows,
    a notice's cyan) — white digits and grey borders do not count."""
    n = 0
    for y in range(rect.top(), rect.bottom() + 1, 2):
        for x in range(rect.left(), rect.right() + 1, 2):
            if skip is not None and skip.contains(x, y):
                continue
            c = QColor(image.pixel(x, y))
            if c.hsvSaturationF() >= 0.6 and c.valueF() >= 0.35:
                n += 1
    return n


def is_alarm_red(c: QColor) -> bool:
    hue = c.hsvHueF() * 360
    return c.hsvSaturationF() >= 0.7 and c.valueF() >= 0.5 and (hue >= 330 or hue <= 12)


def ink_height(image: QImage, rect: QRect, bright: int = 200) -> int:
    """Height of the near-white drawing (digits, names) inside `rect`, in pixels."""
    def white(x: int, y: int) -> bool:
        c = QColor(image.pixel(x, y))
        return min(c.red(), c.green(), c.blue()) >= bright
    rows = [y for y in range(rect.top(), rect.bottom() + 1)
            if any(white(x, y) for x in range(rect.left(), rect.right() + 1))]
    return (rows[-1] - rows[0] + 1) if rows else 0


def text_ink_height(image: QImage, rect: QRect) -> int:
    """Height of whatever is drawn in `rect` in a colour far from its background (the
    commonest colour there): words in any colour, on a tile or a filled header."""
    counts: dict[int, int] = {}
    for y in range(rect.top(), rect.bottom() + 1):
        for x in range(rect.left(), rect.right() + 1):
            counts[image.pixel(x, y)] = counts.get(image.pixel(x, y), 0) + 1
    bg = QColor(max(counts, key=lambda k: counts[k]))

    def ink(x: int, y: int) -> bool:
        c = QColor(image.pixel(x, y))
        return abs(c.red() - bg.red()) + abs(c.green() - bg.green()) + \
            abs(c.blue() - bg.blue()) >= 240
    rows = [y for y in range(rect.top(), rect.bottom() + 1)
            if any(ink(x, y) for x in range(rect.left(), rect.right() + 1))]
    return (rows[-1] - rows[0] + 1) if rows else 0


def feed(rig: Rig, until: float, spo2: dict[str, float], flags: dict[str, Flags]) -> None:
    """Like Rig.run, with per-station flags (a low battery on one booth)."""
    t = rig.clock.now()
    while t < until - 1e-9:
        t = round(t + 0.5, 6)
        rig.clock.set(t)
        for sid in rig.engine.stations:
            value = spo2.get(sid, 97.0)
            feed_as_source(rig.engine, sid, Sample(
                t, value, 80.0, pleth=PLETH, pleth_rate=10.0,
                flags=flags.get(sid, Flags.NONE), signal=0.9, battery=80.0))
        rig.engine.tick(t)
    rig.window.redraw()


def test_the_high_alarm_is_the_loudest_tile_in_both_flash_phases(qtbot):
    rig = Rig(qtbot, 3)
    w = rig.window
    feed(rig, 25.0, {"s1": 82.0}, {"s2": Flags.LOW_BATTERY})  # raised, not escalated
    high, low, calm = w.tiles["s1"], w.tiles["s2"], w.tiles["s3"]
    assert rig.model.views["s1"].top_alarm().condition.startswith("spo2")
    assert rig.model.views["s2"].top_alarm().condition == "battery_low"
    shots = {}
    assert not w.overlay.isVisible()
    for phase, t in (("on", 25.1), ("off", 25.35)):  # high flashes at 2 Hz
        rig.clock.set(t)
        w.redraw()
        image = grab(w)
        shots[phase] = image
        loud_high = loud_pixels(image, rect_in(w, high), rect_in(w, high.graphs))
        loud_low = loud_pixels(image, rect_in(w, low), rect_in(w, low.graphs))
        # The high alarm outshouts the battery notice by far, in each phase.
        assert loud_high > 4 * loud_low, (phase, loud_high, loud_low)
        # Its header is filled in an alarm red in each phase, never the normal look.
        head = rect_in(w, high.head)
        sample = QColor(image.pixel(head.left() + 2, head.center().y()))
        assert is_alarm_red(sample), (phase, sample.name())
        border = QColor(image.pixel(rect_in(w, high).left() + 2, rect_in(w, high).center().y()))
        assert is_alarm_red(border), (phase, border.name())
        # The battery notice has the ordinary border, exactly as a calm tile's.
        for tile in (low, calm):
            r = rect_in(w, tile)
            edge = QColor(image.pixel(r.left() + 1, r.center().y()))
            assert edge.name() == QColor(DARK.border).name(), (phase, edge.name())
        # The alarming SpO2 is drawn in the alarm's colour.
        digits = rect_in(w, high.spo2)
        reds = loud_pixels(image, digits)
        assert reds > 50
    # ... and it does flash: the header's shade differs between the phases.
    head = rect_in(w, high.head)
    p = QPoint(head.left() + 2, head.center().y())
    assert shots["on"].pixel(p) != shots["off"].pixel(p)


@pytest.mark.parametrize("n,shape", [(4, (2, 2)), (16, (4, 4)), (24, (4, 6))])
@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_digit_and_name_sizes_from_pixels(qtbot, n, shape, size):
    window, driver = sim_window(qtbot, n, size)
    driver.run_to(30.0)
    window.open_response(window.model.station_ids()[0])  # the panel lies over the wall
    for _ in range(3):
        settle(qtbot, window)
    assert window.size().toTuple() == size
    assert window.wall.shape[:2] == shape  # grids that fill the screen
    image = grab(window)
    wall_screen = size == (1920, 1080)
    measured = {"digits": 0, "names": 0, "alarms": 0}
    for sid in window.model.station_ids():
        tile = window.tiles[sid]
        # Names and the alarm's words: 24 px or more at both sizes, for 4 to 24 booths.
        name_px = tile.name.font().pixelSize()
        assert name_px >= 24 and tile.alarm.font().pixelSize() >= 24, (sid, name_px)
        if tile.stack.currentIndex() != 0:
            continue  # no reading: words, not digits
        tile_h = tile.height()
        px = tile.spo2.font().pixelSize()
        assert px >= 0.40 * tile_h, (sid, px, tile_h)  # 40 % of the tile's height
        if rect_in(window, tile).intersects(window.response_column.geometry()):
            continue  # under the panel: not on screen to measure
        ink = ink_height(image, rect_in(window, tile.spo2))
        assert ink >= 0.7 * px  # drawn at that size (digits are ~0.73 em tall)
        if wall_screen:
            assert ink >= 48
        measured["digits"] += 1
        # "Booth 12" drawn: capitals and digits ~0.73 em, so at 24 px >= 17 px of ink.
        name_ink = text_ink_height(image, rect_in(window, tile.name))
        assert name_ink >= 0.68 * 24, (sid, name_ink)
        assert tile.name.fits()
        measured["names"] += 1
        if tile.alarm.isVisible() and tile.alarm.text():
            alarm_ink = text_ink_height(image, rect_in(window, tile.alarm))
            assert alarm_ink >= 0.68 * 24, (sid, alarm_ink, tile.alarm.text())
            measured["alarms"] += 1
    assert measured["digits"] >= n // 2 and measured["names"] >= n // 2


def button_places(window: QWidget, panel) -> dict[str, QRect]:
    buttons = {**panel.buttons, **{f"outcome:{k}": b for k, b in panel.outcomes.items()},
               "close": panel.close_button, "discard": panel.discard_button,
               "undo": panel.undo_button}
    return {k: rect_in(window, b) for k, b in buttons.items()}


def test_response_panel_buttons_never_move(qtbot):
    window, driver = sim_window(qtbot, 24, (1366, 768))
    driver.run_to(20.0)
    sid = window.model.station_ids()[2]
    window.open_response(sid)
    for _ in range(3):
        settle(qtbot, window)
    panel = window.panels[sid]
    before = button_places(window, panel)
    clock = driver.clock
    steps = [
        lambda: panel.tap("stimulated"), lambda: panel.tap("airway"),
        lambda: panel.tap_toggle(RESCUE), lambda: panel.tap_naloxone(),
        lambda: panel.tap("911_called"), lambda: panel.tap_toggle(OXYGEN),
        lambda: panel.signs["unresponsive"].setChecked(True),
        lambda: panel.undo_last(), lambda: panel.tap_toggle(CPR),
        lambda: panel.tap("ehs_arrived"), lambda: panel.tap("recovery_position"),
        lambda: panel.outcomes["responsive"].click(),
    ]
    for i, step in enumerate(steps):
        step()
        clock.set(clock.now() + 0.7)  # the pacer, undo countdown and timers tick on
        for _ in range(2):
            settle(qtbot, window)
        assert button_places(window, panel) == before, f"after step {i}"
    clock.set(clock.now() + 300.0)  # the second-dose prompt comes
    for _ in range(2):
        settle(qtbot, window)
    assert "Give dose 2" in window.banner.text()
    assert button_places(window, panel) == before


def test_a_new_incident_elsewhere_is_announced_never_switched_to(qtbot):
    log = FakeIncidentLog()
    rig = Rig(qtbot, 3, log=log)
    w = rig.window
    rig.run(40.0, {"s1": 82.0})
    w.acknowledge("s1")
    panel = w.panels["s1"]
    panel.tap("stimulated")
    for _ in range(4):  # the panel's text size settles to its column
        settle(qtbot, w)
    before = button_places(w, panel)
    rig.run(80.0, {"s1": 82.0, "s2": 80.0})  # a severe low on booth 2
    w.acknowledge("s2")  # someone acknowledges it (the response opens its incident)
    rig.model.incident_opened.emit("s3", "inc-99")  # and the store opens one by itself
    settle(qtbot, w)
    assert w.response.currentWidget() is panel  # still the booth being responded to
    assert set(w.panels) == {"s1", "s2", "s3"}
    assert "New incident: Booth 2" in w.timers.text()
    assert w.response.tabText(w.response.indexOf(w.panels["s2"])).startswith("NEW")
    assert button_places(w, panel) == before
    panel.tap("airway")  # logged on booth 1, where the person is
    assert [c[1:3] for c in log.calls if c[0] == "action"][-1] == (panel.incident_id,
                                                                      "airway")
    w.respond_top()  # a person chooses: R brings the most urgent booth's panel forward
    assert w.response.currentWidget() is not panel or w.panels


def test_space_twice_acknowledges_only_the_escalation_on_screen_for_a_second(qtbot):
    rig = Rig(qtbot, 3)
    w = rig.window
    rig.run(45.0, {"s1": 80.0, "s2": 80.0})  # both severe, both escalated after 30 s
    assert len({a.station for a in rig.model.escalated_alarms()}) == 2
    assert w.overlay.isVisible()
    first = w.overlay.station
    other = "s2" if first == "s1" else "s1"
    assert "escalated" in w.overlay.others.text() and "SpO₂ 80" in w.overlay.others.text()
    rig.clock.set(45.0 + ACK_AFTER_S / 2)  # half a second on screen: not yet
    w.redraw()
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert not rig.model.views[first].top_alarm().acknowledged
    rig.clock.set(45.0 + ACK_AFTER_S)
    w.redraw()
    qtbot.keyClick(w, Qt.Key.Key_Space)  # seen for a second: acknowledged
    assert rig.model.views[first].top_alarm().acknowledged
    assert w.overlay.isVisible() and w.overlay.station == other
    rig.clock.set(45.0 + ACK_AFTER_S + 0.25)  # the second press, 250 ms later
    w.redraw()
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert not rig.model.views[other].top_alarm().acknowledged  # nobody saw it yet
    assert w.overlay.isVisible() and not w.overlay.ack.isEnabled()
    assert all(not sc.autoRepeat() for sc in w.shortcuts[:3] + w._overlay_keys)
    rig.clock.set(45.0 + 2 * ACK_AFTER_S + 0.1)
    w.redraw()
    assert w.overlay.respond.isEnabled()
    qtbot.mouseClick(w.overlay.respond, Qt.MouseButton.LeftButton)  # Respond, on it
    assert rig.model.views[other].top_alarm().acknowledged
    assert w.response.currentWidget() is w.panels[other]
    w.redraw()
    assert not w.overlay.isVisible()


def test_every_text_on_the_wall_is_drawable_by_the_bundled_fonts(qtbot):
    rig = Rig(qtbot, 3)
    w = rig.window
    rig.run(40.0, {"s1": 82.0})
    w.pause_audio()
    w.acknowledge("s1")
    panel = w.panels["s1"]
    panel.tap_naloxone()
    panel.tap_toggle(RESCUE)
    rig.clock.set(100.0)
    w.redraw()
    seen = 0
    for widget in w.findChildren(QWidget):
        text = widget.text() if isinstance(widget, QLabel | QAbstractButton) else ""
        if text and widget.isVisible():
            seen += 1
            assert missing_glyphs(text, widget.font()) == "", text
    assert seen > 40
    assert w.tiles["s1"].paused.isVisible() and w.tiles["s2"].paused.text  # crossed bell
    assert not math.isnan(rig.engine.stations["s1"].spo2)


def test_a_booth_under_the_panel_that_alarms_is_never_hidden(qtbot):
    rig = Rig(qtbot, 24)
    w = rig.window
    rig.run(10.0)
    w.open_response("s1")  # a response on booth 1 (left): the panel lies over the right
    for _ in range(3):
        settle(qtbot, w)
    column = w.response_column.geometry()
    hidden = rect_in(w, w.tiles["s6"])  # top right: under the panel
    assert w.wall.shape[:2] == (4, 6) and hidden.intersects(column)
    assert "s6" in w.wall.covered(column.width()) and "s1" not in w.wall.covered(
        column.width())
    rig.run(40.0, {"s6": 80.0})  # booth 6 falls while the panel is open
    for _ in range(3):
        settle(qtbot, w)
    assert rig.model.views["s6"].top_alarm().priority >= Priority.HIGH
    image = grab(w)
    tile = w.tiles["s6"]
    shown = rect_in(w, tile)
    assert not shown.intersects(w.response_column.geometry())  # the wall made room
    assert all(not rect_in(w, t).intersects(w.response_column.geometry())
               for t in w.tiles.values())
    head = rect_in(w, tile.head)  # its header filled in the alarm's red, on screen
    reds = sum(is_alarm_red(QColor(image.pixel(x, y)))
               for y in range(head.top(), head.bottom() + 1, 2)
               for x in range(head.left(), head.right() + 1, 2))
    assert reds >= 0.3 * (head.width() // 2) * (head.height() // 2), reds
    assert w.panels["s1"] is w.response.currentWidget()  # the panel did not move or switch
    assert "Booth 6" in w.banner.text()
    # Once booth 6's alarm is over, the wall goes back to its full size under the panel.
    w.acknowledge("s6")
    rig.run(200.0)
    for _ in range(3):
        settle(qtbot, w)
    assert not rig.model.views["s6"].alarms
    assert w.wall.reserve == 0 and w.wall.shape[:2] == (4, 6)


def test_a_low_battery_under_the_panel_does_not_move_the_wall(qtbot):
    rig = Rig(qtbot, 24)
    w = rig.window
    rig.run(10.0)
    w.open_response("s1")
    for _ in range(3):
        settle(qtbot, w)
    feed(rig, 40.0, {}, {"s6": Flags.LOW_BATTERY})
    for _ in range(2):
        settle(qtbot, w)
    assert rig.model.views["s6"].top_alarm().condition == "battery_low"
    assert w.wall.reserve == 0 and w.wall.shape[:2] == (4, 6)


def test_a_recovered_number_is_not_framed_while_its_alarm_stays_in_response(qtbot):
    rig = Rig(qtbot, 2)
    w = rig.window
    rig.run(10.0)
    rig.run(40.0, {"s1": 82.0})
    tile = w.tiles["s1"]
    assert tile._look.frame is not None  # 82 %: the alarming number framed in red
    w.acknowledge("s1")
    rig.run(50.0, {"s1": 97.0})  # recovered; the alarm stays open (in response)
    assert rig.model.views["s1"].alarms  # still active
    assert tile._look.frame is None
    image = grab(w)
    assert loud_pixels(image, rect_in(w, tile.spo2)) < 20  # 97 in white, not alarm red
