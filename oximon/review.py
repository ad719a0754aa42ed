"""What a supervisor reviews: an incident as plain data, its figures, and browser filters.

The store keeps incidents as hash-chained events; review needs them folded into one
record (alarms paired raised → acknowledged → cleared, actions in time order, amendments,
sign-off) with the figures a debrief asks for. Keeping this a pure module (no Qt, no
SQL) lets the browser, the incident PDF and the monthly report share one definition of
every figure, and lets tests check the numbers directly.

Times are UTC epoch seconds (as the store keeps them); durations are seconds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from oximon import time_below as below
from oximon.vocabulary import (  # the record's words, defined once
    ACTION_LABELS,
    NOT_RECORDED,
    RESPONSE_ACTIONS,
)

AMENDABLE_TEXT = ("note", "substance", "route", "responders", "completed_by")


def words(value: str) -> str:
    """A stored word as people read it: "breathing_on_own" -> "breathing on own"."""
    return value.replace("_", " ")


@dataclass(frozen=True)
class Action:
    ts: float
    kind: str
    by: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    seq: int | None = None  # the store's record number (an amendment may void it by this)
    void: bool = False  # struck out by an amendment (still shown, never counted)
    amended: bool = False  # added by an amendment

    @property
    def words(self) -> str:
        base = ACTION_LABELS.get(self.kind, self.kind.replace("_", " ").capitalize())
        if self.kind == "naloxone" and self.details.get("n"):
            base = f"Naloxone dose {self.details['n']}"
        extra = ", ".join(words(str(v)) for k, v in self.details.items() if k in
                          ("dose", "route", "sign", "text") and v not in (None, ""))
        out = f"{base} ({extra})" if extra else base
        if self.amended:
            out += " [added by amendment]"
        if self.void:
            out += " [voided by amendment]"
        return out


@dataclass(frozen=True)
class AlarmSpan:
    """One alarm of the incident: raised, maybe acknowledged, maybe cleared."""

    condition: str
    priority: str
    raised_ts: float
    acknowledged_ts: float | None = None
    cleared_ts: float | None = None
    acknowledged_by: str = ""
    message: str = ""


@dataclass(frozen=True)
class Amendment:
    """A correction: why (`reason`) and what it changes (`changes`, field -> new value)."""

    ts: float
    by: str
    reason: str
    changes: dict[str, Any] = field(default_factory=dict)
    was: dict[str, Any] = field(default_factory=dict)  # what each field said before
    after_sign_off: bool = False  # made after the incident was signed off

    @property
    def what(self) -> str:
        """Each change as "field: old → new", so the original stays readable."""
        out = []
        for key, value in self.changes.items():
            if key == "add_action" and isinstance(value, dict):
                out.append(f"added {words(str(value.get('action')))} at "
                           f"{local_time(float(value.get('ts', 0)), '%Y-%m-%d %H:%M:%S')}")
            elif key == "void_action":
                old = self.was.get(key)
                what = (f" ({words(str(old.get('action')))} at "
                        f"{local_time(float(old['ts']), '%H:%M:%S')})"
                        if isinstance(old, dict) and old.get("ts") is not None else "")
                out.append(f"struck out record #{value}{what}")
            else:
                before = f"{_value_words(key, self.was[key])} → " if key in self.was else ""
                out.append(f"{words(key)}: {before}{_value_words(key, value)}")
        return "; ".join(out)

    @property
    def text(self) -> str:
        return f"{self.what} — {self.reason}" if self.what else self.reason


def _value_words(key: str, value: Any) -> str:
    if value is None or value == "" or value == [] or value == ():
        return "(none)"
    if isinstance(value, list | tuple):
        return ", ".join(words(str(v)) for v in value)
    if key.endswith("_ts") and isinstance(value, int | float):
        return local_time(float(value), "%H:%M:%S")
    return words(str(value)) if key in ("outcome", "aftercare") else str(value)


@dataclass(frozen=True)
class SignOff:
    ts: float
    by: str
    note: str = ""
    debrief: bool = False


@dataclass(frozen=True)
class Trace:
    """SpO2/PR of the incident at about 1 Hz; NaN where no reading came (a gap)."""

    ts: tuple[float, ...] = ()
    spo2: tuple[float, ...] = ()
    pr: tuple[float, ...] = ()


@dataclass(frozen=True)
class Incident:
    id: str
    station: str
    opened_ts: float
    alias: str = ""
    reason: str = ""
    status: str = "open"  # open | closed
    closed_ts: float | None = None
    outcome: tuple[str, ...] = ()  # words of OUTCOMES
    aftercare: tuple[str, ...] = ()
    note: str = ""
    signs: tuple[str, ...] = ()
    substance: str = ""
    route: str = ""
    responders: tuple[str, ...] = ()
    completed_by: str = ""
    interrupted: bool = False
    gaps: tuple[tuple[float | None, float | None, str], ...] = ()  # monitoring gaps
    called_911_ts: float | None = None  # an amendment may correct it
    ehs_arrived_ts: float | None = None  # likewise
    opened_by: str = ""  # who opened it (a worker's initials, or oximon on a high alarm)
    debrief_offered: bool = False
    debrief_held: bool = False
    # Figures the store sealed when the incident closed (None: work them out from the trace)
    stored_nadir: float | None = None
    stored_nadir_ts: float | None = None
    stored_below90_s: float | None = None
    stored_below85_s: float | None = None
    actions: tuple[Action, ...] = ()
    alarms: tuple[AlarmSpan, ...] = ()
    amendments: tuple[Amendment, ...] = ()
    sign_off: SignOff | None = None  # the latest
    trace: Trace = Trace()
    sign_offs: tuple[SignOff, ...] = ()  # every one, oldest first
    amended_after_sign_off: bool = False  # corrected since the latest sign-off

    @property
    def label(self) -> str:
        return self.alias or self.station

    @property
    def closed(self) -> bool:
        return self.closed_ts is not None

    @property
    def reviewed(self) -> bool:
        """Signed off, and not amended since (a correction needs a new review)."""
        return self.sign_off is not None and not self.amended_after_sign_off

    @property
    def review_words(self) -> str:
        if self.amended_after_sign_off:
            return "amended after sign-off — needs review again"
        return "signed off" if self.sign_off is not None else "not yet reviewed"

    @property
    def naloxone_ts(self) -> list[float]:
        return sorted(a.ts for a in self.actions if a.kind == "naloxone" and not a.void)

    @property
    def called_911(self) -> bool:
        return self.called_911_ts is not None or any(
            a.kind == "911_called" and not a.void for a in self.actions)

    @property
    def transported(self) -> bool:
        return "transported" in self.outcome

    @property
    def outcome_words(self) -> str:
        return ", ".join(words(o) for o in self.outcome)

    def searchable_text(self) -> str:
        """Everything a supervisor might search for: notes, amendments, sign-off, outcome."""
        parts = [self.id, self.station, self.alias, self.outcome_words, self.note, self.reason,
                 self.substance, self.route, *self.signs, *self.aftercare,
                 *(a.text for a in self.amendments)]
        parts += [str(a.details.get("text", "")) for a in self.actions]
        parts += [str(a.details.get("sign", "")) for a in self.actions]
        if self.sign_off:
            parts.append(self.sign_off.note)
        return "\n".join(p for p in parts if p).lower()


# -- figures ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Figures:
    nadir: float | None
    nadir_ts: float | None
    below90_s: float
    below85_s: float
    first_alarm_ts: float | None
    alarm_to_ack_s: float | None
    alarm_to_first_action_s: float | None
    alarm_to_naloxone_s: float | None
    naloxone_doses: int
    naloxone_intervals_s: tuple[float, ...]
    duration_s: float | None


def time_below(trace: Trace, threshold: float) -> float:
    """Seconds of valid readings below `threshold` (`oximon.time_below`'s definition: a
    gap, probe off or lost device, never counts as time below)."""
    return below.time_below(trace.ts, trace.spo2, threshold)


def nadir(trace: Trace) -> tuple[float | None, float | None]:
    best: tuple[float | None, float | None] = (None, None)
    for t, v in zip(trace.ts, trace.spo2, strict=True):
        if not math.isnan(v) and (best[0] is None or v < best[0]):
            best = (v, t)
    return best


def first_alarm(incident: Incident) -> AlarmSpan | None:
    """The alarm a response is timed from: the first high alarm, else the first alarm."""
    alarms = sorted(incident.alarms, key=lambda a: a.raised_ts)
    high = [a for a in alarms if a.priority == "high"]
    chosen = high or alarms
    return chosen[0] if chosen else None


def figures(incident: Incident) -> Figures:
    """The figures of one incident. Nadir and time below use what the store sealed at the
    close when it has them (so review and `oximon incidents export` agree), otherwise the
    trace."""
    low, low_ts = nadir(incident.trace)
    below90 = time_below(incident.trace, below.LOW)
    below85 = time_below(incident.trace, below.SEVERE)
    if incident.stored_nadir is not None:
        low, low_ts = incident.stored_nadir, incident.stored_nadir_ts
    if incident.stored_below90_s is not None:
        below90 = incident.stored_below90_s
    if incident.stored_below85_s is not None:
        below85 = incident.stored_below85_s
    alarm = first_alarm(incident)
    t0 = alarm.raised_ts if alarm else None
    responses = sorted(a.ts for a in incident.actions
                       if a.kind in RESPONSE_ACTIONS and not a.void)
    if t0 is not None:
        responses = [t for t in responses if t >= t0]
    doses = incident.naloxone_ts
    ack = alarm.acknowledged_ts if alarm else None
    return Figures(
        nadir=low,
        nadir_ts=low_ts,
        below90_s=below90,
        below85_s=below85,
        first_alarm_ts=t0,
        alarm_to_ack_s=None if t0 is None or ack is None else ack - t0,
        alarm_to_first_action_s=None if t0 is None or not responses else responses[0] - t0,
        alarm_to_naloxone_s=None if t0 is None or not doses else doses[0] - t0,
        naloxone_doses=len(doses),
        naloxone_intervals_s=tuple(b - a for a, b in itertools.pairwise(doses)),
        duration_s=None if incident.closed_ts is None else incident.closed_ts - incident.opened_ts,
    )


@dataclass(frozen=True)
class TimelineEntry:
    ts: float
    kind: str  # alarm | acknowledged | cleared | action | opened | closed | amendment | sign_off
    words: str
    by: str = ""


def timeline(incident: Incident) -> list[TimelineEntry]:
    """Everything that happened, in time order (ties keep the order of the record)."""
    how = ("" if not incident.reason else " by hand" if incident.reason == "manual"
           else f" by a high alarm ({words(incident.reason)})")
    out = [TimelineEntry(incident.opened_ts, "opened", f"Incident opened{how}")]
    for a in incident.alarms:
        what = a.message or a.condition.replace("_", " ")
        out.append(TimelineEntry(a.raised_ts, "alarm", f"{a.priority.capitalize()} alarm: {what}"))
        if a.acknowledged_ts is not None:
            out.append(TimelineEntry(a.acknowledged_ts, "acknowledged",
                                     f"Acknowledged: {what}", a.acknowledged_by))
        if a.cleared_ts is not None:
            out.append(TimelineEntry(a.cleared_ts, "cleared", f"Cleared: {what}"))
    out += [TimelineEntry(a.ts, "action", a.words, a.by) for a in incident.actions]
    for start, end, why in incident.gaps:
        if start is not None:
            out.append(TimelineEntry(start, "gap", f"Monitoring gap began ({why})"))
        if end is not None:
            out.append(TimelineEntry(end, "gap", "Monitoring resumed"))
    if incident.closed_ts is not None:
        # As recorded at the close: amendments that changed it follow in the timeline.
        outcome = _as_first_recorded(incident, "outcome", incident.outcome)
        aftercare = _as_first_recorded(incident, "aftercare", incident.aftercare)
        text = ("Closed — outcome: " + (", ".join(words(o) for o in outcome)
                                         or "not recorded"))
        if aftercare:
            text += "; aftercare: " + ", ".join(words(a) for a in aftercare)
        if outcome != tuple(incident.outcome) or aftercare != tuple(incident.aftercare):
            text += " (as first recorded; amended below)"
        out.append(TimelineEntry(incident.closed_ts, "closed", text))
    out += [TimelineEntry(m.ts, "amendment", "Amendment" + (" after sign-off" if
                          m.after_sign_off else "") + f": {m.text}", m.by)
            for m in incident.amendments]
    for s in incident.sign_offs or ((incident.sign_off,) if incident.sign_off else ()):
        out.append(TimelineEntry(s.ts, "sign_off", "Signed off" + (" — debrief held" if
                                 s.debrief else "") + (f": {s.note}" if s.note else ""), s.by))
    return sorted(out, key=lambda e: e.ts)


def _as_first_recorded(incident: Incident, key: str, now: tuple[str, ...]) -> tuple[str, ...]:
    """A field's value before the first amendment that changed it."""
    for m in incident.amendments:
        if key in m.was:
            return tuple(m.was[key] or ())
    return tuple(now)


