"""The response panel's record section, squeezed to its minimum, still shows its heading
and first row of signs whole (a strip between the two drew check boxes cut in half)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from oximon.ui.response_form import RecordSection


@pytest.mark.parametrize("px", [11, 15, 20])
def test_the_first_row_of_signs_is_whole_at_the_minimum_height(qtbot, px):
    section = RecordSection()
    qtbot.addWidget(section)
    section.setStyleSheet(f"* {{ font-size: {px}px; }}")
    section.fit_min()
    section.resize(300, section.minimumHeight())
    section.show()
    QApplication.processEvents()
    first = next(iter(section.signs.values()))
    bottom = first.mapTo(section.viewport(), first.rect().bottomLeft()).y()
    assert bottom < section.viewport().height(), (bottom, section.viewport().height())


def test_the_pacer_words_shrink_to_one_line_rather_than_wrap(qtbot):
    from PySide6.QtGui import QFont, QFontMetrics
    from PySide6.QtWidgets import QLabel

    from oximon.ui.response_form import one_line_px

    label = QLabel("")
    qtbot.addWidget(label)
    label.resize(170, 40)
    text = "next breath in 3 s"
    px = one_line_px(label, text, 30)
    font = QFont(label.font())
    font.setBold(True)
    font.setPixelSize(px)
    assert 11 <= px < 30
    assert QFontMetrics(font).horizontalAdvance(text) <= label.contentsRect().width() - 8
    label.resize(600, 40)
    assert one_line_px(label, text, 30) == 30  # room enough: the size asked for
