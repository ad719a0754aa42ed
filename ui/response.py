"""The response panel: the view of one incident's response record (`oximon.response`).

While an incident is open, each action is one tap, timestamped by the engine's clock; the
record writes it to the incident log and this panel shows it in the timeline and as a
mark on the station's trend. It shows the timers a responder needs — the rescue-breathing
pacer (one breath every 5 s) and the 5-minute countdown from each naloxone dose to the
second-dose prompt — and keeps the SAVE ME steps on screen (GUIDELINE.md). Timers read
the engine's clock, so tests move a ManualClock instead of sleeping.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from oximon.ports import IncidentLog
from oximon.response import (
    BUTTON_ORDER,
    CPR,
    NALOXONE,
    OXYGEN,
    RESCUE,
    SAVE_ME,
    SINGLE,
    TOGGLES,
    UNDO_S,
    Responders,
    ResponseRecord,
    SignUndo,
    Toggle,
    action_words,
    mmss,
)
from oximon.ui.model import DashboardModel
from oximon.vocabulary import AFTERCARE_LABELS, OUTCOME_LABELS, SIGN_LABELS

# The words the panel offers (one definition: oximon.vocabulary), by the names tests use.
SIGNS = SIGN_LABELS
OUTCOMES = OUTCOME_LABELS
AFTERCARE = AFTERCARE_LABELS
__all__ = ["AFTERCARE", "CPR", "OUTCOMES", "OXYGEN", "RESCUE", "SIGNS", "SINGLE", "UNDO_S",
           "Responders", "ResponsePanel", "Toggle", "ask_yes_no", "mmss"]


def ask_yes_no(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def _scrolling(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(widget)
    return area


class ResponsePanel(QWidget):
    """One incident's panel. `closed(station, incident_id)` when the record is closed."""

    closed = Signal(str, str)

    def __init__(self, model: DashboardModel, station: str, incident_id: str,
                 incident_log: IncidentLog, saving: bool, by: str = "",
                 responders: Responders | None = None,
                 confirm: Callable[[QWidget, str, str], bool] | None = None):
        super().__init__()
        self.model = model
        self.station = station
        self.incident_id = incident_id
        self.saving = saving
        self.responders = responders or Responders(by)
        self.confirm = confirm or ask_yes_no
        self.opened_t = model.now()
        self.record = ResponseRecord(incident_log, incident_id, self.opened_t,
                                     self.responders, warn=self._warn)
        self.buttons: dict[str, QPushButton] = {}
        self.scale = 1.0  # the dashboard sets it from the window and text size
        self._pacer_text = ""
        self.warning = QLabel("Records are not being saved (no incident store) — "
                              "write down what happened.")
        self.warning.setObjectName("warning")
        self.warning.setWordWrap(True)
        self.warning.setVisible(not saving)
        self.pacer = QLabel("")
        self.pacer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pacer.setObjectName("pacer")
        self.naloxone = QLabel("")
        self.naloxone.setWordWrap(True)
        self.naloxone.setObjectName("dim")
        self.pacer.hide()  # shown while rescue breathing runs / after a dose
        self.naloxone.hide()

        content = QWidget()
        self.outer = _scrolling(content)  # scrolls only if even the fitted text cannot fit
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.outer)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(self._head())
        layout.addLayout(self._who())
        layout.addWidget(self.warning)
        layout.addWidget(self.pacer)
        layout.addWidget(self.naloxone)
        layout.addLayout(self._actions())
        layout.addLayout(self._dose_row())
        layout.addWidget(self._saveme())
        layout.addWidget(self._below_the_fold(), 1)
        self.refresh(self.opened_t)

    # -- building --------------------------------------------------------------------------
    def _head(self) -> QHBoxLayout:
        title = QLabel(f"Response — {self.model.label(self.station)}")
        title.setObjectName("h1")
        self.elapsed = QLabel("")
        self.elapsed.setObjectName("dim")
        head = QHBoxLayout()
        head.addWidget(title, 1)
        head.addWidget(self.elapsed)
        return head

    def _who(self) -> QHBoxLayout:
        who = QHBoxLayout()
        self.responder = QComboBox()
        self.responder.setEditable(True)
        self.responder.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.responder.lineEdit().setPlaceholderText("initials or alias — no full names")
        self.responder.setToolTip("Who is acting now: each tap is recorded with this name. "
                                  "Initials or an alias, never a full name.")
        self._fill_responders()
        self.responder.setCurrentText(self.responders.last)
        self.responder.currentTextChanged.connect(self._responder_chosen)
        who.addWidget(QLabel("Responding:"))
        who.addWidget(self.responder, 1)
        return who

    def _actions(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setSpacing(6)
        for action, (label, _) in SINGLE.items():
            b = self._button(label)
            b.clicked.connect(lambda _=False, a=action: self.tap(a))
            self.buttons[action] = b
        for toggle in TOGGLES:
            b = self._button(toggle.on_label)
            b.clicked.connect(lambda _=False, tg=toggle: self.tap_toggle(tg))
            self.buttons[toggle.key] = b
        b = self._button(self.record.naloxone_label())
        b.clicked.connect(self.tap_naloxone)
        self.buttons["naloxone"] = b
        for i, key in enumerate(BUTTON_ORDER):
            grid.addWidget(self.buttons[key], i // 2, i % 2)
        self.undo_button = self._button("")
        self.undo_button.setObjectName("undo")
        self.undo_button.clicked.connect(self.undo_last)
        self.undo_button.hide()
        grid.addWidget(self.undo_button, 4, 1)
        return grid

    def _dose_row(self) -> QHBoxLayout:
        dose_row = QHBoxLayout()
        self.route = QComboBox()
        self.route.addItems(list(NALOXONE))
        self.route.setToolTip("IM: into a muscle (BC kits). IN: nasal spray.")
        self.amount = QComboBox()
        self.route.currentTextChanged.connect(self._fill_amounts)
        self._fill_amounts(self.route.currentText())
        dose_row.addWidget(QLabel("Naloxone:"))
        dose_row.addWidget(self.route)
        dose_row.addWidget(self.amount, 1)
        return dose_row

    def _saveme(self) -> QFrame:
        saveme = QFrame()
        saveme.setObjectName("saveme")
        sm = QVBoxLayout(saveme)
        sm.setContentsMargins(8, 4, 8, 4)
        sm.setSpacing(0)
        sm.addWidget(self._heading("SAVE ME"))
        for letter, word, what in SAVE_ME:
            lab = QLabel(f"<b>{letter}</b>&nbsp; <b>{word}</b> — {what}")
            lab.setObjectName("savemeStep")
            lab.setWordWrap(True)
            sm.addWidget(lab)
        self.saveme = saveme
        return saveme

    def _below_the_fold(self) -> QScrollArea:
        """Signs, outcome, aftercare, note, close and the timeline: these scroll."""
        lower = QWidget()
        low = QVBoxLayout(lower)
        low.setContentsMargins(0, 0, 0, 0)
        low.addWidget(self._heading("Signs seen"))
        signs = QGridLayout()
        self.signs: dict[str, QCheckBox] = {}
        for i, (sign, words) in enumerate(SIGNS.items()):
            box = QCheckBox(words)
            box.toggled.connect(lambda on, s=sign: self._tap_sign(s, on))
            self.signs[sign] = box
            signs.addWidget(box, i // 2, i % 2)
        low.addLayout(signs)
        low.addWidget(self._heading("Outcome (all that apply)"))
        low.addLayout(self._outcomes())
        low.addWidget(self._heading("Aftercare"))
        self.aftercare: dict[str, QCheckBox] = {}
        for item, words in AFTERCARE.items():
            box = QCheckBox(words)
            self.aftercare[item] = box
            low.addWidget(box)
        low.addWidget(self._heading("Note"))
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("Anything else (no names)")
        self.note.setFixedHeight(70)
        low.addWidget(self.note)
        self.close_button = QPushButton("Close incident (choose an outcome first)")
        self.close_button.setObjectName("action")
        self.close_button.setEnabled(False)
        self.close_button.clicked.connect(self.close_incident)
        low.addWidget(self.close_button)
        self.discard_button = QPushButton("Opened by mistake — discard")
        self.discard_button.setToolTip("Closes it as 'opened in error': kept in the log, "
                                       "never counted in reports.")
        self.discard_button.clicked.connect(self.discard)
        low.addWidget(self.discard_button)
        low.addWidget(self._heading("Timeline"))
        self.timeline = QListWidget()
        self.timeline.setMinimumHeight(120)
        low.addWidget(self.timeline)
        scroll = _scrolling(lower)
        scroll.setMinimumHeight(90)
        # It takes what is left: its content's full height must not become the panel's.
        scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        return scroll

    def _outcomes(self) -> QGridLayout:
        outcomes = QGridLayout()
        self.outcome_group = QButtonGroup(self)
        self.outcome_group.setExclusive(False)  # e.g. responsive and transported
        self.outcomes: dict[str, QPushButton] = {}
        for i, (outcome, words) in enumerate(OUTCOMES.items()):
            b = QPushButton(words)
            b.setProperty("word", outcome)
            b.setCheckable(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.outcome_group.addButton(b)
            self.outcomes[outcome] = b
            outcomes.addWidget(b, i // 3, i % 3)
        self.outcome_group.buttonToggled.connect(lambda *_: self._update_close())
        return outcomes

    # -- the record's state, as before the split ------------------------------------------
    @property
    def entries(self) -> list[tuple[float, str, dict[str, object]]]:
        return self.record.entries

    @property
    def toggles(self) -> dict[str, float | None]:
        return self.record.toggles

    @property
    def naloxone_doses(self) -> list[float]:
        return self.record.naloxone_doses

    @property
    def closed_by_system_t(self) -> float | None:
        return self.record.closed_by_system_t

    @property
    def done(self) -> bool:
        return self.record.done

    def _warn(self, text: str) -> None:
        self.warning.setText(text)
        self.warning.show()

    def set_scale(self, scale: float) -> None:
        """Text size for this panel (the column's stylesheet sizes most of it)."""
        if scale != self.scale:
            self.scale = scale
            self._pacer_text = "\0"  # restyle the pacer at the new size
            self._fit_buttons()
            self.refresh(self.model.now())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_buttons()

    def _fit_buttons(self) -> None:
        """The action buttons' text as large as the scale asks, but every label whole in
        its half of the panel ("Rescue breaths: start" is the longest)."""
        col = (self.width() - 6 * 2 - 6) / 2 - 20  # two columns, padding and border
        want = round(18 * self.scale)
        labels = [b.text() for b in self.buttons.values()] + [RESCUE.off_label, CPR.on_label]
        px = want
        while px > 10:
            font = QFont()
            font.setPixelSize(px)
            font.setBold(True)
            metrics = QFontMetrics(font)
            if max(metrics.horizontalAdvance(t) for t in labels) <= col:
                break
            px -= 1
        font = QFont()
        font.setPixelSize(px)
        font.setBold(True)
        for b in [*self.buttons.values(), self.undo_button]:
            if b.font().pixelSize() != px:
                b.setFont(font)

    @staticmethod
    def _button(label: str) -> QPushButton:
        b = QPushButton(label)
        b.setObjectName("action")
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return b

    @staticmethod
    def _heading(text: str) -> QLabel:
        lab = QLabel(text)
        lab.setObjectName("h1")
        return lab

    # -- who -------------------------------------------------------------------------------
    @property
    def by(self) -> str:
        """Who is acting now (what each tap is recorded with)."""
        return " ".join(self.responder.currentText().split()) or self.responders.last

    def _fill_responders(self) -> None:
        current = self.responder.currentText()
        self.responder.blockSignals(True)
        self.responder.clear()
        self.responder.addItems(self.responders.names)
        self.responder.setCurrentText(current or self.responders.last)
        self.responder.blockSignals(False)

    def _responder_chosen(self, _text: str) -> None:
        if not self.responder.lineEdit().hasFocus():  # picked from the list
            self.responders.use(self.by)

    def set_responder(self, name: str) -> None:
        """Choose who is acting (as picking or typing it does)."""
        self.responder.setCurrentText(self.responders.use(name))

    def responders_seen(self) -> list[str]:
        """Everyone who recorded something here (undone entries included: they acted)."""
        return self.record.responders_seen()

    # -- taps ------------------------------------------------------------------------------
    def tap(self, action: str) -> None:
        self._shown(self.record.tap(action, self.model.now(), self.by))

    def tap_toggle(self, toggle: Toggle) -> None:
        now = self.model.now()
        self._shown(self.record.tap_toggle(toggle, now, self.by))
        self.buttons[toggle.key].setText(self.record.toggle_label(toggle))
        self.refresh(now)

    def tap_naloxone(self) -> None:
        now = self.model.now()
        route = self.route.currentText()
        self._shown(self.record.tap_naloxone(route, self.amount.currentIndex(), now, self.by))
        self.buttons["naloxone"].setText(self.record.naloxone_label())
        self.refresh(now)

    def _tap_sign(self, sign: str, on: bool) -> None:
        self._shown(self.record.tap_sign(sign, on, self.model.now(), self.by))

    def _fill_amounts(self, route: str) -> None:
        self.amount.clear()
        self.amount.addItems([words for words, _ in NALOXONE.get(route, [])])

    def _shown(self, index: int) -> None:
        """A new entry: on the timeline, as a mark on the trend, and undoable for now."""
        t, action, details = self.record.entries[index]
        who = self.record.who(index)
        who = f"  [{who}]" if who else ""
        self.timeline.insertItem(
            0, f"{self._stamp(t)}   {action_words(action, details)}{who}")
        mark = self.record.marks[index]
        if mark:
            self.model.add_marker(self.station, t, mark)
        self._refresh_undo(t)

    def _stamp(self, t: float) -> str:
        wall = self.model.clock.wall() + timedelta(seconds=t - self.model.now())
        return f"{wall.astimezone().strftime('%H:%M:%S')} (+{mmss(t - self.opened_t)})"

    # -- undo ------------------------------------------------------------------------------
    def undo_seconds_left(self, now: float) -> float:
        return self.record.undo_seconds_left(now)

    def _refresh_undo(self, now: float) -> None:
        can = self.record.undoable(now)
        if can is None:
            if self.undo_button.isVisible():
                self.undo_button.hide()
            return
        words, left = can
        text = f"↶ Undo {words} ({math.ceil(left - 1e-9)} s)"
        if self.undo_button.text() != text:
            self.undo_button.setText(text)
        if self.undo_button.isHidden():
            self.undo_button.show()

    def undo_last(self) -> bool:
        """Void the last tap (within UNDO_S): the entry stays, struck out, and the screen
        goes back to how it was before the tap."""
        now = self.model.now()
        undone = self.record.undo(now, self.by)
        if undone is None:
            return False
        row = self.timeline.item(len(self.record.entries) - 1 - undone.index)
        if row is not None:
            row.setText(row.text() + "  — undone")
            font = row.font()
            font.setStrikeOut(True)
            row.setFont(font)
        view = self.model.views.get(self.station)
        if view is not None:  # the mark on the trend goes (the record keeps the entry)
            for m in reversed(view.markers):
                if m.t == undone.t:
                    view.markers.remove(m)
                    view.markers_version += 1
                    break
        how = undone.how
        if how == "naloxone":
            self.buttons["naloxone"].setText(self.record.naloxone_label())
        elif isinstance(how, SignUndo):
            box = self.signs[how.sign]
            box.blockSignals(True)
            box.setChecked(not how.was_on)
            box.blockSignals(False)
        elif isinstance(how, tuple):
            self.buttons[how[0].key].setText(self.record.toggle_label(how[0]))
        self.undo_button.hide()
        self.refresh(now)
        return True

    # -- closing ---------------------------------------------------------------------------
    def has_entries(self) -> bool:
        """Anything a person put in this panel (taps, outcome, aftercare, a note)."""
        return bool(self.record.entries or self.selected_outcome()
                    or self.note.toPlainText().strip()
                    or any(box.isChecked() for box in self.aftercare.values()))

    def system_closed(self, t: float) -> None:
        """oximon closed the record by itself (quiet for 10 min) while this panel still
        holds a person's entries: the panel stays, and what is entered now completes the
        record (late actions, then the outcome as the person's completion)."""
        self.record.closed_by_system_t = t
        self._warn(f"oximon closed this record at {self._stamp(t).split()[0]} "
                   "(no alarm and nothing recorded for 10 min). Finish it here: "
                   "what you enter is added to it.")
        self._update_close()

    def selected_outcomes(self) -> list[str]:
        return [word for word, b in self.outcomes.items() if b.isChecked()]

    def selected_outcome(self) -> str:
        """The chosen outcomes as the log's comma-separated words ('' if none)."""
        return ",".join(self.selected_outcomes())

    def _update_close(self) -> None:
        ok = bool(self.selected_outcome())
        self.close_button.setEnabled(ok)
        self.close_button.setText("Close incident" if ok else
                                  "Close incident (choose an outcome first)")

    def close_incident(self) -> None:
        outcomes = self.selected_outcomes()
        if not outcomes:
            return
        now = self._stop_toggles()
        aftercare = [k for k, box in self.aftercare.items() if box.isChecked()]
        if self.record.close(now, outcomes, aftercare, self.note.toPlainText().strip(),
                             self.by):
            self.closed.emit(self.station, self.incident_id)

    def discard(self) -> bool:
        """An incident opened by mistake: closed as 'opened in error' (kept, not counted)."""
        if not self.confirm(self, "Opened by mistake?", self.record.discard_question()):
            return False
        now = self._stop_toggles()
        if not self.record.discard(now, self.note.toPlainText().strip(), self.by):
            return False
        self.closed.emit(self.station, self.incident_id)
        return True

    def _stop_toggles(self) -> float:
        """Still running at the close: their stop is recorded. Returns the close time."""
        now = self.model.now()
        for toggle in self.record.running_toggles():
            self.tap_toggle(toggle)
        return now

    # -- timers ----------------------------------------------------------------------------
    def pacer_text(self, now: float) -> str:
        return self.record.pacer_text(now)

    def naloxone_text(self, now: float) -> tuple[str, bool]:
        """(words, prompt): prompt is True once 5 minutes passed since the last dose."""
        return self.record.naloxone_text(now)

    def refresh(self, now: float) -> None:
        elapsed = f"open {mmss(now - self.opened_t)}"
        if self.elapsed.text() != elapsed:
            self.elapsed.setText(elapsed)
        pacer = self.pacer_text(now)
        if pacer != self._pacer_text:
            self._pacer_text = pacer
            self.pacer.setText(pacer)
            self.pacer.setVisible(bool(pacer))
            self.pacer.setStyleSheet(
                f"background: #00e5ff; color: #000; font-weight: bold; "
                f"font-size: {round(26 * self.scale)}px;" if pacer.startswith("●") else
                f"color: #00e5ff; font-weight: bold; font-size: {round(22 * self.scale)}px;")
        self._refresh_undo(now)
        if self.responder.count() != len(self.responders.names) \
                and not self.responder.lineEdit().hasFocus():
            self._fill_responders()  # a name another panel added this shift
        text, prompt = self.naloxone_text(now)
        if self.naloxone.text() != text:
            self.naloxone.setText(text)
            self.naloxone.setObjectName("prompt" if prompt else "dim")
            self.naloxone.setStyleSheet("")  # re-polish with the new object name
            self.naloxone.setVisible(bool(text))
