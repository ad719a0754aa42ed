"""The dashboard's bottom bar: the status line and the buttons for the less urgent things
(devices, settings, review, contrast, text size, full screen), kept to one row."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy

BOTTOM_LABELS = {"Devices": "Devices  [D]", "Settings": "Settings  [S]",
                 "Review incidents…": "Review incidents…  [V]",
                 "High contrast": "High contrast  [H]", "A+": "A+", "A−": "A−",
                 "Full screen": "Full screen  [F11]"}


def bottom_bar(slots: dict[str, Callable[[], object]]
               ) -> tuple[QHBoxLayout, QLabel, dict[str, QPushButton]]:
    """The row, its status label and its buttons by short name (`slots` by short name)."""
    bar = QHBoxLayout()
    status = QLabel("")
    status.setObjectName("dim")
    status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    bar.addWidget(status, 1)
    buttons: dict[str, QPushButton] = {}
    for key, text in BOTTOM_LABELS.items():
        b = QPushButton(text)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        b.clicked.connect(slots[key])
        bar.addWidget(b)
        buttons[key] = b
    return bar, status, buttons


def fit_bottom_bar(buttons: dict[str, QPushButton], base: QFont, px: int,
                   room: float) -> None:
    """The buttons keep to one row on any window: their key hints go first, then the
    font shrinks (never below 11 px)."""
    for short in (False, True):
        for key, b in buttons.items():
            b.setText(key if short else BOTTOM_LABELS[key])
        for size in range(px, 10, -1):
            font = QFont(base)
            font.setPixelSize(size)
            for b in buttons.values():
                b.setFont(font)
            if sum(b.sizeHint().width() + 6 for b in buttons.values()) <= room:
                return
            if not short:
                break  # try the short labels before a smaller font
