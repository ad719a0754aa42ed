"""The response panel's parts that hold no rules: its buttons and headings, the SAVE ME
steps, and the section below the fold (signs, outcome, aftercare, note, close, timeline).
The panel (`oximon.ui.response`) wires them to its record."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFrame,
    QGridLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from oximon.response import BUTTON_ORDER, SAVE_ME, SINGLE, TOGGLES
from oximon.types import Priority
from oximon.ui.model import DashboardModel
from oximon.vocabulary import AFTERCARE_LABELS, OUTCOME_LABELS, SIGN_LABELS


class GuestNumbers(QLabel):
    """The guest's SpO2 and pulse now, beside the booth's name at the panel's top (so the
    panel always says whose it is and how they are)."""

    def __init__(self, model: DashboardModel, station: str):
        super().__init__("")
        self.setObjectName("live")
        self.model = model
        self.station = station
        # It takes the room the booth's name and the clock leave, never more: its text
        # gets smaller before the panel gets wider than its column.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def numbers(self) -> tuple[float | None, float | None]:
        """SpO2 and pulse now (None: no reading)."""
        live = self.model.engine.stations.get(self.station)
        if live is None or not live.state.has_numbers:
            return None, None
        return (None if math.isnan(live.spo2) else live.spo2,
                None if math.isnan(live.pr) else live.pr)

    def high_alarm_active(self) -> bool:
        view = self.model.views.get(self.station)
        return view is not None and any(
            a.priority >= Priority.HIGH and not a.technical and a.condition_active
            for a in view.alarms.values())

    def _px(self, text: str, scale: float) -> int:
        """20 px at scale 1, less if the words would not fit the label's width."""
        font = QFont(self.font())
        font.setBold(True)
        px = round(20 * scale)
        while px > 10 and self.width() > 40:
            font.setPixelSize(px)
            if QFontMetrics(font).horizontalAdvance(text) <= self.width() - 2:
                break
            px -= 1
        return px

    def refresh(self, scale: float) -> None:
        spo2, pr = self.numbers()
        low, watch = self.model.band_limits()
        if spo2 is None:
            text, colour = "SpO₂: no reading", "#ffd180"
        else:
            colour = "#ff1744" if spo2 < low else "#ffd600" if spo2 < watch else "#ffffff"
            text = f"SpO₂ {spo2:.0f} %"
        if pr is not None:
            text += f"  ·  pulse {pr:.0f}"
        if self.high_alarm_active():
            text += "  ■ ALARM"
        style = (f"color: {colour}; font-weight: bold; font-size: {self._px(text, scale)}px;"
                 " background: transparent;")
        if self.text() != text:
            self.setText(text)
        if self.styleSheet() != style:
            self.setStyleSheet(style)


BUTTON_PAD = 2 * 8 + 2 * 2 + 2  # the column's QPushButton padding, its border, a pixel


def fit_button_font(buttons: list[QPushButton], most_px: int, also: list[str]) -> None:
    """Text as large as `most_px`, but every label (and the `also` labels a toggle may
    show) whole inside the narrowest of the buttons, padding and border taken off. Set
    as each button's own style (the column's style sheet would win over a font)."""
    shown = [b for b in buttons if b.width() > BUTTON_PAD]
    if not shown:
        return
    room = min(b.width() for b in shown) - BUTTON_PAD
    font = QFont(shown[0].font())
    font.setBold(True)
    labels = [b.text() for b in buttons] + also
    px = most_px
    while px > 10:
        font.setPixelSize(px)
        if max(QFontMetrics(font).horizontalAdvance(t) for t in labels) <= room:
            break
        px -= 1
    style = f"font-size: {px}px; font-weight: bold;"
    for b in buttons:
        if b.styleSheet() != style:
            b.setStyleSheet(style)


def one_line_px(label: QWidget, text: str, px: int, floor: int = 11) -> int:
    """The largest bold size up to `px` at which `text` fits the label's width on one line
    (the pacer's "next breath in 3 s" wrapped its "s" onto a line of its own)."""
    room = label.contentsRect().width() - 8
    font = QFont(label.font())
    font.setBold(True)
    while px > floor:
        font.setPixelSize(px)
        if room <= 0 or QFontMetrics(font).horizontalAdvance(text) <= room:
            break
        px -= 1
    return px


class ButtonFit:
    """The panel's action and outcome buttons' words as large as the scale asks, every
    label whole in the buttons as laid out: fitted again when the scale or the buttons'
    widths changed (see `fit_button_font`)."""

    def __init__(self, actions: list[QPushButton], outcomes: list[QPushButton],
                 also: list[str]):
        self.actions, self.outcomes, self.also = actions, outcomes, also
        self._key: tuple[float, int, int] | None = None

    def __call__(self, scale: float) -> None:
        key = (scale, self.actions[0].width(), self.outcomes[0].width())
        if key == self._key:
            return
        self._key = key
        fit_button_font(self.actions, round(18 * scale), self.also)
        fit_button_font(self.outcomes, round(15 * scale), [])


