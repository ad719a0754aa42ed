"""One incident for review: the trace replay with markers, figures, timeline, amendments,
sign-off, and print/PDF.

Anyone may read it and add an amendment (a correction never overwrites); signing off
needs supervisor mode. Nothing here edits the record itself.
"""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTime, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextEdit,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from oximon.review import (
    Incident,
    ReviewBackend,
    duration_words,
    figures,
    local_time,
    timeline,
    words,
)
from oximon.supervisor import Permission, SupervisorSession
from oximon.ui.pdf import print_documents
from oximon.ui.qtdates import from_qtime
from oximon.ui.review.documents import incident_document, render_trace_image, write_incident_pdf
from oximon.ui.review.trace_plot import TracePlot, rel_words
from oximon.vocabulary import ACTION_LABELS, AFTERCARE_ORDER, OUTCOME_ORDER, RESPONSE_ACTIONS

REPLAY_TICK_MS = 50
AMEND_CHOICES = [("note", "Note"), ("outcome", "Outcome"), ("aftercare", "Aftercare"),
                 ("add_action", "Add a missed action"), ("void_action", "Strike out an action"),
                 ("substance", "Substance"), ("route", "Route"),
                 ("responders", "Responders"), ("completed_by", "Completed by")]


class IncidentDetail(QWidget):
    changed = Signal(str)  # an incident was signed off or amended
    back_requested = Signal()

    def __init__(self, backend: ReviewBackend, session: SupervisorSession,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.backend = backend
        self.session = session
        self.incident: Incident | None = None
        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        self.back = QPushButton("← All incidents")
        self.back.clicked.connect(self.back_requested.emit)
        self.header = QLabel("")
        font = QFont()
        font.setPointSize(13)
        font.setBold(True)
        self.header.setFont(font)
        self.pdf_button = QPushButton("Save PDF…")
        self.pdf_button.clicked.connect(self._ask_pdf)
        self.print_button = QPushButton("Print…")
        self.print_button.clicked.connect(self._print)
        top.addWidget(self.back)
        top.addWidget(self.header, 1)
        top.addWidget(self.pdf_button)
        top.addWidget(self.print_button)
        outer.addLayout(top)

        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 0, 0)
        self.plot = TracePlot()
        left_lay.addWidget(self.plot, 1)
        replay = QHBoxLayout()
        self.play = QPushButton("▶ Replay")
        self.play.setCheckable(True)
        self.play.toggled.connect(self._toggle_play)
        self.speed = QComboBox()
        self.speed.addItems(["1×", "5×", "20×", "60×"])
        self.speed.setCurrentIndex(2)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 1000)
        self.slider.valueChanged.connect(self._slider_moved)
        self.readout = QLabel("")
        self.readout.setMinimumWidth(380)
        replay.addWidget(self.play)
        replay.addWidget(self.speed)
        replay.addWidget(self.slider, 1)
        left_lay.addLayout(replay)
        left_lay.addWidget(self.readout)
        self.plot.cursor_moved.connect(self._cursor_moved)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._replay_step)
        split.addWidget(left)

        self.tabs = QTabWidget()
        self.figures_box = QWidget()
        self.figures_form = QFormLayout(self.figures_box)
        self.tabs.addTab(self.figures_box, "Figures")
        self.timeline_table = _table(["Time", "What", "By"])
        self.tabs.addTab(self.timeline_table, "Timeline")
        self.tabs.addTab(self._amend_tab(), "Amendments")
        self.tabs.addTab(self._sign_tab(), "Sign-off")
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        outer.addWidget(split, 1)
        session.on_change(lambda _unlocked: self._refresh_permissions())

    # -- building -----------------------------------------------------------------------
    def _amend_tab(self) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        self.amend_table = _table(["When", "By", "Change", "Why"], stretch=2)
        lay.addWidget(self.amend_table, 1)
        note = QLabel("A correction is added as an amendment: the original entries stay in "
                      "the record. Anyone may add one.")
        note.setWordWrap(True)
        lay.addWidget(note)
        form = QFormLayout()
        self.amend_field = QComboBox()
        for key, text in AMEND_CHOICES:
            self.amend_field.addItem(text, key)
        self.amend_pages = QStackedWidget()
        self.amend_text = QLineEdit()
        self.amend_text.setPlaceholderText("what the record should say")
        self.amend_words = QListWidget()
        self.amend_words.setMaximumHeight(110)
        add_box = QWidget()
        add_lay = QHBoxLayout(add_box)
        add_lay.setContentsMargins(0, 0, 0, 0)
        self.add_action = QComboBox()
        for kind in sorted(RESPONSE_ACTIONS):
            self.add_action.addItem(ACTION_LABELS[kind], kind)
        self.add_time = QTimeEdit()
        self.add_time.setDisplayFormat("HH:mm:ss")
        add_lay.addWidget(self.add_action, 1)
        add_lay.addWidget(QLabel("at"))
        add_lay.addWidget(self.add_time)
        self.void_action = QComboBox()
        for page in (self.amend_text, self.amend_words, add_box, self.void_action):
            self.amend_pages.addWidget(page)
        self.amend_field.currentIndexChanged.connect(self._amend_field_changed)
        self.amend_reason = QLineEdit()
        self.amend_reason.setPlaceholderText("why (e.g. entered in a rush, wrong time)")
        self.amend_by = QLineEdit()
        self.amend_by.setPlaceholderText("initials or role")
        form.addRow("Correct", self.amend_field)
        form.addRow("New value", self.amend_pages)
        form.addRow("Why", self.amend_reason)
        form.addRow("By", self.amend_by)
        lay.addLayout(form)
        self.amend_button = QPushButton("Add amendment")
        self.amend_button.clicked.connect(self._amend_clicked)
        lay.addWidget(self.amend_button)
        self.amend_message = QLabel("")
        self.amend_message.setWordWrap(True)
        lay.addWidget(self.amend_message)
        return box

    def _amend_field_changed(self) -> None:
        key = self.amend_field.currentData()
        if key in ("outcome", "aftercare"):
            self.amend_pages.setCurrentIndex(1)
            self.amend_words.clear()
            current = set(getattr(self.incident, key, ()) or ())
            for word in (OUTCOME_ORDER if key == "outcome" else AFTERCARE_ORDER):
                item = QListWidgetItem(words(word))
                item.setData(Qt.ItemDataRole.UserRole, word)
                item.setCheckState(Qt.CheckState.Checked if word in current
                                   else Qt.CheckState.Unchecked)
                self.amend_words.addItem(item)
        elif key == "add_action":
            self.amend_pages.setCurrentIndex(2)
        elif key == "void_action":
            self.amend_pages.setCurrentIndex(3)
        else:
            self.amend_pages.setCurrentIndex(0)
            value = getattr(self.incident, key, "") if self.incident else ""
            self.amend_text.setText(", ".join(value) if isinstance(value, tuple) else value)

    def _amend_changes(self) -> dict[str, Any] | str:
        """The change the form describes, or a message saying what is missing."""
        assert self.incident is not None
        key = self.amend_field.currentData()
        if key in ("outcome", "aftercare"):
            chosen = [self.amend_words.item(i).data(Qt.ItemDataRole.UserRole)
                      for i in range(self.amend_words.count())
                      if self.amend_words.item(i).checkState() == Qt.CheckState.Checked]
            return {key: chosen} if chosen or key == "aftercare" else "Tick an outcome."
        if key == "add_action":
            when = action_time(self.incident, from_qtime(self.add_time.time()))
            return {"add_action": {"action": self.add_action.currentData(), "ts": when}}
        if key == "void_action":
            seq = self.void_action.currentData()
            return {"void_action": seq} if seq is not None else "No action to strike out."
        text = self.amend_text.text().strip()
        if key == "responders":
            return {key: [p.strip() for p in text.split(",") if p.strip()]}
        return {key: text}

    def _sign_tab(self) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        self.sign_status = QLabel("")
        self.sign_status.setWordWrap(True)
        lay.addWidget(self.sign_status)
        self.sign_note = QTextEdit()
        self.sign_note.setPlaceholderText("review note (what went well, what to change)")
        lay.addWidget(self.sign_note, 1)
        self.debrief = QCheckBox("Debrief held with the team")
        lay.addWidget(self.debrief)
        self.sign_button = QPushButton("Sign off")
        self.sign_button.clicked.connect(self._sign_clicked)
        lay.addWidget(self.sign_button)
        return box

    # -- showing an incident -------------------------------------------------------------
    def show_incident(self, incident_id: str) -> None:
        self.play.setChecked(False)
        self.incident = self.backend.get_incident(incident_id)
        inc = self.incident
        self.header.setText(f"Incident {inc.id} · {inc.label} · {local_time(inc.opened_ts)}"
                            f" · {inc.status} · {inc.review_words}")
        self.plot.set_incident(inc)
        self._fill_figures(inc)
        self._fill_timeline(inc)
        self._fill_amendments(inc)
        self.sign_note.clear()
        self.debrief.setChecked(False)
        self._refresh_permissions()
        self.plot.set_cursor(self.plot.span[0])

    def _fill_figures(self, inc: Incident) -> None:
        while self.figures_form.rowCount():
            self.figures_form.removeRow(0)
        f = figures(inc)
        rows = [
            ("Lowest SpO₂", "—" if f.nadir is None or f.nadir_ts is None else
             f"{f.nadir:.0f} % at {local_time(f.nadir_ts, '%H:%M:%S')}"),
            ("Time below 90 %", duration_words(f.below90_s)),
            ("Time below 85 %", duration_words(f.below85_s)),
            ("Alarm → acknowledge", duration_words(f.alarm_to_ack_s)),
            ("Alarm → first action", duration_words(f.alarm_to_first_action_s)),
            ("Alarm → naloxone", duration_words(f.alarm_to_naloxone_s)),
            ("Naloxone doses", str(f.naloxone_doses)),
            ("Between doses", ", ".join(duration_words(s) for s in f.naloxone_intervals_s)
             or "—"),
            ("9-1-1 called", "yes" if inc.called_911 else "no"),
            ("Outcome", inc.outcome_words or "—"),
            ("Aftercare", ", ".join(words(a) for a in inc.aftercare) or "—"),
            ("Signs seen", ", ".join(words(a) for a in inc.signs) or "—"),
            ("Incident length", duration_words(f.duration_s)),
            ("Note", inc.note or "—"),
        ]
        self.figure_values: dict[str, str] = {}
        for name, value in rows:
            label = QLabel(value)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.figures_form.addRow(name, label)
            self.figure_values[name] = value

    def _fill_timeline(self, inc: Incident) -> None:
        entries = timeline(inc)
        self.timeline_table.setRowCount(len(entries))
        for r, e in enumerate(entries):
            for c, text in enumerate((local_time(e.ts, "%H:%M:%S"), e.words, e.by)):
                self.timeline_table.setItem(r, c, QTableWidgetItem(text))

    def _fill_amendments(self, inc: Incident) -> None:
        self.amend_table.setRowCount(len(inc.amendments))
        for r, m in enumerate(inc.amendments):
            for c, text in enumerate((local_time(m.ts), m.by, m.what, m.reason)):
                self.amend_table.setItem(r, c, QTableWidgetItem(text))
        self.void_action.clear()
        for a in inc.actions:
            if a.seq is not None and not a.void:
                self.void_action.addItem(f"{local_time(a.ts, '%H:%M:%S')} {a.words}", a.seq)
        self.add_time.setTime(QTime.fromString(local_time(inc.opened_ts, "%H:%M:%S"),
                                                "HH:mm:ss"))
        self._amend_field_changed()

    def _refresh_permissions(self) -> None:
        inc = self.incident
        can_sign = self.session.allowed(Permission.SIGN_OFF)
        if inc is None:
            self.sign_button.setEnabled(False)
            return
        if inc.amended_after_sign_off:
            s = inc.sign_off
            assert s is not None
            self.sign_status.setText(
                f"Amended after sign-off — needs review again (last signed off by "
                f"{s.by or 'supervisor'} on {local_time(s.ts)}). Review the amendments, then "
                "sign off again." + ("" if can_sign else "\nSigning off needs supervisor "
                                     "mode (Unlock at the top)."))
        elif inc.sign_off:
            s = inc.sign_off
            self.sign_status.setText(
                f"Signed off by {s.by or 'supervisor'} on {local_time(s.ts)}; debrief "
                f"{'held' if s.debrief else 'not held'}." + (f"\n{s.note}" if s.note else ""))
        elif not inc.closed:
            self.sign_status.setText("The incident is still open: it can be signed off once "
                                     "it is closed.")
        elif not can_sign:
            self.sign_status.setText("Signing off needs supervisor mode (Unlock at the top).")
        else:
            self.sign_status.setText("Review the trace and the timeline, add a note, then "
                                     "sign off.")
        ready = inc.closed and not inc.reviewed  # never signed off, or amended since
        self.sign_button.setEnabled(bool(ready and can_sign))
        self.sign_note.setEnabled(bool(ready and can_sign))
        self.debrief.setEnabled(bool(ready and can_sign))

    # -- actions --------------------------------------------------------------------------
    def sign_off(self, note: str, debrief: bool) -> None:
        assert self.incident is not None
        self.session.require(Permission.SIGN_OFF)
        self.session.touch()
        self.backend.sign_off(self.incident.id, self.session.user or "supervisor", note,
                              debrief)
        self.changed.emit(self.incident.id)
        self.show_incident(self.incident.id)

    def _sign_clicked(self) -> None:
        self.sign_off(self.sign_note.toPlainText().strip(), self.debrief.isChecked())

    def amend(self, reason: str, changes: dict[str, Any], by: str) -> None:
        assert self.incident is not None
        self.session.require(Permission.AMEND)
        self.session.touch()
        self.backend.amend(self.incident.id, by, reason, changes)
        self.changed.emit(self.incident.id)
        self.show_incident(self.incident.id)
        self.tabs.setCurrentIndex(2)

    def _amend_clicked(self) -> None:
        changes = self._amend_changes()
        reason = self.amend_reason.text().strip()
        by = self.amend_by.text().strip() or self.session.user
        if isinstance(changes, str):  # what the form is missing (never empty)
            self.amend_message.setText(changes)
            return
        problem = ("Say why the record needs correcting." if not reason else
                   "Say who is making the correction (initials or role)." if not by else "")
        if problem:
            self.amend_message.setText(problem)
            return
        try:
            self.amend(reason, changes, by)
        except Exception as exc:  # the store refuses bad input with a clear message
            self.amend_message.setText(f"Not added: {exc}")
            return
        self.amend_reason.clear()
        self.amend_message.setText("Amendment added.")

    def save_pdf(self, path: str | Path) -> None:
        assert self.incident is not None
        write_incident_pdf(self.incident, path)

    def _ask_pdf(self) -> None:
        if self.incident is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save incident as PDF",
                                              f"incident-{self.incident.id}.pdf", "PDF (*.pdf)")
        if path:
            self.save_pdf(path)

    def _print(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        if self.incident is None:
            return
        printer = QPrinter()
        if QPrintDialog(printer, self).exec():
            print_documents(incident_document(self.incident, render_trace_image(self.incident)),
                            printer)

    # -- replay -------------------------------------------------------------------------
    def _toggle_play(self, on: bool) -> None:
        self.play.setText("❚❚ Pause" if on else "▶ Replay")
        if on:
            lo, hi = self.plot.span
            if self.plot.cursor_line.value() >= hi:
                self.plot.set_cursor(lo)
            self.timer.start(REPLAY_TICK_MS)
        else:
            self.timer.stop()

    def replay_step(self, seconds: float) -> None:
        self.plot.set_cursor(float(self.plot.cursor_line.value()) + seconds)
        if self.plot.cursor_line.value() >= self.plot.span[1]:
            self.play.setChecked(False)

    def _replay_step(self) -> None:
        factor = float(self.speed.currentText().rstrip("×"))
        self.replay_step(REPLAY_TICK_MS / 1000.0 * factor)

    def _slider_moved(self, value: int) -> None:
        lo, hi = self.plot.span
        if hi > lo and not self.slider.signalsBlocked():
            self.plot.set_cursor(lo + (hi - lo) * value / 1000.0)

    def _cursor_moved(self, x: float) -> None:
        lo, hi = self.plot.span
        if hi > lo:
            self.slider.blockSignals(True)
            self.slider.setValue(round(1000 * (x - lo) / (hi - lo)))
            self.slider.blockSignals(False)
        spo2, pr = self.plot.value_at(x)
        last = [w for kind, mx, w in self.plot.marker_positions if mx <= x]
        when = rel_words(x) + (" after the first alarm" if x >= 0 else " before the alarm")
        numbers = ("no reading" if math.isnan(spo2) else
                   f"SpO₂ {spo2:.0f} %, pulse {pr:.0f}")
        self.readout.setText(f"{when} · {numbers}" + (f" · last: {last[-1]}" if last else ""))


def action_time(incident: Incident, clock: time) -> float:
    """A time of day typed for a missed action, as the moment it means: on the day within
    the incident (from 5 minutes before it opened to its close) nearest to that time, so
    an incident that ran past midnight takes 00:10 as the next day."""
    start = incident.opened_ts - 300.0
    end = incident.closed_ts if incident.closed_ts is not None else incident.opened_ts + 43200
    day = datetime.fromtimestamp(incident.opened_ts).date()
    moments = [datetime.combine(day + timedelta(days=k), clock).astimezone().timestamp()
               for k in (-1, 0, 1)]
    return min(moments, key=lambda ts: max(start - ts, ts - end, 0.0))


def _table(headings: list[str], stretch: int = 1) -> QTableWidget:
    """A read-only table whose `stretch` column takes the spare width and wraps."""
    table = QTableWidget(0, len(headings))
    table.setHorizontalHeaderLabels(headings)
    table.verticalHeader().hide()
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setWordWrap(True)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table