# -- the browser's filters ------------------------------------------------------------------
@dataclass(frozen=True)
class IncidentFilter:
    """What the browser shows. `None` means "any" for each yes/no choice."""

    since_ts: float | None = None  # inclusive
    until_ts: float | None = None  # exclusive
    station: str | None = None
    outcome: str | None = None  # a word of OUTCOMES, matched within the outcome text
    naloxone: bool | None = None
    called_911: bool | None = None
    reviewed: bool | None = None
    search: str = ""
    limit: int | None = None  # a page of the newest matches (the browser pages)
    offset: int = 0

    def matches(self, incident: Incident) -> bool:
        if self.since_ts is not None and incident.opened_ts < self.since_ts:
            return False
        if self.until_ts is not None and incident.opened_ts >= self.until_ts:
            return False
        if self.station and incident.station != self.station:
            return False
        if self.outcome == NOT_RECORDED:
            if incident.outcome and NOT_RECORDED not in incident.outcome:
                return False
        elif self.outcome and self.outcome not in incident.outcome:
            return False
        if self.naloxone is not None and bool(incident.naloxone_ts) != self.naloxone:
            return False
        if self.called_911 is not None and incident.called_911 != self.called_911:
            return False
        if self.reviewed is not None and incident.reviewed != self.reviewed:
            return False
        terms = self.search.lower().split()
        text = incident.searchable_text() if terms else ""
        return all(w in text for w in terms)


