"""The incident record of GUIDELINE.md, and how it is folded from its events.

An incident is its list of append-only events; everything else (the summary row used for
listing, what `show` prints) is computed from them here. Corrections are `amendment`
events that change what the record says while the original entries stay visible.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

# Stable words (IncidentLog's contract with the dashboard), defined once.
from oximon.store.timebase import label
from oximon.vocabulary import ACTIONS as ACTIONS
from oximon.vocabulary import AFTERCARE as AFTERCARE
from oximon.vocabulary import NOT_RECORDED as NOT_RECORDED
from oximon.vocabulary import OPENED_IN_ERROR as OPENED_IN_ERROR
from oximon.vocabulary import OUTCOMES as OUTCOMES
from oximon.vocabulary import SIGNS as SIGNS

DETAIL_FIELDS = frozenset({
    "alias", "signs", "substance", "route", "responders", "completed_by", "debrief_offered",
    "debrief_held", "note",
})
AMENDABLE = DETAIL_FIELDS | {"outcome", "aftercare", "called_911_ts", "ehs_arrived_ts",
                             "void_action", "add_action"}
KINDS = frozenset({"opened", "alarm", "action", "details", "interrupted", "stopped", "resumed",
                   "closed", "sign_off", "amendment", "trace_sealed"})


@dataclass
class IncidentRecord:
    """Everything known about one incident, folded from its events."""

    id: str
    station: str = ""
    alias: str = ""
    booth: str = ""
    reason: str = ""
    status: str = "open"
    opened_ts: float = 0.0
    opened_t: float | None = None  # engine seconds (virtual in a compressed run)
    opened_by: str = ""
    closed_ts: float | None = None
    closed_t: float | None = None
    # None: live monitoring. Else the run's {"speed", "simulated"} (timebase.Timeline),
    # written into the "opened" event, so the chain says a record was not live.
    timeline: dict[str, Any] | None = None
    closed_by: str = ""
    auto_closed: bool = False
    outcome: list[str] = field(default_factory=list)
    aftercare: list[str] = field(default_factory=list)
    close_note: str = ""
    interrupted: bool = False
    gaps: list[dict[str, Any]] = field(default_factory=list)
    alarms: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    signs: list[str] = field(default_factory=list)
    substance: str = ""
    route: str = ""
    responders: list[str] = field(default_factory=list)
    completed_by: str = ""
    debrief_offered: bool = False
    debrief_held: bool = False
    note: str = ""
    called_911_ts: float | None = None
    ehs_arrived_ts: float | None = None
    nadir: float | None = None
    nadir_ts: float | None = None
    below90_s: float | None = None
    below85_s: float | None = None
    trace_rows: int | None = None
    trace_digest: str | None = None
    sign_offs: list[dict[str, Any]] = field(default_factory=list)
    amendments: list[dict[str, Any]] = field(default_factory=list)
    seals: list[dict[str, Any]] = field(default_factory=list)  # sealed stretches of trace
    trace: list[dict[str, Any]] | None = None  # filled only when asked for

    # -- derived --------------------------------------------------------------------------
    @property
    def naloxone(self) -> list[dict[str, Any]]:
        """Each dose given (voided entries excluded), in time order."""
        doses = [a for a in self.actions if a["action"] == "naloxone" and not a.get("void")]
        return sorted(doses, key=lambda a: a["ts"])

    @property
    def amended_after_sign_off(self) -> bool:
        """Amended since its last sign-off: the review no longer covers what it says."""
        return bool(self.sign_offs) and any(m["seq"] > self.sign_offs[-1]["seq"]
                                            for m in self.amendments)

    @property
    def reviewed(self) -> bool:
        """Signed off, and not amended since (an amendment asks for a new sign-off)."""
        return bool(self.sign_offs) and not self.amended_after_sign_off

    @property
    def compressed(self) -> bool:
        """Recorded by a run at another speed (`--speed`): its `t`s are virtual seconds."""
        return self.timeline is not None and float(self.timeline.get("speed", 1.0)) != 1.0

    @property
    def virtual_s(self) -> float | None:
        """A compressed run's incident: how long it lasted in the scenario's time."""
        if not self.compressed or self.opened_t is None or self.closed_t is None:
            return None
        return round(self.closed_t - self.opened_t, 3)

    @property
    def debrief(self) -> bool:
        return self.debrief_held or any(s.get("debrief") for s in self.sign_offs)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        del out["seals"]  # evidence for verify, not part of what the record says
        if out["trace"] is None:
            del out["trace"]
        out["naloxone"] = [{"ts": a["ts"], **a.get("details", {})} for a in self.naloxone]
        out["reviewed"] = self.reviewed
        out["amended_after_sign_off"] = self.amended_after_sign_off
        return out

    def summary(self) -> dict[str, Any]:
        """The `incidents` row for this record (a cache for listing, checked by verify)."""
        last = self.sign_offs[-1] if self.sign_offs else {}
        doses = self.naloxone
        return {
            "id": self.id, "station": self.station, "alias": self.alias,
            "status": self.status, "reason": self.reason, "opened_ts": self.opened_ts,
            "closed_ts": self.closed_ts, "outcome": ",".join(self.outcome) or None,
            "interrupted": self.interrupted, "naloxone_doses": len(doses),
            "first_naloxone_ts": doses[0]["ts"] if doses else None,
            "called_911_ts": self.called_911_ts, "ehs_arrived_ts": self.ehs_arrived_ts,
            "nadir": self.nadir, "nadir_ts": self.nadir_ts, "below90_s": self.below90_s,
            "below85_s": self.below85_s, "reviewed": self.reviewed,
            "reviewed_by": last.get("by"), "reviewed_ts": last.get("ts"),
            "debrief": self.debrief, "amendments": len(self.amendments),
            "timeline": label(self.timeline),
        }


# Summary columns verify compares (session_id is bookkeeping, not part of the record).
SUMMARY_CHECKED = ("station", "alias", "status", "reason", "opened_ts", "closed_ts", "outcome",
                   "interrupted", "naloxone_doses", "first_naloxone_ts", "called_911_ts",
                   "ehs_arrived_ts", "nadir", "nadir_ts", "below90_s", "below85_s", "reviewed",
                   "reviewed_by", "reviewed_ts", "debrief", "amendments", "timeline")


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    incident_id: str
    kind: str
    ts: float
    t: float | None
    actor: str
    data: dict[str, Any]

    @classmethod
    def from_row(cls, row: Any) -> StoredEvent:
        m = row._mapping  # (Row.t is SQLAlchemy's own attribute, not our column)
        return cls(m["seq"], m["incident_id"], m["kind"], m["ts"], m["t"], m["actor"],
                   json.loads(m["data"]))


def fold(incident_id: str, events: list[StoredEvent]) -> IncidentRecord:
    """Replay an incident's events (in sequence order) into its record."""
    rec = IncidentRecord(incident_id)
    for ev in events:
        _APPLY[ev.kind](rec, ev)
    _derive_times(rec)
    return rec


