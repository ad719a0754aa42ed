"""The response record's rules, without a screen (as `oximon.review` is for review).

While an incident is open, each action is one tap, timestamped by the engine's clock and
written to the incident log (`oximon.ports.IncidentLog`). This model decides what a tap
records (words, details, the mark on the trend), keeps what was entered even when the
log fails, undoes the last tap within UNDO_S as a void amendment (never a delete), runs
the rescue-breathing pacer and the naloxone second-dose timer (GUIDELINE.md: SAVE ME),
and closes the record with its outcome, aftercare and responders, or discards it as
opened in error. The dashboard's response panel (`oximon.ui.response`) is its view.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from oximon.ports import IncidentLog
from oximon.vocabulary import OPENED_IN_ERROR, SIGN_LABELS

log = logging.getLogger(__name__)

BREATH_EVERY_S = 5.0  # Toward the Heart: one breath every 5 seconds
NALOXONE_WAIT_S = 300.0  # SAVE ME: not awake at 5 minutes → another dose
UNDO_S = 10.0  # the last tap can be undone this long (recorded as a void, never deleted)
DEFAULT_RESPONDER = "peer worker"

SAVE_ME = (
    ("S", "Stimulate", "no response: call 9-1-1"),
    ("A", "Airway", "tilt the head, clear the mouth"),
    ("V", "Ventilate", "1 breath every 5 seconds"),
    ("E", "Evaluate", "breathing? responding?"),
    ("M", "Medication", "1 mL naloxone IM, note the time"),
    ("E", "Evaluate & support", "not awake at 5 min: another dose"),
)


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
TOGGLES = (RESCUE, OXYGEN, CPR)

# action word -> (button label, trace mark)
SINGLE = {
    "stimulated": ("Stimulated", "S"),
    "airway": ("Airway", "A"),
    "911_called": ("9-1-1 called", "911"),
    "ehs_arrived": ("EHS arrived", "EHS"),
    "recovery_position": ("Recovery position", "RP"),
}
# The action buttons, two to a row, in the order a response usually goes.
BUTTON_ORDER = ("stimulated", "airway", "naloxone", "911_called", RESCUE.key, OXYGEN.key,
                "recovery_position", "ehs_arrived", CPR.key)

# Naloxone as BC kits carry it: 1 mL ampoules of 0.4 mg/mL given IM (GUIDELINE: "1 mL
# naloxone IM"); nasal spray 4 mg. route -> [(words, details)], the first is the default.
NALOXONE: dict[str, list[tuple[str, dict[str, float]]]] = {
    "IM": [("0.4 mg (1 mL)", {"amount_mg": 0.4, "amount_ml": 1.0}),
           ("0.8 mg (2 mL)", {"amount_mg": 0.8, "amount_ml": 2.0})],
    "IN": [("4 mg spray", {"amount_mg": 4.0})],
}

VOID_REASON = f"undone on the dashboard within {UNDO_S:g} s of the tap"
LATE_REASON = "entered on the dashboard after oximon closed the record"


def close_question(high_alarm_active: bool, spo2: float | None,
                   low: float = 90.0) -> str:
    """'' when closing needs no second thought; otherwise the question to ask first: a
    record closed "responsive, breathing on own" while the booth still has a high alarm
    or reads below the low limit is most likely closed too soon (or on the wrong booth)."""
    reasons = []
    if high_alarm_active:
        reasons.append("this booth still has a high alarm")
    if spo2 is not None and not math.isnan(spo2) and spo2 < low:
        reasons.append(f"SpO2 reads {spo2:.0f} % now (below {low:.0f} %)")
    if not reasons:
        return ""
    return (f"Close this incident although {' and '.join(reasons)}? Check the person "
            "first: breathing, responsiveness.")


def mmss(seconds: float) -> str:
    s = max(0, math.ceil(seconds - 1e-9))
    return f"{s // 60}:{s % 60:02d}"


def action_words(action: str, details: dict[str, object] | None) -> str:
    """How an entry reads in the panel's timeline and its undo button."""
    if action == "sign" and details:
        sign = SIGN_LABELS.get(str(details["sign"]), str(details["sign"]))
        return f"sign: {sign}" + ("" if details.get("present") else " (unticked)")
    if action == "naloxone" and details:
        amount = f"{details['amount_mg']:g} mg " if "amount_mg" in details else ""
        return f"naloxone dose {details['dose']} ({amount}{details.get('route', '')})"
    return action.replace("_", " ").replace("911", "9-1-1")


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


