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
