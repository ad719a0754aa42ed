"""The response panel's parts that hold no rules: its buttons and headings, the SAVE ME
steps, and the section below the fold (signs, outcome, aftercare, note, close, timeline).
The panel (`oximon.ui.response`) wires them to its record."""

from __future__ import annotations

from PySide6.QtCore import Qt
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

from oximon.response import SAVE_ME
from oximon.vocabulary import AFTERCARE_LABELS, OUTCOME_LABELS, SIGN_LABELS


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
        low.addWidget(heading("Signs seen"))
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
        self.setMinimumHeight(24)  # at least its first heading: it scrolls
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