def scrolling(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(widget)
    return area


def action_button(label: str) -> QPushButton:
    b = QPushButton(label)
    b.setObjectName("action")
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return b


def action_grid(naloxone_label: str) -> tuple[QGridLayout, dict[str, QPushButton],
                                             QPushButton]:
    """The one-tap actions, two to a row in BUTTON_ORDER, and the undo button's slot
    (kept while hidden): equal halves whatever a label says, so nothing moves."""
    grid = QGridLayout()
    grid.setSpacing(6)
    labels = {**{a: label for a, (label, _) in SINGLE.items()},
              **{tg.key: tg.on_label for tg in TOGGLES}, "naloxone": naloxone_label}
    buttons = {key: action_button(labels[key]) for key in BUTTON_ORDER}
    for i, key in enumerate(BUTTON_ORDER):
        grid.addWidget(buttons[key], i // 2, i % 2)
    undo = action_button("")
    undo.setObjectName("undo")
    undo.hide()
    grid.addWidget(undo, 4, 1)
    for b in [*buttons.values(), undo]:
        policy = b.sizePolicy()
        policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
        policy.setRetainSizeWhenHidden(True)
        b.setSizePolicy(policy)
    grid.setColumnStretch(0, 1)
    grid.setColumnStretch(1, 1)
    return grid, buttons, undo


def heading(text: str) -> QLabel:
    lab = QLabel(text)
    lab.setObjectName("h1")
    return lab


def saveme_box() -> QFrame:
    """The SAVE ME steps (GUIDELINE.md), always in sight (the bold first letters spell
    it, so no heading row is spent on it)."""
    saveme = QFrame()
    saveme.setObjectName("saveme")
    saveme.setToolTip("SAVE ME")
    sm = QVBoxLayout(saveme)
    sm.setContentsMargins(8, 2, 8, 2)
    sm.setSpacing(0)
    for letter, word, what in SAVE_ME:
        lab = QLabel(f"<b>{letter}</b>&nbsp; <b>{word}</b> — {what}")
        lab.setObjectName("savemeStep")
        lab.setWordWrap(True)
        sm.addWidget(lab)
    return saveme


class RecordSection(QScrollArea):
    """Below the fold (scrolls): signs, aftercare, note, the timeline. The outcome and
    Close are in `closing`, which the panel keeps always in view (never scrolled away);
    the discard button is the panel's to put far from Close."""

    def __init__(self) -> None:
        super().__init__()
        lower = QWidget()
        low = QVBoxLayout(lower)
        low.setContentsMargins(0, 0, 0, 0)
        self._low = low
        self._first = heading("Signs seen")
        low.addWidget(self._first)
        signs = QGridLayout()
        self.signs: dict[str, QCheckBox] = {}
        for i, (sign, words) in enumerate(SIGN_LABELS.items()):
            box = QCheckBox(words)
            self.signs[sign] = box
            signs.addWidget(box, i // 2, i % 2)
        low.addLayout(signs)
        low.addWidget(heading("Aftercare"))
        self.aftercare: dict[str, QCheckBox] = {}
        for item, words in AFTERCARE_LABELS.items():
            box = QCheckBox(words)
            self.aftercare[item] = box
            low.addWidget(box)
        low.addWidget(heading("Note"))
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("Anything else (no names)")
        self.note.setFixedHeight(70)
        low.addWidget(self.note)
        low.addWidget(heading("Timeline"))
        self.timeline = QListWidget()
        self.timeline.setMinimumHeight(120)
        low.addWidget(self.timeline)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidget(lower)
        self.fit_min()  # at least its first heading, whole: the rest scrolls
        # It takes what is left: its content's full height must not become the panel's.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        self.closing = QWidget()
        closing = QVBoxLayout(self.closing)
        closing.setContentsMargins(0, 0, 0, 0)
        closing.setSpacing(4)
        closing.addLayout(self._outcomes())
        self.close_button = QPushButton("Close incident (choose an outcome first)")
        self.close_button.setObjectName("action")
        self.close_button.setEnabled(False)
        closing.addWidget(self.close_button)
        self.discard_button = QPushButton("Opened by mistake…")
        self.discard_button.setToolTip("Closes it as 'opened in error': kept in the log, "
                                       "never counted in reports.")

    def fit_min(self, first_row: bool = True) -> None:
        """Its first heading stays whole in view at any text size, and its first row of
        signs too (a strip between the two drew check boxes cut in half) unless the panel
        has no room left for that row at its smallest text (`first_row` False)."""
        self._first.ensurePolished()
        need = self._first.sizeHint().height()
        if first_row:
            first_box = next(iter(self.signs.values()))
            first_box.ensurePolished()
            need += self._low.spacing() + first_box.sizeHint().height() + 2
        self.setMinimumHeight(max(24, need))

    def _outcomes(self) -> QGridLayout:
        """Outcome buttons; "died" on a row of its own at the far side, apart from
        "left the site" (a slip between them would be a grave error)."""
        outcomes = QGridLayout()
        outcomes.setSpacing(4)
        self.outcome_group = QButtonGroup(self)
        self.outcome_group.setExclusive(False)  # e.g. responsive and transported
        self.outcomes: dict[str, QPushButton] = {}
        place = {"responsive": (0, 0), "breathing_on_own": (0, 1), "transported": (0, 2),
                 "left_site": (1, 0), "died": (1, 2)}  # an empty cell between the two
        for i, (outcome, words) in enumerate(OUTCOME_LABELS.items()):
            b = QPushButton(words)
            b.setProperty("word", outcome)
            b.setCheckable(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            self.outcome_group.addButton(b)
            self.outcomes[outcome] = b
            row, col = place.get(outcome, (2 + i // 3, i % 3))
            outcomes.addWidget(b, row, col)
        for col in range(3):
            outcomes.setColumnStretch(col, 1)
        self.outcomes["died"].setObjectName("grave")
        return outcomes

    def selected_outcomes(self) -> list[str]:
        return [word for word, b in self.outcomes.items() if b.isChecked()]

    def aftercare_given(self) -> list[str]:
        return [k for k, box in self.aftercare.items() if box.isChecked()]

    def note_text(self) -> str:
        return self.note.toPlainText().strip()
