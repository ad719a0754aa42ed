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


KEYS = "Space acknowledge · P pause audio · R respond · double-tap a tile to respond"
SAY_S = 6.0  # how long something the app said stays in place of the keys line


def status_facts(clock: str, stations: int, saving: bool, saving_ok: bool,
                 lock_left: float | None) -> str:
    """The status line's first line: the time, the stations, whether records are saved
    and whether supervisor mode is on."""
    if not saving:
        records = "records NOT saved (no incident store)"
    elif saving_ok:
        records = "records saved"
    else:
        records = "records NOT being saved — see the alarm"
    supervisor = "" if lock_left is None else \
        f" · supervisor mode (locks after {int(lock_left) // 60}:{int(lock_left) % 60:02d} idle)"
    return f"{clock} · {stations} stations · {records}{supervisor}"


class StatusLine:
    """The bottom bar's status label, two lines beside the buttons: the facts and the
    keys. It asks for the width both lines need (the buttons give way, never the words:
    "P pause audio" is always drawn in full). Something the app says (e.g. "Look at the
    alarm on screen first") takes the keys' line for SAY_S seconds of engine time."""

    def __init__(self, label: QLabel):
        self.label = label
        label.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)
        self._said: tuple[str, float] | None = None
        self._needed = 0

    @property
    def needed(self) -> int:
        return self._needed

    def say(self, text: str, now: float) -> bool:
        """Say `text` in place of the keys; True when the width needed changed."""
        self._said = (text, now + SAY_S)
        return self._set(self.label.text().split("\n")[0], text)

    def show(self, facts: str, now: float) -> bool:
        """Show the lines; True when the width they need changed (refit the buttons)."""
        second = KEYS
        if self._said is not None:
            if now < self._said[1]:
                second = self._said[0]
            else:
                self._said = None
        return self._set(facts, second)

    def _set(self, first: str, second: str) -> bool:
        text = f"{first}\n{second}"
        if self.label.text() != text:
            self.label.setText(text)
        fm = self.label.fontMetrics()  # (digits are all as wide: the clock never jitters)
        needed = max(fm.horizontalAdvance(first), fm.horizontalAdvance(second),
                     fm.horizontalAdvance(KEYS)) + 4
        if abs(needed - self._needed) <= 2:
            return False
        self._needed = needed
        self.label.setMinimumWidth(needed)
        return True