def _opened(rec: IncidentRecord, ev: StoredEvent) -> None:
    d = ev.data
    rec.station, rec.alias, rec.booth = d["station"], d.get("alias", ""), d.get("booth", "")
    rec.reason, rec.opened_ts, rec.opened_by = d.get("reason", ""), ev.ts, ev.actor
    rec.opened_t, rec.timeline = ev.t, d.get("timeline")


def _alarm(rec: IncidentRecord, ev: StoredEvent) -> None:
    rec.alarms.append({"seq": ev.seq, "ts": ev.ts, "t": ev.t, "by": ev.actor, **ev.data})


def _action(rec: IncidentRecord, ev: StoredEvent) -> None:
    d = ev.data
    entry = {"seq": ev.seq, "ts": ev.ts, "t": ev.t, "by": ev.actor, "action": d["action"],
             "details": d.get("details", {})}
    if d.get("late"):
        entry["late"] = True
    rec.actions.append(entry)
    if d["action"] == "sign":
        sign = str(d.get("details", {}).get("sign", ""))
        if sign and sign not in rec.signs:
            rec.signs.append(sign)


def _details(rec: IncidentRecord, ev: StoredEvent) -> None:
    for key, value in ev.data.items():
        setattr(rec, key, value)


def _interrupted(rec: IncidentRecord, ev: StoredEvent) -> None:
    rec.interrupted = True
    rec.gaps.append({"start": ev.data.get("gap_start"), "end": None,
                     "reason": ev.data.get("reason", "oximon stopped unexpectedly"),
                     "_real_start": ev.data.get("real_start")})


def _stopped(rec: IncidentRecord, ev: StoredEvent) -> None:
    rec.interrupted = True  # monitoring stopped while it was open
    rec.gaps.append({"start": ev.data.get("gap_start", ev.ts), "end": None,
                     "reason": ev.data.get("reason", "monitoring stopped"),
                     "_real_start": ev.data.get("real_start")})


