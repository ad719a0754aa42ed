"""A 1366×768 laptop in an ordinary (not kiosk) maximised window: the task bar and the
title bar take ~70 px, and nothing may fall off — the bottom buttons are on screen and the
status line ("P pause audio") is drawn in full, at normal and large text."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect

from oximon.ui.bottom_bar import KEYS
from tests.test_dashboard_wall import settle, sim_window

# 768 less a 40 px task bar and a 30 px title bar: the client area a maximised window gets.
AVAILABLE = (1366, 768 - 40 - 30)


def rect_in(window, widget) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


@pytest.mark.parametrize("n", [4, 24])
@pytest.mark.parametrize("text_scale", [1.0, 1.32])
def test_nothing_falls_off_a_window_with_a_title_bar(qtbot, n, text_scale):
    window, driver = sim_window(qtbot, n, AVAILABLE)
    assert window.minimumSizeHint().height() <= AVAILABLE[1]  # the WM can fit it
    driver.run_to(30.0)
    if text_scale != 1.0:
        window.scale_text(text_scale)
    window.open_response(window.model.station_ids()[0])
    for _ in range(3):
        settle(qtbot, window)
    assert window.size().toTuple() == AVAILABLE
    inside = window.rect()
    for name, button in window.buttons.items():
        r = rect_in(window, button)
        assert inside.contains(r), (name, r, inside)
        fm = button.fontMetrics()
        assert fm.horizontalAdvance(button.text()) + 12 <= r.width(), name
    status = window.status
    assert inside.contains(rect_in(window, status))
    lines = status.text().split("\n")
    assert lines[1] == KEYS and "P pause audio" in lines[1]
    fm = status.fontMetrics()
    for line in lines:  # every word of both lines drawn, none cut at the right
        assert fm.horizontalAdvance(line) <= status.contentsRect().width(), line
    assert fm.lineSpacing() * 2 <= status.height()
    # The buttons and the status line share the row without overlapping.
    right = rect_in(window, status).right()
    assert all(rect_in(window, b).left() > right for b in window.buttons.values())
    # The wall and the banner are above them, nothing under the bottom edge.
    assert rect_in(window, window.wall).bottom() < rect_in(window, status).top()


def test_something_the_app_says_stays_a_few_seconds_then_the_keys_come_back(qtbot):
    window, driver = sim_window(qtbot, 4, AVAILABLE)
    driver.run_to(5.0)
    window._say("Kiosk mode: only a supervisor can quit.")
    driver.run_to(7.0)
    settle(qtbot, window)
    assert "only a supervisor" in window.status.text()
    driver.run_to(15.0)
    settle(qtbot, window)
    assert window.status.text().split("\n")[1] == KEYS