def apply_filter(incidents: Iterable[Incident], flt: IncidentFilter) -> list[Incident]:
    return [i for i in incidents if flt.matches(i)]


def local_time(ts: float, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A stored UTC stamp in this machine's local time, as people read it."""
    return datetime.fromtimestamp(ts, UTC).astimezone().strftime(fmt)


def duration_words(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    m, s = divmod(seconds, 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


class ReviewBackend(Protocol):
    """What supervisor review needs of the incident store (the store adapter provides it).

    `list_incidents` may leave traces empty (the browser does not draw them) and returns
    the page `flt.limit`/`flt.offset` asks for, newest first; `count_incidents` how many
    match in all;
    `get_incident` returns the whole record with its trace.
    """

    def list_incidents(self, flt: IncidentFilter) -> list[Incident]: ...

    def count_incidents(self, flt: IncidentFilter) -> int: ...

    def get_incident(self, incident_id: str) -> Incident: ...

    def stations(self) -> list[tuple[str, str]]: ...

    def sign_off(self, incident_id: str, by: str, note: str, debrief: bool) -> None: ...

    def amend(self, incident_id: str, by: str, reason: str,
              changes: dict[str, Any]) -> None: ...

    def audit(self, action: str, by: str, details: dict[str, Any]) -> None: ...
