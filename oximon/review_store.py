"""Supervisor review on the incident store: the `ReviewBackend` the review screen, the
monthly report and its CLI use.

The store folds each incident's hash-chained events into an `IncidentRecord`; this module
turns that into review's `Incident` (alarm events paired into raised → acknowledged →
cleared spans, voided actions kept but marked, gaps in the trace made explicit) and passes
sign-offs, amendments and audit entries back. No Qt, so the CLI can use it headless.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from oximon.review import (
    Action,
    AlarmSpan,
    Amendment,
    Incident,
    IncidentFilter,
    SignOff,
    Trace,
)
from oximon.store import IncidentQuery, IncidentRecord, Store

NAN = math.nan


def _alarms(events: list[dict[str, Any]]) -> tuple[AlarmSpan, ...]:
    spans: list[dict[str, Any]] = []
    open_by_condition: dict[str, dict[str, Any]] = {}
    for ev in sorted(events, key=lambda e: (e["ts"], e.get("seq", 0))):
        cond, state = str(ev.get("condition", "")), ev.get("state")
        if state == "raised":
            span = {"condition": cond, "priority": str(ev.get("priority", "")),
                    "raised_ts": ev["ts"], "message": str(ev.get("message") or "")}
            spans.append(span)
            open_by_condition[cond] = span
            continue
        open_span = open_by_condition.get(cond)
        if open_span is None:
            continue
        if state == "acknowledged" and "acknowledged_ts" not in open_span:
            open_span["acknowledged_ts"] = ev["ts"]
            open_span["acknowledged_by"] = str(ev.get("by") or "")
        elif state == "escalated":
            open_span["priority"] = str(ev.get("priority") or open_span["priority"])
        elif state == "cleared":
            open_span["cleared_ts"] = ev["ts"]
            del open_by_condition[cond]
    return tuple(AlarmSpan(**s) for s in spans)


def _trace(rows: list[dict[str, Any]] | None) -> Trace:
    ts: list[float] = []
    spo2: list[float] = []
    pr: list[float] = []
    for row in rows or []:
        if row.get("gap_before") and ts:
            # No rows at all for a while (device lost, oximon down): a NaN keeps the plot
            # from joining across it and the figures from counting it.
            ts.append(ts[-1] + 1.0)
            spo2.append(NAN)
            pr.append(NAN)
        ts.append(float(row["ts"]))
        spo2.append(NAN if row.get("spo2") is None else float(row["spo2"]))
        pr.append(NAN if row.get("pr") is None else float(row["pr"]))
    return Trace(tuple(ts), tuple(spo2), tuple(pr))


def to_incident(rec: IncidentRecord) -> Incident:
    """The store's folded record as review's plain `Incident`."""
    actions = tuple(
        Action(float(a["ts"]), a["action"], str(a.get("by") or ""), dict(a.get("details") or {}),
               seq=a.get("seq"), void=bool(a.get("void")), amended=bool(a.get("amended")))
        for a in sorted(rec.actions, key=lambda a: a["ts"]))
    signs = tuple(SignOff(float(x["ts"]), str(x.get("by") or ""), str(x.get("note") or ""),
                          bool(x.get("debrief"))) for x in rec.sign_offs)
    signed_seqs = [x["seq"] for x in rec.sign_offs]
    return Incident(
        id=rec.id, station=rec.station, opened_ts=rec.opened_ts, alias=rec.alias,
        reason=rec.reason, status=rec.status, closed_ts=rec.closed_ts,
        outcome=tuple(rec.outcome), aftercare=tuple(rec.aftercare),
        note="\n".join(x for x in (rec.note, rec.close_note) if x),
        signs=tuple(rec.signs), substance=rec.substance, route=rec.route,
        responders=tuple(rec.responders), completed_by=rec.completed_by,
        interrupted=rec.interrupted,
        gaps=tuple((g.get("start"), g.get("end"), str(g.get("reason", ""))) for g in rec.gaps),
        called_911_ts=rec.called_911_ts, ehs_arrived_ts=rec.ehs_arrived_ts,
        opened_by=rec.opened_by, debrief_offered=rec.debrief_offered,
        debrief_held=rec.debrief_held,
        stored_nadir=rec.nadir, stored_nadir_ts=rec.nadir_ts,
        stored_below90_s=rec.below90_s, stored_below85_s=rec.below85_s,
        actions=actions, alarms=_alarms(rec.alarms),
        amendments=tuple(Amendment(float(m["ts"]), str(m.get("by") or ""),
                                   str(m.get("reason") or ""), dict(m.get("changes") or {}),
                                   dict(m.get("was") or {}),
                                   after_sign_off=any(q < m["seq"] for q in signed_seqs))
                         for m in rec.amendments),
        sign_off=signs[-1] if signs else None,
        sign_offs=signs,
        amended_after_sign_off=rec.amended_after_sign_off,
        trace=_trace(rec.trace),
    )


class StoreReview:
    """`ReviewBackend` over an open `Store` (SQLite or PostgreSQL)."""

    def __init__(self, store: Store):
        self.store = store

    def _query(self, flt: IncidentFilter, **page: Any) -> IncidentQuery:
        return IncidentQuery(since_ts=flt.since_ts, until_ts=flt.until_ts,
                             station=flt.station, outcome=flt.outcome, naloxone=flt.naloxone,
                             called_911=flt.called_911, reviewed=flt.reviewed, **page)

    def list_incidents(self, flt: IncidentFilter) -> list[Incident]:
        """Date, station, outcome and yes/no filters run in the store's indexed query, one
        page at a time; the notes search runs here on the folded records, a chunk at a
        time, until the page is full."""
        if not flt.search.strip():
            q = self._query(flt, limit=flt.limit, offset=flt.offset)
            return [i for i in map(to_incident, self.store.iter_records(q)) if flt.matches(i)]
        want = None if flt.limit is None else flt.offset + flt.limit
        found: list[Incident] = []
        for chunk in self._chunks(flt):
            found += [i for i in chunk if flt.matches(i)]
            if want is not None and len(found) >= want:
                break
        return found[flt.offset:want]

    def count_incidents(self, flt: IncidentFilter) -> int:
        if not flt.search.strip():
            return self.store.count_incidents(self._query(flt))
        return sum(1 for chunk in self._chunks(flt) for i in chunk if flt.matches(i))

    def _chunks(self, flt: IncidentFilter, size: int = 500) -> Iterator[list[Incident]]:
        offset = 0
        while True:
            records = self.store.iter_records(self._query(flt, limit=size, offset=offset))
            if not records:
                return
            yield [to_incident(r) for r in records]
            offset += size

    def get_incident(self, incident_id: str) -> Incident:
        rec = self.store.get_incident(incident_id, with_trace=True)
        if rec is None:
            raise KeyError(f"no incident {incident_id!r}")
        return to_incident(rec)

    def stations(self) -> list[tuple[str, str]]:
        """Every station that has an incident, with the alias of its newest incident."""
        return self.store.station_aliases()

    def sign_off(self, incident_id: str, by: str, note: str, debrief: bool) -> None:
        self.store.sign_off(incident_id, by, note, debrief)

    def amend(self, incident_id: str, by: str, reason: str, changes: dict[str, Any]) -> None:
        self.store.amend(incident_id, changes, reason, by)

    def audit(self, action: str, by: str, details: dict[str, Any]) -> None:
        self.store.record_audit(action, None, details, by)
