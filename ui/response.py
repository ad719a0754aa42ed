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
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from oximon.ports import IncidentLog
from oximon.response import (
    CPR,
    NALOXONE,
    OXYGEN,
    RESCUE,
    SINGLE,
    TOGGLES,
    UNDO_S,
    Responders,
    ResponseRecord,
    SignUndo,
    Toggle,
    action_words,
    close_question,
    mmss,
)
from oximon.ui.model import DashboardModel
from oximon.ui.response_form import (
    ButtonFit,
    GuestNumbers,
    RecordSection,
    action_grid,
    one_line_px,
    saveme_box,
    scrolling,
)
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
        self.scale = 1.0  # the dashboard sets it from the window and text size
        self._pacer_text = ""
        self.warning = QLabel("Not saved (no incident store): write it down.")
        self.warning.setObjectName("warning")
        self.warning.setWordWrap(True)
        self.warning.setVisible(not saving)
        self.pacer = QLabel("")
        self.pacer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pacer.setWordWrap(True)
        self.pacer.setObjectName("pacer")
        self.naloxone = QLabel("")
        self.naloxone.setWordWrap(True)
        self.naloxone.setObjectName("dim")
        self.pacer.hide()  # shown while rescue breathing runs / after a dose
        self.naloxone.hide()
        self._size_slots()

        content = QWidget()
        self.outer = scrolling(content)  # scrolls only if even the fitted text cannot fit
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.outer)
        # Fixed slots, top to bottom: nothing a tap shows or hides moves a button.
        layout = QVBoxLayout(content)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(self._head())
        layout.addLayout(self._who())
        timers = QHBoxLayout()  # pacer and naloxone countdown: one reserved row
        timers.addWidget(self.pacer, 2)
        timers.addWidget(self.naloxone, 3)
        layout.addLayout(timers)
        layout.addLayout(self._actions())
        layout.addLayout(self._dose_row())
        self.saveme = saveme_box()
        layout.addWidget(self.saveme)
        layout.addWidget(self._below_the_fold(), 1)
        self.fit_buttons = ButtonFit([*self.buttons.values(), self.undo_button],
                                     list(self.outcomes.values()),
                                     [RESCUE.off_label, CPR.on_label])
        layout.addWidget(self.form.closing)
        layout.addWidget(self.warning)
        for slot in (self.pacer, self.naloxone):
            policy = slot.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            slot.setSizePolicy(policy)
        self.refresh(self.opened_t)

    # -- building --------------------------------------------------------------------------
    def _head(self) -> QHBoxLayout:
        """The booth, its SpO2 and pulse now (whose panel this is, at a glance) and how
        long the incident has been open."""
        title = QLabel(self.model.label(self.station))
        title.setObjectName("h1")
        self.live = GuestNumbers(self.model, self.station)  # SpO2 and pulse now
        self.elapsed = QLabel("")
        self.elapsed.setObjectName("dim")
        head = QHBoxLayout()
        head.setSpacing(12)
        head.addWidget(title)
        head.addWidget(self.live, 1)
        head.addWidget(self.elapsed)
        return head

    def _who(self) -> QHBoxLayout:
        who = QHBoxLayout()
        self.responder = QComboBox()
        self.responder.setEditable(True)
        self.responder.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self._line().setPlaceholderText("initials or alias — no full names")
        self.responder.setToolTip("Who is acting now: each tap is recorded with this name. "
                                  "Initials or an alias, never a full name.")
        self._fill_responders()
        self.responder.setCurrentText(self.responders.last)
        self.responder.currentTextChanged.connect(self._responder_chosen)
        who.addWidget(QLabel("Responding:"))
        who.addWidget(self.responder, 1)
        self._discard_slot = who  # "opened by mistake" goes here, far from Close
        return who

    def _actions(self) -> QGridLayout:
        grid, self.buttons, self.undo_button = action_grid(self.record.naloxone_label())
        for action in SINGLE:
            self.buttons[action].clicked.connect(lambda _=False, a=action: self.tap(a))
        for toggle in TOGGLES:
            self.buttons[toggle.key].clicked.connect(
                lambda _=False, tg=toggle: self.tap_toggle(tg))
        self.buttons["naloxone"].clicked.connect(self.tap_naloxone)
        self.undo_button.clicked.connect(self.undo_last)
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

    def _below_the_fold(self) -> RecordSection:
        form = RecordSection()
        self.form = form
        self.signs, self.outcomes, self.aftercare = form.signs, form.outcomes, form.aftercare
        self.outcome_group, self.note, self.timeline = form.outcome_group, form.note, \
            form.timeline
        self.close_button, self.discard_button = form.close_button, form.discard_button
        self._discard_slot.addWidget(self.discard_button)
        for sign, box in self.signs.items():
            box.toggled.connect(lambda on, s=sign: self._tap_sign(s, on))
        self.outcome_group.buttonToggled.connect(lambda *_: self._update_close())
        self.close_button.clicked.connect(self.close_incident)
        self.discard_button.clicked.connect(self.discard)
        return form

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
            self._size_slots()
            self.form.fit_min()
            self.refresh(self.model.now())

    def _size_slots(self) -> None:
        slot = round(2 * 15 * self.scale * 1.3 + 6)  # two lines, shown or not
        self.pacer.setFixedHeight(slot)
        self.naloxone.setFixedHeight(slot)

    # -- who -------------------------------------------------------------------------------
    @property
    def by(self) -> str:
        """Who is acting now (what each tap is recorded with)."""
        return " ".join(self.responder.currentText().split()) or self.responders.last

    def _line(self) -> QLineEdit:
        line = self.responder.lineEdit()  # the combo is editable: it has one
        assert line is not None
        return line

    def _fill_responders(self) -> None:
        current = self.responder.currentText()
        self.responder.blockSignals(True)
        self.responder.clear()
        self.responder.addItems(self.responders.names)
        self.responder.setCurrentText(current or self.responders.last)
        self.responder.blockSignals(False)

    def _responder_chosen(self, _text: str) -> None:
        if not self._line().hasFocus():  # picked from the list
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
    def _refresh_undo(self, now: float) -> None:
        can = self.record.undoable(now)
        if can is None:
            if self.undo_button.isVisible():
                self.undo_button.hide()
            return
        words, left = can
        text = f"↶ Undo ({math.ceil(left - 1e-9)} s)"
        self.undo_button.setToolTip(f"Undo {words}")
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
        return self.form.selected_outcomes()

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
        low = self.model.band_limits()[0]
        # (A record oximon already closed is being completed: the booth's alarm and
        # numbers now belong to another episode, so there is nothing to ask.)
        question = "" if self.closed_by_system_t is not None else \
            close_question(self.live.high_alarm_active(), self.live.numbers()[0], low)
        if question and not self.confirm(self, "Close while the alarm is on?", question):
            return
        now = self._stop_toggles()
        if self.record.close(now, outcomes, self.form.aftercare_given(),
                             self.form.note_text(), self.by):
            self.closed.emit(self.station, self.incident_id)

    def discard(self) -> bool:
        """An incident opened by mistake: closed as 'opened in error' (kept, not counted)."""
        if not self.confirm(self, "Opened by mistake?", self.record.discard_question()):
            return False
        now = self._stop_toggles()
        if not self.record.discard(now, self.form.note_text(), self.by):
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
        self.live.refresh(self.scale)
        self.fit_buttons(self.scale)  # the layout settles after a resize: looked at here
        pacer = self.pacer_text(now)
        if pacer != self._pacer_text:
            self._pacer_text = pacer
            self.pacer.setText(pacer)
            self.pacer.setVisible(bool(pacer))
            px = one_line_px(self.pacer, pacer, round((20 if pacer.startswith("●") else 18)
                                                      * self.scale))
            self.pacer.setStyleSheet(
                f"background: #00e5ff; color: #000; font-weight: bold; font-size: {px}px;"
                if pacer.startswith("●") else
                f"color: #00e5ff; font-weight: bold; font-size: {px}px;")
        self._refresh_undo(now)
        if self.responder.count() != len(self.responders.names) \
                and not self._line().hasFocus():
            self._fill_responders()  # a name another panel added this shift
        text, prompt = self.naloxone_text(now)
        if self.naloxone.text() != text:
            self.naloxone.setText(text)
            self.naloxone.setObjectName("prompt" if prompt else "dim")
            self.naloxone.setStyleSheet("")  # re-polish with the new object name
            self.naloxone.setVisible(bool(text))
