"""The response panel's words are drawn in full on a 1366×768 laptop, at the app's
normal and large text sizes: each button's text is narrower than its rectangle (less
its padding), after every kind of action (Undo showing, toggles on)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QAbstractButton, QCheckBox, QPushButton, QRadioButton

from oximon.ui.response import RESCUE
from tests.test_dashboard_wall import settle, sim_window

PADDING = 2 * 8 + 2 * 2  # the column's QPushButton padding (8 px) and its 2 px border


def clipped(panel) -> list[tuple[str, int, int]]:
    """(text, text width, room) for every visible button whose words do not fit."""
    out = []
    for b in panel.findChildren(QAbstractButton):
        if not b.isVisible() or not b.text():
            continue
        fm = b.fontMetrics()
        text = b.text().replace("&&", "&")
        lines = text.split("\n")
        need = max(fm.horizontalAdvance(line) for line in lines)
        if isinstance(b, QCheckBox | QRadioButton):
            room = b.width() - b.iconSize().width() - 12  # the box or circle and its gap
        elif isinstance(b, QPushButton):
            room = b.width() - PADDING
        else:
            room = b.width()
        if need > room or fm.lineSpacing() * len(lines) > b.height():
            out.append((text, need, room))
    return out


@pytest.mark.parametrize("text_scale", [1.0, 1.15, 1.32])
def test_response_panel_words_fit_their_buttons_at_1366x768(qtbot, text_scale):
    window, driver = sim_window(qtbot, 24, (1366, 768))
    driver.run_to(20.0)
    if text_scale != 1.0:
        window.scale_text(text_scale)
    sid = window.model.station_ids()[2]
    window.open_response(sid)
    for _ in range(4):
        settle(qtbot, window)
    panel = window.panels[sid]
    assert clipped(panel) == []
    panel.tap("stimulated")  # Undo shows
    panel.tap_toggle(RESCUE)  # its label changes to the "stop" words
    panel.tap_naloxone()
    for _ in range(3):
        settle(qtbot, window)
    assert panel.undo_button.isVisible()
    assert clipped(panel) == []
