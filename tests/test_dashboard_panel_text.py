"""The response panel's words are drawn in full on a 1366×768 laptop, at the app's
normal and large text sizes: each button's text is narrower than its rectangle (less
its padding), after every kind of action (Undo showing, toggles on)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QAbstractButton, QCheckBox, QPushButton, QRadioButton, QWidget

from oximon.cli.wiring import demo_specs
from oximon.ui.response import RESCUE
from tests.test_dashboard_wall import settle, sim_window

PADDING = 2 * 8 + 2 * 2  # the column's QPushButton padding (8 px) and its 2 px border


def clipped(panel) -> list[tuple[str, int, int]]:
    """(text, text width, room) for every visible button whose words do not fit, in its
    own rectangle or in the part of the panel that is on screen (its scroll area's
    viewport: the panel's content never wider than its column)."""
    out = []
    view = panel.outer.viewport()
    seen = QRect(QPoint(0, 0), view.size())
    for w in panel.outer.widget().findChildren(QWidget):
        if w.isVisible() and w.width() > 0:
            r = QRect(w.mapTo(view, QPoint(0, 0)), w.size())
            if r.right() > seen.right():
                out.append((type(w).__name__ + ":" + getattr(w, "text", str)(), r.right(),
                            seen.right()))
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


@pytest.mark.parametrize("until", [20.0, 88.0])  # calm; alarms (the banner's 3 lines)
@pytest.mark.parametrize("text_scale", [1.0, 1.15, 1.32])
def test_response_panel_words_fit_their_buttons_at_1366x768(qtbot, text_scale, until):
    window, driver = sim_window(qtbot, 24, (1366, 768))
    driver.run_to(until)
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


def test_the_panel_of_an_alarming_booth_is_never_wider_than_its_column(qtbot):
    """The guest's numbers with '■ ALARM' beside the booth's name: the widest header."""
    specs = [*demo_specs(8)[:6], "sim:rapid-desat:7", "sim:normal:8"]
    window, driver = sim_window(qtbot, 8, (1366, 768), specs=specs)
    driver.run_to(20.0)
    sid = window.model.station_ids()[6]
    window.open_response(sid)
    driver.run_to(100.0)
    for _ in range(4):
        settle(qtbot, window)
    panel = window.panels[sid]
    panel.live.refresh(panel.scale)
    assert "■ ALARM" in panel.live.text()
    assert clipped(panel) == []


def test_the_words_fit_at_every_scale_the_column_may_choose(qtbot):
    """The column picks the panel's scale from the room it has (0.7 up, by the banner,
    the window, the text size): whichever it picks, no button's words are cut."""
    window, driver = sim_window(qtbot, 24, (1366, 768))
    driver.run_to(30.0)
    sid = window.model.station_ids()[2]
    window.open_response(sid)
    panel = window.panels[sid]
    panel.tap("stimulated")
    panel.tap_toggle(RESCUE)
    for scale in (0.7, 0.78, 0.84, 0.9, 1.0):
        window.response_column.set_panel_scale(scale)
        for _ in range(3):
            settle(qtbot, window)
        assert panel.scale == scale
        if panel.outer.verticalScrollBar().maximum() > 0:
            continue  # too tall for the column: it would not choose this scale here
        assert [c for c in clipped(panel) if not c[0].startswith(("QLabel", "QWidget",
                                                                   "QScroll"))] == [], scale
