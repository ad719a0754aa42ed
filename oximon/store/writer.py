"""One write transaction: a batch of readings, incident events and audit entries.

The order matters: (A) copy the 5 minutes before each new incident from readings already
written, (B) insert the new readings, (C) copy them into each open incident's own trace,
(D) append the incident events to the hash chain (a close seals the trace with its digest
and figures), (E) refresh the incidents' summary rows from their events, (F) audit entries
and the session heartbeat. The caller retries the whole batch if any of it fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from oximon.store import query
from oximon.store.chain import canonical, event_hash, trace_digest
from oximon.store.record import fold
from oximon.store.schema import (
    audit_log,
    chain_head,
    incident_events,
    incident_trace,
    incidents,
    readings,
    sessions,
)

Row = tuple[str, float, float | None, float | None, float | None, int]


@dataclass
class Live:
    """An incident this session keeps a trace for and watches alarms on."""

    id: str
    station: str
    start_ts: float  # trace from here (opened - 5 min)
    opened_t: float
    end_ts: float | None = None  # trace until here (set when closed)
    active_high: set[str] = field(default_factory=set)
    last_clear_t: float | None = None
    last_person_t: float | None = None  # a person's last action/acknowledgment (engine t)
    needs_copy: bool = True  # the 5 minutes before opening still to copy from readings
    closed: bool = False


@dataclass
class Pending:
    """An incident event waiting to be chained and written."""

    incident_id: str
    kind: str
    ts: float
    t: float | None
    actor: str
    data: dict[str, Any]
    seal: bool = False  # close: add the trace figures and digest when written


def write_batch(conn: Connection, *, rows: list[Row], events: list[Pending],
                audits: list[dict[str, Any]], lives: dict[str, Live], session_id: str | None,
                now: float, end_session: bool = False) -> None:
    """Write one batch in the caller's transaction: all of it or (on error) none of it."""
    dialect = conn.dialect.name
    # A: the 5 minutes before a new incident, from readings already written.
    for live in lives.values():
        if live.needs_copy:
            r = readings.c
            conds = [r.station == live.station, r.ts >= live.start_ts]
            if live.end_ts is not None:
                conds.append(r.ts <= live.end_ts)
            src = select(literal(live.id), r.ts, r.spo2, r.pr, r.pi, r.flags).where(*conds)
            conn.execute(_insert_ignore(incident_trace, dialect).from_select(
                ["incident_id", "ts", "spo2", "pr", "pi", "flags"], src))
    # B: readings.
    if rows:
        conn.execute(_insert_ignore(readings, dialect), [
            {"station": s, "ts": ts, "spo2": o, "pr": p, "pi": pi, "flags": fl}
            for s, ts, o, p, pi, fl in rows])
    # C: the same rows into each incident's own trace.
    trace_rows = []
    for live in lives.values():
        for s, ts, o, p, pi, fl in rows:
            if s == live.station and ts >= live.start_ts and (
                    live.end_ts is None or ts <= live.end_ts):
                trace_rows.append({"incident_id": live.id, "ts": ts, "spo2": o, "pr": p,
                                   "pi": pi, "flags": fl})
    if trace_rows:
        conn.execute(_insert_ignore(incident_trace, dialect), trace_rows)
    # D: incident events, chained.
    touched: list[str] = []
    if events:
        head = conn.execute(select(chain_head).where(chain_head.c.id == 1)
                            .with_for_update()).one()
        seq, prev = head.last_seq, head.last_hash
        values = []
        for p in events:
            data = dict(p.data)
            if p.seal:
                got = query.trace_rows(conn, p.incident_id)
                data.update(query.trace_stats(got))
                data["trace_rows"] = len(got)
                data["trace_digest"] = trace_digest(got)
            seq += 1
            text = canonical(data)
            h = event_hash(prev, seq, p.incident_id, p.kind, p.ts, p.t, p.actor, text, now)
            values.append({"seq": seq, "incident_id": p.incident_id, "kind": p.kind,
                           "ts": p.ts, "t": p.t, "actor": p.actor, "data": text,
                           "recorded_ts": now, "prev_hash": prev, "hash": h})
            prev = h
            if p.incident_id not in touched:
                touched.append(p.incident_id)
        conn.execute(insert(incident_events), values)
        conn.execute(update(chain_head).where(chain_head.c.id == 1).values(
            last_seq=seq, last_hash=prev))
    # E: the summary rows (a cache of the events, checked by verify).
    for iid in touched:
        rec = fold(iid, query.events_of(conn, iid))
        summary = rec.summary()
        if iid in lives:  # this run keeps it now
            summary["session_id"] = session_id
        exists = conn.execute(select(incidents.c.id).where(incidents.c.id == iid)).first()
        if exists:
            conn.execute(update(incidents).where(incidents.c.id == iid).values(
                {k: v for k, v in summary.items() if k != "id"}))
        else:
            conn.execute(insert(incidents).values(summary))
    # F: audit entries and the session heartbeat.
    if audits:
        conn.execute(insert(audit_log), audits)
    if session_id is not None:
        values = {"heartbeat_ts": now}
        if end_session:
            values.update(ended_ts=now, end_reason="stopped")
        conn.execute(update(sessions).where(sessions.c.id == session_id)
                     .values(values))


def _insert_ignore(table: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()
