"""The wall on a laptop (1366×768) and a 4K wall screen, at text scales 1.0 and 1.5, with
and without the response panel: tiles equal and in place, names readable, digits larger
than their labels, alarm borders clear of the text, and the chrome (banner, buttons,
panel) sized for the screen — without the window ever growing past it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect

from oximon.ui.dashboard import DashboardOptions
from oximon.ui.style import HIGH_CONTRAST
from tests.test_dashboard_wall import settle, sim_window


def positions(window) -> dict[str, tuple[int, int]]:
    out = {}
    for sid, tile in window.tiles.items():
        row, col, _, _ = window.grid.getItemPosition(window.grid.indexOf(tile))
        out[sid] = (row, col)
    return out


def check_tiles(window, size) -> None:
    assert window.size().toTuple() == size  # nothing pushed the window past the screen
    tiles = list(window.tiles.values())
    widths = {t.width() for t in tiles}
    heights = {t.height() for t in tiles}
    assert max(widths) - min(widths) <= 2 and max(heights) - min(heights) <= 2  # equal
    wall = window.wall.rect()
    rects: list[QRect] = []
    for t in tiles:
        r = t.geometry()
        assert wall.contains(r) and not any(r.intersects(o) for o in rects)
        rects.append(r)
        assert t.name.fits(), (t.name.text(), t.name.shown())  # "Booth 24", whole
        assert t.name.font().pixelSize() >= 10
        digits, unit = t.spo2.font().pixelSize(), t.spo2_unit.font().pixelSize()
        assert digits > unit and digits >= t.name.font().pixelSize()
        assert t.spo2.fontMetrics().horizontalAdvance("100") <= t.spo2.width()
        assert t.name.mapTo(t, QPoint(0, 0)).y() >= t.margin() > window.palette_.alarm_px


@pytest.mark.parametrize("scale", [1.0, 1.5])
@pytest.mark.parametrize("size", [(1366, 768), (3840, 2160)])
def test_24_tiles_and_the_panel_at_laptop_and_wall_sizes(qtbot, size, scale):
    window, driver = sim_window(qtbot, 24, size, options=DashboardOptions(text_scale=scale))
    driver.run_to(20.0)
    for _ in range(3):
        settle(qtbot, window)
    check_tiles(window, size)
    before = positions(window)
    assert window.wall.shape[:2] == (4, 6)
    factor = min(size[0] / 1366, size[1] / 768)
    u = max(1.0, factor) * scale
    assert window.banner.detail.font().pixelSize() == round(18 * u)
    assert window.buttons["Devices"].font().pixelSize() >= min(round(15 * u), 11)
    bar = sum(b.width() for b in window.buttons.values())
    assert bar <= window.width() * 0.85
    window.open_response("sim-3")
    window.open_response("sim-20")
    for _ in range(3):
        settle(qtbot, window)
    assert window.response_column.isVisible()
    check_tiles(window, size)
    assert positions(window) == before  # opening the panel moved no booth
    panel = window.panels["sim-20"]
    assert panel.outer.verticalScrollBar().maximum() == 0  # actions and SAVE ME in view
    assert panel.saveme.isVisible() and panel.saveme.visibleRegion().boundingRect().height() \
        == panel.saveme.height()
    for b in panel.buttons.values():
        assert b.fontMetrics().horizontalAdvance(b.text()) <= b.width() - 8, b.text()
    if size[0] > 3000:  # a wall screen gets a panel and banner to match
        assert window.response_column.width() >= 1100
        assert panel.buttons["stimulated"].font().pixelSize() >= 40
        assert window.banner.headline.font().pixelSize() >= 70


def test_large_text_on_8_tiles_keeps_rows_equal_and_digits_big(qtbot):
    window, driver = sim_window(qtbot, 8)
    driver.run_to(20.0)
    window.scale_text(1.15)
    window.scale_text(1.15)
    for _ in range(3):
        settle(qtbot, window)
    check_tiles(window, (1366, 768))
    tile = window.tiles["sim-1"]
    assert tile.name.font().pixelSize() >= 20  # the larger text did take effect


def test_high_contrast_alarm_border_leaves_the_name_clear(qtbot):
    window, driver = sim_window(qtbot, 24)
    window.toggle_contrast()
    assert window.palette_ is HIGH_CONTRAST
    driver.run_to(120.0)  # the demo line-up has alarms by then
    for _ in range(3):
        settle(qtbot, window)
    check_tiles(window, (1366, 768))
    alarming = [t for t in window.tiles.values() if t.border[1] > window.palette_.border_px]
    assert alarming
    for t in alarming:
        assert t.border[1] < t.margin()
        assert t.name.mapTo(t, QPoint(0, 0)).y() >= t.border[1]
