"""Dialogs from the dashboard in words a supervisor reads, sized to their content and
never larger than a 1366×768 laptop screen (its task bar taken off); Devices shows every
station's row with no clipped header or cell text."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QHeaderView, QScrollArea, QTableWidget

from oximon.profile import SCHEMA
from oximon.profile_words import SECTIONS, WORDS
from oximon.ui import dialog_fit
from tests.test_dashboard_wall import settle, sim_window

LAPTOP = QRect(0, 0, 1366, 768 - 40)  # a 1366×768 screen less a task bar


@pytest.fixture
def laptop(monkeypatch):
    monkeypatch.setattr(dialog_fit, "screen_area", lambda _widget: LAPTOP)
    return LAPTOP


def test_every_setting_has_plain_words():
    keys = {f"{s}.{k}" for s, rules in SCHEMA.items() for k in rules}
    assert keys == set(WORDS)  # a new profile key needs its words
    assert set(SCHEMA) == set(SECTIONS)
    for dotted, words in WORDS.items():
        key = dotted.split(".")[1]
        assert "_" not in words.label
        if "_" in key:  # "window s", "delay s": never the key in other clothes
            assert key.replace("_", " ") != words.label.lower()
        assert words.meaning and len(words.meaning) <= 100, dotted  # one line
        rule = SCHEMA[dotted.split(".")[0]][key]
        if rule.kind is float:
            assert words.unit, dotted  # a number always says what it counts


def inside(dialog, area: QRect) -> bool:
    assert area.contains(dialog.frameGeometry()), (dialog.frameGeometry(), area)
    return True


def test_settings_dialog_shows_labels_units_and_meanings(qtbot, laptop):
    window, _driver = sim_window(qtbot, 4)
    dialog = window.open_settings()
    qtbot.addWidget(dialog)
    QApplication.processEvents()
    shown = {label.text() for label in dialog.labels.values()}
    assert "Wait before alarming" in shown and "Alarm below" in shown
    for dotted, label in dialog.labels.items():
        assert label.text() == WORDS[dotted].label
        assert dotted in label.toolTip()  # the profile's key, for whoever edits the file
        assert label.text() != dotted.split(".")[1].replace("_", " ")
    texts = [w.text() for w in dialog.findChildren(type(label))]
    assert "window s" not in texts and "delay s" not in texts
    assert "seconds" in texts and "% SpO₂" in texts
    assert inside(dialog, laptop) and dialog.height() <= laptop.height()
    scroll = dialog.findChild(QScrollArea)
    # As wide as its content: nothing cut at the right, no sideways scrolling.
    assert scroll.horizontalScrollBar().maximum() == 0
    assert dialog.width() < laptop.width()  # sized to its content, not the screen


def assert_table_unclipped(table: QTableWidget) -> None:
    header = table.horizontalHeader()
    assert table.horizontalScrollBar().maximum() == 0
    for c in range(table.columnCount()):
        head = table.horizontalHeaderItem(c)
        assert head is not None
        text = head.text()
        need = header.fontMetrics().horizontalAdvance(text)
        assert header.sectionSize(c) >= need + 8, (text, header.sectionSize(c), need)
        for r in range(table.rowCount()):
            item = table.item(r, c)
            if item is not None and item.text():
                fm = table.fontMetrics()
                assert table.columnWidth(c) >= fm.horizontalAdvance(item.text()) + 4, \
                    (item.text(), table.columnWidth(c))
    assert header.sectionResizeMode(0) == QHeaderView.ResizeMode.ResizeToContents


@pytest.mark.parametrize("n", [8, 24])
def test_devices_dialog_shows_every_row_unclipped_within_the_screen(qtbot, laptop, n):
    window, driver = sim_window(qtbot, n)
    driver.run_to(10.0)
    settle(qtbot, window)
    dialog = window.open_devices()
    qtbot.addWidget(dialog)
    qtbot.waitExposed(dialog)
    QApplication.processEvents()
    table = dialog.stations_table
    assert table.rowCount() == n
    assert inside(dialog, laptop)
    heads = [table.horizontalHeaderItem(c) for c in range(table.columnCount())]
    assert "Drops this shift" in [h.text() for h in heads if h is not None]
    assert_table_unclipped(table)
    rows_h = sum(table.rowHeight(r) for r in range(n))
    if n == 8:  # they fit: every row shown, no scrolling
        assert table.verticalScrollBar().maximum() == 0
        assert table.viewport().height() >= rows_h
    else:  # 24 rows cannot fit a laptop: the dialog takes the screen's height, then scrolls
        assert dialog.frameGeometry().height() >= laptop.height() - 40
        assert table.viewport().height() >= 8 * table.rowHeight(0)  # the room left: rows


def test_booth_settings_in_words_and_within_the_screen(qtbot, laptop):
    window, _driver = sim_window(qtbot, 4)
    dialog = window.open_booth_settings()
    qtbot.addWidget(dialog)
    QApplication.processEvents()
    assert inside(dialog, laptop)
    labels = [w.text() for w in dialog.findChildren(type(dialog.status))]
    assert "Low pulse alarm: alarm below" in labels
    assert all(s.suffix().strip() for s in dialog.editors.values())