@dataclass(frozen=True)
class SignUndo:
    """Undoing a sign tap puts its box back as it was."""

    sign: str
    was_on: bool  # the tap ticked it (undo unticks it)


# What undoing a tap has to put back: nothing (a single action), the dose count
# ("naloxone"), a toggle and when it had started (None: it was off), or a sign's box.
UndoHow = None | str | tuple[Toggle, float | None] | SignUndo


@dataclass(frozen=True)
class Undone:
    """A voided tap: its entry index and what the view must put back."""

    index: int
    t: float
    action: str
    how: UndoHow


Warn = Callable[[str], None]


class ResponseRecord:
    """One incident's response: the entries a person made and the rules for them.

    Every entry is kept here first (so nothing is lost when the log fails); then it goes
    to the log, and a failure is reported through `warn` (the view shows it)."""

    def __init__(self, incident_log: IncidentLog, incident_id: str, opened_t: float,
                 responders: Responders | None = None, warn: Warn | None = None):
        self.log = incident_log
        self.incident_id = incident_id
        self.opened_t = opened_t
        self.responders = responders or Responders()
        self.warn: Warn = warn or (lambda text: None)
        self.entries: list[tuple[float, str, dict[str, object]]] = []  # kept even if unsaved
        self.entry_by: list[str] = []  # who did each entry
        self.marks: list[str | None] = []  # each entry's mark on the trend
        self.voided: set[int] = set()  # entries undone (still shown, struck through)
        self.toggles: dict[str, float | None] = {tg.key: None for tg in TOGGLES}
        self.naloxone_doses: list[float] = []
        self.closed_by_system_t: float | None = None  # oximon closed the record under us
        self.done = False  # this record was closed (or completed) from here
        self._undo: tuple[int, UndoHow] | None = None

    # -- taps ------------------------------------------------------------------------------
    def tap(self, action: str, t: float, by: str) -> int:
        i = self._record(action, None, SINGLE[action][1], t, by)
        self._undo = (i, None)
        return i

    def tap_toggle(self, toggle: Toggle, t: float, by: str) -> int:
        started = self.toggles[toggle.key]
        if started is None:
            self.toggles[toggle.key] = t
            i = self._record(toggle.on_action, None, toggle.on_mark, t, by)
        else:
            self.toggles[toggle.key] = None
            i = self._record(toggle.off_action, None, toggle.off_mark, t, by)
        self._undo = (i, (toggle, started))
        return i

    def toggle_label(self, toggle: Toggle) -> str:
        """What the toggle's button offers next."""
        return toggle.on_label if self.toggles[toggle.key] is None else toggle.off_label

    def naloxone_label(self) -> str:
        return f"Naloxone dose {len(self.naloxone_doses) + 1}"

    def tap_naloxone(self, route: str, amount: int, t: float, by: str) -> int:
        """A dose by `route` ("IM"/"IN"), `amount` an index into NALOXONE[route]."""
        n = len(self.naloxone_doses) + 1
        self.naloxone_doses.append(t)
        doses = NALOXONE[route]
        details: dict[str, object] = {"dose": n, **doses[max(0, amount)][1], "route": route}
        i = self._record("naloxone", details, f"N{n}", t, by)
        self._undo = (i, "naloxone")
        return i

    def tap_sign(self, sign: str, on: bool, t: float, by: str) -> int:
        i = self._record("sign", {"sign": sign, "present": bool(on)}, None, t, by)
        self._undo = (i, SignUndo(sign, bool(on)))
        return i

    def _record(self, action: str, details: dict[str, object] | None, mark: str | None,
                t: float, by: str) -> int:
        """Keep the entry whatever happens; then write it to the log. Returns its index."""
        by = self.responders.use(by)  # remembered for the shift
        self.entries.append((t, action, dict(details or {})))
        self.entry_by.append(by)
        self.marks.append(mark)
        try:
            self.log.record_action(self.incident_id, action, t, by=by, details=details)
        except Exception as exc:  # a failing store must not lose the tap: say so instead
            log.exception("could not record %s", action)
            self.warn(f"Could not save '{action}' ({exc}); it is kept on screen — "
                      "write it down.")
        return len(self.entries) - 1

    def who(self, index: int) -> str:
        """Who did entry `index`, as the timeline shows it ('' for the default)."""
        by = self.entry_by[index]
        return "" if by == DEFAULT_RESPONDER else by

    def responders_seen(self) -> list[str]:
        """Everyone who recorded something here (undone entries included: they acted)."""
        return list(dict.fromkeys(self.entry_by))

    # -- undo ------------------------------------------------------------------------------
    def undo_seconds_left(self, now: float) -> float:
        if self._undo is None:
            return 0.0
        return max(0.0, self.entries[self._undo[0]][0] + UNDO_S - now)

    def undoable(self, now: float) -> tuple[str, float] | None:
        """(the words of the tap that can still be undone, seconds left), or None."""
        left = self.undo_seconds_left(now)
        if self._undo is None or left <= 0:
            self._undo = None
            return None
        _t, action, details = self.entries[self._undo[0]]
        return action_words(action, details), left

    def undo(self, now: float, by: str) -> Undone | None:
        """Void the last tap (within UNDO_S): the record gets a void amendment — the entry
        stays, struck out — and the state goes back to how it was before the tap."""
        if self._undo is None or self.undo_seconds_left(now) <= 0:
            return None
        index, how = self._undo
        self._undo = None
        t, action, _details = self.entries[index]
        self.voided.add(index)
        if how == "naloxone" and self.naloxone_doses and self.naloxone_doses[-1] == t:
            self.naloxone_doses.pop()
        elif isinstance(how, tuple):
            toggle, before = how
            self.toggles[toggle.key] = before
        try:
            self.log.void_action(self.incident_id, action, t, by=by, reason=VOID_REASON)
        except Exception as exc:
            log.exception("could not void %s", action)
            self.warn(f"Could not save the undo of '{action}' ({exc}); note it down.")
        return Undone(index, t, action, how)

    # -- closing ---------------------------------------------------------------------------
    def kept(self) -> int:
        """Entries that stand (not undone)."""
        return len(self.entries) - len(self.voided)

    def discard_question(self) -> str:
        text = ("Close this record as opened by mistake? It stays in the log but is not "
                "counted in reports.")
        if self.kept():
            text += f" The {self.kept()} action(s) recorded stay in it."
        return text

    def running_toggles(self) -> list[Toggle]:
        """Toggles still on (their stop is recorded at the close)."""
        return [tg for tg in TOGGLES if self.toggles[tg.key] is not None]

    def close(self, now: float, outcomes: list[str], aftercare: list[str], note: str,
              by: str) -> bool:
        """Close with the chosen outcomes (all that apply); False (and a warning) if the
        log refused. Running toggles must be stopped first (see `running_toggles`)."""
        return bool(outcomes) and self._finish(now, ",".join(outcomes), aftercare, note, by)

    def discard(self, now: float, note: str, by: str) -> bool:
        """An incident opened by mistake: closed as 'opened in error' (kept, not counted)."""
        return self._finish(now, OPENED_IN_ERROR, [], note or "opened by mistake", by)

    def _finish(self, now: float, outcome: str, aftercare: list[str], note: str,
                by: str) -> bool:
        self.done = True
        try:
            self._save_close(now, outcome, aftercare, note, by)
        except Exception as exc:
            self.done = False
            log.exception("could not close incident %s", self.incident_id)
            self.warn(f"Could not close the record ({exc}); try again.")
            return False
        self._save_people(by)
        return True

    def _save_people(self, by: str) -> None:
        """Who responded and who completed the record."""
        try:
            self.log.record_details(self.incident_id, by,
                                    responders=self.responders_seen() or [by],
                                    completed_by=by)
        except Exception as exc:  # the outcome is saved; say what is missing
            log.exception("could not record responders")
            self.warn(f"Closed, but who responded was not saved ({exc}).")

    def _save_close(self, now: float, outcome: str, aftercare: list[str], note: str,
                    by: str) -> None:
        """Close the record; one oximon already closed is completed (the store keeps the
        first close time) or, if the store refuses that, amended — never lost."""
        try:
            self.log.close_incident(self.incident_id, now, outcome, aftercare, by=by,
                                    note=note)
        except Exception:
            if self.closed_by_system_t is None:
                raise
            changes: dict[str, object] = {"outcome": outcome.split(","),
                                          "aftercare": aftercare}
            if note:
                changes["note"] = note
            self.log.amend(self.incident_id, changes, LATE_REASON, by or DEFAULT_RESPONDER)

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