def _resumed(rec: IncidentRecord, ev: StoredEvent) -> None:
    if rec.gaps and rec.gaps[-1]["end"] is None:
        gap = rec.gaps[-1]
        gap["end"] = ev.data.get("gap_end", ev.ts)
        real_start, real_end = gap.get("_real_start"), ev.data.get("real_ts")
        if real_start is not None and real_end is not None:
            gap["real_s"] = round(real_end - real_start, 3)  # seconds nobody was watching
    else:
        rec.gaps.append({"start": None, "end": ev.ts, "reason": "resumed"})


def _trace_sealed(rec: IncidentRecord, ev: StoredEvent) -> None:
    rec.seals.append({"seq": ev.seq, **ev.data})


def _closed(rec: IncidentRecord, ev: StoredEvent) -> None:
    """The first close fixes the time and the trace figures; a later close (a person
    completing an incident oximon closed when the alarms went quiet) adds the outcome."""
    d = ev.data
    if rec.closed_ts is None:
        rec.closed_ts, rec.closed_t = ev.ts, ev.t
        for key in ("nadir", "nadir_ts", "below90_s", "below85_s", "trace_rows",
                    "trace_digest"):
            setattr(rec, key, d.get(key))
    rec.status = "closed"
    rec.interrupted = rec.interrupted or bool(d.get("interrupted"))
    rec.outcome = list(d.get("outcome", []))
    rec.aftercare = list(d.get("aftercare", []))
    rec.close_note = d.get("note", "")
    rec.closed_by = ev.actor
    rec.auto_closed = bool(d.get("auto"))


def _sign_off(rec: IncidentRecord, ev: StoredEvent) -> None:
    rec.sign_offs.append({"seq": ev.seq, "ts": ev.ts, "by": ev.actor,
                          "note": ev.data.get("note", ""), "debrief": ev.data.get("debrief")})


def _amendment(rec: IncidentRecord, ev: StoredEvent) -> None:
    """Apply a correction; the amendment keeps what each field said before (`was`), so
    the original value and every change stay visible."""
    changes = ev.data.get("changes", {})
    was: dict[str, Any] = {}
    for key in changes:
        if key in ("called_911_ts", "ehs_arrived_ts"):
            was[key] = rec.__dict__.get("_" + key, _first_action_ts(rec, key))
        elif key == "void_action":
            act = next((a for a in rec.actions if a["seq"] == changes[key]), None)
            was[key] = None if act is None else {"action": act["action"], "ts": act["ts"],
                                                 "by": act["by"]}
        elif key != "add_action" and hasattr(rec, key):
            value = getattr(rec, key)
            was[key] = list(value) if isinstance(value, list) else value
    rec.amendments.append({"seq": ev.seq, "ts": ev.ts, "by": ev.actor,
                           "reason": ev.data.get("reason", ""), "changes": changes,
                           "was": was})
    for key, value in changes.items():
        if key == "void_action":
            for a in rec.actions:
                if a["seq"] == value:
                    a["void"] = True
                    a["voided_by_seq"] = ev.seq
        elif key == "add_action":
            rec.actions.append({"seq": ev.seq, "ts": value["ts"], "t": None, "by": ev.actor,
                                "action": value["action"], "details": value.get("details", {}),
                                "amended": True})
            rec.actions.sort(key=lambda a: a["ts"])
        elif key in ("called_911_ts", "ehs_arrived_ts"):
            setattr(rec, "_" + key, value)
        else:
            setattr(rec, key, value)


def _first_action_ts(rec: IncidentRecord, key: str) -> float | None:
    action = {"called_911_ts": "911_called", "ehs_arrived_ts": "ehs_arrived"}[key]
    times = [a["ts"] for a in rec.actions if a["action"] == action and not a.get("void")]
    return min(times) if times else None


def _derive_times(rec: IncidentRecord) -> None:
    """911 called / EHS arrived: an amendment wins, else the first (non-void) action."""
    for gap in rec.gaps:
        gap.pop("_real_start", None)
    for key, action in (("called_911_ts", "911_called"), ("ehs_arrived_ts", "ehs_arrived")):
        amended = rec.__dict__.pop("_" + key, None)
        if amended is not None:
            setattr(rec, key, amended)
            continue
        times = [a["ts"] for a in rec.actions if a["action"] == action and not a.get("void")]
        setattr(rec, key, min(times) if times else None)


_APPLY = {
    "opened": _opened, "alarm": _alarm, "action": _action, "details": _details,
    "interrupted": _interrupted, "stopped": _stopped, "resumed": _resumed,
    "closed": _closed, "sign_off": _sign_off, "amendment": _amendment,
    "trace_sealed": _trace_sealed,
}
