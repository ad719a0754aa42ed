"""The response panel: while an incident is open, each action is one tap, timestamped by
the engine's clock, written to the incident log and marked on the station's trend.

It also runs the timers a responder needs — the rescue-breathing pacer (one breath every
5 s) and the 5-minute countdown from each naloxone dose to the second-dose prompt — and
keeps the SAVE ME steps on screen (GUIDELINE.md). Timers read the engine's clock, so tests
move a ManualClock instead of sleeping.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
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
from oximon.ui.model import DashboardModel

log = logging.getLogger(__name__)

BREATH_EVERY_S = 5.0  # Toward the Heart: one breath every 5 seconds
NALOXONE_WAIT_S = 300.0  # SAVE ME: not awake at 5 minutes → another dose

SAVE_ME = (
    ("S", "Stimulate", "no response: call 9-1-1"),
    ("A", "Airway", "tilt the head, clear the mouth"),
    ("V", "Ventilate", "1 breath every 5 seconds"),
    ("E", "Evaluate", "breathing? responding?"),
    ("M", "Medication", "1 mL naloxone IM, note the time"),
    ("E", "Evaluate & support", "not awake at 5 min: another dose"),
)

# The incident log's stable words (oximon/store/record.py) → what the button says.
SIGNS = {
    "unresponsive": "unresponsive", "slow_breathing": "slow breathing",
    "no_breathing": "no breathing", "snoring_gurgling": "snoring or gurgling",
    "blue_lips_nails": "blue or grey lips or nails", "cold_clammy_skin": "cold or clammy skin",
    "tiny_pupils": "tiny pupils", "stiff_body": "stiff body",
}
OUTCOMES = {"responsive": "responsive", "breathing_on_own": "breathing on own",
            "transported": "transported", "left_site": "left the site", "died": "died"}
OPENED_IN_ERROR = "opened_in_error"  # discarded: not an overdose response, never counted
AFTERCARE = {"advised_no_use_2h": "advised not to use for 2 hours",
             "observed_resedation": "observed for re-sedation"}


@dataclass(frozen=True)
class Toggle:
    """An action that has an 'on' and an 'off' word (rescue breaths, oxygen, CPR)."""

    key: str
    on_label: str
    off_label: str
    on_action: str
    off_action: str
    on_mark: str
    off_mark: str


RESCUE = Toggle("rescue", "Rescue breaths: start", "Rescue breaths: stop",
                "rescue_breaths_started", "rescue_breaths_stopped", "RB▶", "RB■")
OXYGEN = Toggle("oxygen", "Oxygen on", "Oxygen off", "oxygen_on", "oxygen_off", "O₂+", "O₂−")
CPR = Toggle("cpr", "CPR: start", "CPR: stop", "cpr_started", "cpr_stopped", "CPR▶", "CPR■")

# action word -> (button label, trace mark)
SINGLE = {
    "stimulated": ("Stimulated", "S"),
    "airway": ("Airway", "A"),
    "911_called": ("9-1-1 called", "911"),
    "ehs_arrived": ("EHS arrived", "EHS"),
    "recovery_position": ("Recovery position", "RP"),
}


# Naloxone as BC kits carry it: 1 mL ampoules of 0.4 mg/mL given IM (GUIDELINE: "1 mL
# naloxone IM"); nasal spray 4 mg. route -> [(words, details)], the first is the default.
NALOXONE = {
    "IM": [("0.4 mg (1 mL)", {"amount_mg": 0.4, "amount_ml": 1.0}),
           ("0.8 mg (2 mL)", {"amount_mg": 0.8, "amount_ml": 2.0})],
    "IN": [("4 mg spray", {"amount_mg": 4.0})],
}
UNDO_S = 10.0  # the last tap can be undone this long (recorded as a void, never deleted)
DEFAULT_RESPONDER = "peer worker"


class Responders:
    """Who responds this shift (initials or aliases, no real names): remembered while the
    dashboard runs, shared by every panel, the last one chosen is the next default."""

    def __init__(self, default: str = DEFAULT_RESPONDER):
        self.names: list[str] = [default or DEFAULT_RESPONDER]
        self.last = self.names[0]

    def use(self, name: str) -> str:
        name = " ".join(name.split())[:40]
        if not name:
            return self.last
        if name not in self.names:
            self.names.append(name)
        self.last = name
        return name


def ask_yes_no(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def mmss(seconds: float) -> str:
    s = max(0, math.ceil(seconds - 1e-9))
    return f"{s // 60}:{s % 60:02d}"


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
        self.log = incident_log
        self.saving = saving
        self.responders = responders or Responders(by)
        self.confirm = confirm or ask_yes_no
        self.opened_t = model.now()
        self.entries: list[tuple[float, str, dict[str, object]]] = []  # kept even if unsaved
        self.entry_by: list[str] = []  # who did each entry
        self.voided: set[int] = set()  # entries undone (still shown, struck through)
        self.toggles: dict[str, float | None] = {RESCUE.key: None, OXYGEN.key: None,
                                                 CPR.key: None}
        self.naloxone_doses: list[float] = []
        self.buttons: dict[str, QPushButton] = {}
        self.closed_by_system_t: float | None = None  # oximon closed the record under us
        self.done = False  # this panel closed (or completed) its record
        self._undo: tuple[int, object] | None = None  # (entry index, how to put it back)
        self.scale = 1.0  # the dashboard sets it from the window and text size

        title = QLabel(f"Response — {model.label(station)}")
        title.setObjectName("h1")
        self.elapsed = QLabel("")
        self.elapsed.setObjectName("dim")
        head = QHBoxLayout()
        head.addWidget(title, 1)
        head.addWidget(self.elapsed)
        who = QHBoxLayout()
        who_label = QLabel("Responding:")
        self.responder = QComboBox()
        self.responder.setEditable(True)
        self.responder.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.responder.lineEdit().setPlaceholderText("initials or alias — no full names")
        self.responder.setToolTip("Who is acting now: each tap is recorded with this name. "
                                  "Initials or an alias, never a full name.")
        self._fill_responders()
        self.responder.setCurrentText(self.responders.last)
        self.responder.currentTextChanged.connect(self._responder_chosen)
        who.addWidget(who_label)
        who.addWidget(self.responder, 1)
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

        grid = QGridLayout()
        grid.setSpacing(6)
        for action, (label, _) in SINGLE.items():
            b = self._button(label)
            b.clicked.connect(lambda _=False, a=action: self.tap(a))
            self.buttons[action] = b
        for toggle in (RESCUE, OXYGEN, CPR):
            b = self._button(toggle.on_label)
            b.clicked.connect(lambda _=False, tg=toggle: self.tap_toggle(tg))
            self.buttons[toggle.key] = b
        b = self._button("Naloxone dose 1")
        b.clicked.connect(self.tap_naloxone)
        self.buttons["naloxone"] = b
        order = ["stimulated", "airway", "naloxone", "911_called", RESCUE.key, OXYGEN.key,
                 "recovery_position", "ehs_arrived", CPR.key]
        for i, key in enumerate(order):
            grid.addWidget(self.buttons[key], i // 2, i % 2)
        self.undo_button = self._button("")
        self.undo_button.setObjectName("undo")
        self.undo_button.clicked.connect(self.undo_last)
        self.undo_button.hide()
        grid.addWidget(self.undo_button, 4, 1)
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

        # Below the fold (scrolls): signs, outcome, aftercare, note, close, the timeline.
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
        low.addLayout(outcomes)
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
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(lower)
        scroll.setMinimumHeight(90)
        # It takes what is left: its content's full height must not become the panel's.
        scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)

        # Everything sits in one outer scroll area that scrolls only if even the fitted
        # text cannot fit (a panel must never push the window past the screen).
        content = QWidget()
        outer = QScrollArea()
        outer.setWidgetResizable(True)
        outer.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.setFrameShape(QFrame.Shape.NoFrame)
        outer.setWidget(content)
        self.outer = outer
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(outer)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(head)
        layout.addLayout(who)
        layout.addWidget(self.warning)
        layout.addWidget(self.pacer)
        layout.addWidget(self.naloxone)
        layout.addLayout(grid)
        layout.addLayout(dose_row)
        layout.addWidget(saveme)
        layout.addWidget(scroll, 1)
        self._pacer_text = ""
        self.refresh(self.opened_t)

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
        return list(dict.fromkeys(self.entry_by))

    # -- taps ------------------------------------------------------------------------------
    def tap(self, action: str) -> None:
        i = self._record(action, None, SINGLE[action][1])
        self._undoable(i, None)

    def tap_toggle(self, toggle: Toggle) -> None:
        now = self.model.now()
        started = self.toggles[toggle.key]
        if started is None:
            self.toggles[toggle.key] = now
            i = self._record(toggle.on_action, None, toggle.on_mark, now)
            self.buttons[toggle.key].setText(toggle.off_label)
        else:
            self.toggles[toggle.key] = None
            i = self._record(toggle.off_action, None, toggle.off_mark, now)
            self.buttons[toggle.key].setText(toggle.on_label)
        self._undoable(i, (toggle, started))
        self.refresh(now)

    def tap_naloxone(self) -> None:
        now = self.model.now()
        n = len(self.naloxone_doses) + 1
        self.naloxone_doses.append(now)
        route = self.route.currentText()
        amount = dict(NALOXONE[route][max(0, self.amount.currentIndex())][1])
        details: dict[str, object] = {"dose": n, **amount, "route": route}
        i = self._record("naloxone", details, f"N{n}", now)
        self.buttons["naloxone"].setText(f"Naloxone dose {n + 1}")
        self._undoable(i, "naloxone")
        self.refresh(now)

    def _tap_sign(self, sign: str, on: bool) -> None:
        i = self._record("sign", {"sign": sign, "present": bool(on)}, None)
        self._undoable(i, ("sign", sign, on))

    def _fill_amounts(self, route: str) -> None:
        self.amount.clear()
        self.amount.addItems([words for words, _ in NALOXONE.get(route, [])])

    def _record(self, action: str, details: dict[str, object] | None, mark: str | None,
                t: float | None = None) -> int:
        """Keep the action on screen whatever happens; then write it to the log. Returns
        the entry's index."""
        t = self.model.now() if t is None else t
        by = self.responders.use(self.by)  # remembered for the shift
        self.entries.append((t, action, dict(details or {})))
        self.entry_by.append(by)
        who = "" if by == DEFAULT_RESPONDER else f"  [{by}]"
        self.timeline.insertItem(0, f"{self._stamp(t)}   {self._words(action, details)}{who}")
        if mark:
            self.model.add_marker(self.station, t, mark)
        try:
            self.log.record_action(self.incident_id, action, t, by=by, details=details)
        except Exception as exc:  # a failing store must not lose the tap: say so instead
            log.exception("could not record %s", action)
            self.warning.setText(f"Could not save '{action}' ({exc}); it is kept on screen — "
                                 "write it down.")
            self.warning.show()
        return len(self.entries) - 1

    def _stamp(self, t: float) -> str:
        wall = self.model.clock.wall() + timedelta(seconds=t - self.model.now())
        return f"{wall.astimezone().strftime('%H:%M:%S')} (+{mmss(t - self.opened_t)})"

    @staticmethod
    def _words(action: str, details: dict[str, object] | None) -> str:
        if action == "sign" and details:
            sign = SIGNS.get(str(details["sign"]), str(details["sign"]))
            return f"sign: {sign}" + ("" if details.get("present") else " (unticked)")
        if action == "naloxone" and details:
            amount = f"{details['amount_mg']:g} mg " if "amount_mg" in details else ""
            return f"naloxone dose {details['dose']} ({amount}{details.get('route', '')})"
        return action.replace("_", " ").replace("911", "9-1-1")

    # -- undo ------------------------------------------------------------------------------
    def _undoable(self, index: int, how: object) -> None:
        self._undo = (index, how)
        self._refresh_undo(self.entries[index][0])

    def undo_seconds_left(self, now: float) -> float:
        if self._undo is None:
            return 0.0
        return max(0.0, self.entries[self._undo[0]][0] + UNDO_S - now)

    def _refresh_undo(self, now: float) -> None:
        left = self.undo_seconds_left(now)
        if left <= 0:
            self._undo = None
            if self.undo_button.isVisible():
                self.undo_button.hide()
            return
        _t, action, details = self.entries[self._undo[0]]
        text = f"↶ Undo {self._words(action, details)} ({math.ceil(left - 1e-9)} s)"
        if self.undo_button.text() != text:
            self.undo_button.setText(text)
        if self.undo_button.isHidden():
            self.undo_button.show()

    def undo_last(self) -> bool:
        """Void the last tap (within UNDO_S): the record gets a void amendment — the entry
        stays, struck out — and the screen goes back to how it was before the tap."""
        now = self.model.now()
        if self._undo is None or self.undo_seconds_left(now) <= 0:
            return False
        index, how = self._undo
        self._undo = None
        t, action, _details = self.entries[index]
        self.voided.add(index)
        row = self.timeline.item(len(self.entries) - 1 - index)
        if row is not None:
            row.setText(row.text() + "  — undone")
            font = row.font()
            font.setStrikeOut(True)
            row.setFont(font)
        view = self.model.views.get(self.station)
        if view is not None:  # the mark on the trend goes (the record keeps the entry)
            for m in reversed(view.markers):
                if m.t == t:
                    view.markers.remove(m)
                    view.markers_version += 1
                    break
        if how == "naloxone" and self.naloxone_doses and self.naloxone_doses[-1] == t:
            self.naloxone_doses.pop()
            self.buttons["naloxone"].setText(f"Naloxone dose {len(self.naloxone_doses) + 1}")
        elif isinstance(how, tuple) and how and how[0] == "sign":
            box = self.signs[str(how[1])]
            box.blockSignals(True)
            box.setChecked(not how[2])
            box.blockSignals(False)
        elif isinstance(how, tuple) and how and isinstance(how[0], Toggle):
            toggle, before = how
            self.toggles[toggle.key] = before
            self.buttons[toggle.key].setText(toggle.on_label if before is None
                                             else toggle.off_label)
        try:
            self._void(action, t)
        except Exception as exc:
            log.exception("could not void %s", action)
            self.warning.setText(f"Could not save the undo of '{action}' ({exc}); note it "
                                 "down.")
            self.warning.show()
        self.undo_button.hide()
        self.refresh(now)
        return True

    def _void(self, action: str, t: float) -> None:
        reason = f"undone on the dashboard within {UNDO_S:g} s of the tap"
        void = getattr(self.log, "void_action", None)
        if void is not None:  # the in-memory log
            void(self.incident_id, action, t, by=self.by, reason=reason)
            return
        get, amend = getattr(self.log, "get_incident", None), getattr(self.log, "amend", None)
        if get is None or amend is None:
            raise RuntimeError("this incident log cannot void an entry")
        flush = getattr(self.log, "flush", None)
        if flush is not None:
            flush()
        record = get(self.incident_id, with_trace=False)
        seqs = [a["seq"] for a in record.actions
                if a["action"] == action and a.get("t") == t and not a.get("void")]
        if not seqs:
            raise RuntimeError(f"'{action}' was not found in the record")
        amend(self.incident_id, {"void_action": seqs[-1]}, reason, self.by)

    # -- closing ---------------------------------------------------------------------------
    def has_entries(self) -> bool:
        """Anything a person put in this panel (taps, outcome, aftercare, a note)."""
        return bool(self.entries or self.selected_outcome() or self.note.toPlainText().strip()
                    or any(box.isChecked() for box in self.aftercare.values()))

    def system_closed(self, t: float) -> None:
        """oximon closed the record by itself (quiet for 10 min) while this panel still
        holds a person's entries: the panel stays, and what is entered now completes the
        record (late actions, then the outcome as the person's completion)."""
        self.closed_by_system_t = t
        self.warning.setText(f"oximon closed this record at {self._stamp(t).split()[0]} "
                             "(no alarm and nothing recorded for 10 min). Finish it here: "
                             "what you enter is added to it.")
        self.warning.show()
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
        outcome = self.selected_outcome()
        if not outcome:
            return
        self._finish(outcome, [k for k, box in self.aftercare.items() if box.isChecked()],
                     self.note.toPlainText().strip())

    def discard(self) -> bool:
        """An incident opened by mistake: closed as 'opened in error' (kept, not counted)."""
        kept = len(self.entries) - len(self.voided)
        text = ("Close this record as opened by mistake? It stays in the log but is not "
                "counted in reports.")
        if kept:
            text += f" The {kept} action(s) recorded stay in it."
        if not self.confirm(self, "Opened by mistake?", text):
            return False
        note = self.note.toPlainText().strip()
        return self._finish(OPENED_IN_ERROR, [], note or "opened by mistake")

    def _finish(self, outcome: str, aftercare: list[str], note: str) -> bool:
        now = self.model.now()
        for toggle in (RESCUE, OXYGEN, CPR):  # still running at close: record the stop
            if self.toggles[toggle.key] is not None:
                self.tap_toggle(toggle)
        self.done = True
        try:
            self._save_close(now, outcome, aftercare, note)
        except Exception as exc:
            self.done = False
            log.exception("could not close incident %s", self.incident_id)
            self.warning.setText(f"Could not close the record ({exc}); try again.")
            self.warning.show()
            return False
        self._save_people()
        self.closed.emit(self.station, self.incident_id)
        return True

    def _save_people(self) -> None:
        """Who responded and who completed the record, where the log keeps such details."""
        details = getattr(self.log, "record_details", None)
        if details is None:
            return
        try:
            details(self.incident_id, self.by, responders=self.responders_seen() or [self.by],
                    completed_by=self.by)
        except Exception as exc:  # the outcome is saved; say what is missing
            log.exception("could not record responders")
            self.warning.setText(f"Closed, but who responded was not saved ({exc}).")
            self.warning.show()

    def _save_close(self, now: float, outcome: str, aftercare: list[str], note: str) -> None:
        """Close the record; one oximon already closed is completed (the store keeps the
        first close time) or, if the store refuses that, amended — never lost."""
        try:
            self.log.close_incident(self.incident_id, now, outcome, aftercare, by=self.by,
                                    note=note)
        except Exception:
            amend = getattr(self.log, "amend", None)
            if self.closed_by_system_t is None or amend is None:
                raise
            changes: dict[str, object] = {"outcome": outcome.split(","),
                                          "aftercare": aftercare}
            if note:
                changes["note"] = note
            amend(self.incident_id, changes, "entered on the dashboard after oximon closed "
                  "the record", self.by or "peer worker")

    # -- timers ----------------------------------------------------------------------------
    def pacer_text(self, now: float) -> str:
        start = self.toggles[RESCUE.key]
        if start is None:
            return ""
        into = (now - start) % BREATH_EVERY_S
        if into < 1.0:
            return "● BREATHE NOW ●"
        return f"next breath in {math.ceil(BREATH_EVERY_S - into - 1e-9)} s"

    def naloxone_text(self, now: float) -> tuple[str, bool]:
        """(words, prompt): prompt is True once 5 minutes passed since the last dose."""
        if not self.naloxone_doses:
            return "", False
        n = len(self.naloxone_doses)
        left = self.naloxone_doses[-1] + NALOXONE_WAIT_S - now
        if left > 0:
            return (f"Naloxone dose {n} given {mmss(now - self.naloxone_doses[-1])} ago — "
                    f"second-dose check in {mmss(left)}"), False
        return (f"5 minutes since naloxone dose {n}: not awake? Give dose {n + 1} and keep "
                "breathing for them."), True

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
