"""One write transaction: a batch of readings, incident events, audit and alarm entries.

The order matters: (A) copy the 5 minutes before each new incident from readings already
written, (B) insert the new readings, (C) copy them into each open incident's own trace,
(D) append the incident events to their hash chain (a seal adds the digest of the trace
rows recorded since the last seal; a close seals the whole trace with its figures),
(E) refresh the incidents' summary rows from their events, (F) audit entries and alarm
log entries onto their chains, and the session heartbeat with a copy of the three chain
heads. The store's writer thread runs it; the caller retries the whole batch if any of it
fails.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Insert, Table, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from oximon.store import query
from oximon.store.chain import alarm_hash, audit_hash, canonical, event_hash, trace_digest
from oximon.store.episode import Episode
from oximon.store.record import fold
from oximon.store.schema import (
    CHAIN_ALARMS,
    CHAIN_AUDIT,
    CHAIN_INCIDENTS,
    alarm_log,
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
    episode: Episode = field(default_factory=Episode)  # what the quiet-close rule sees
    needs_copy: bool = True  # the 5 minutes before opening still to copy from readings
    closed: bool = False
    sealed_to: float | None = None  # trace rows up to this ts are sealed in the chain
    last_seal_t: float | None = None  # engine time of the last seal asked for


@dataclass
class Pending:
    """An incident event waiting to be chained and written."""

    incident_id: str
    kind: str
    ts: float
    t: float | None
    actor: str
    data: dict[str, Any]
    seal: str = ""  # "full" (a close: figures and digest of the whole trace) or "segment"
    seal_from: float | None = None  # a segment's start when no live incident says it


def write_batch(conn: Connection, *, rows: list[Row], events: list[Pending],
                audits: list[dict[str, Any]], alarms: list[dict[str, Any]],
                lives: dict[str, Live], session_id: str | None, now: float,
                real_now: float, end_session: bool = False) -> dict[str, float]:
    """Write one batch in the caller's transaction: all of it or (on error) none of it.
    Returns, per incident, the ts up to which its trace is now sealed."""
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
            {"station": s, "ts": ts, "spo2": o, "pr": pr, "pi": pi, "flags": fl}
            for s, ts, o, pr, pi, fl in rows])
    # C: the same rows into each incident's own trace.
    trace_rows: list[dict[str, Any]] = []
    for live in lives.values():
        for s, ts, o, pr, pi, fl in rows:
            if s == live.station and ts >= live.start_ts and (
                    live.end_ts is None or ts <= live.end_ts):
                trace_rows.append({"incident_id": live.id, "ts": ts, "spo2": o, "pr": pr,
                                   "pi": pi, "flags": fl})
    if trace_rows:
        conn.execute(_insert_ignore(incident_trace, dialect), trace_rows)
    # D: incident events, chained.
    heads: dict[int, tuple[int, str]] = {}
    sealed = {live.id: live.sealed_to for live in lives.values()}
    done: dict[str, float] = {}
    touched: list[str] = []
    if events:
        seq, prev = _lock_head(conn, CHAIN_INCIDENTS)
        chained: list[dict[str, Any]] = []
        for p in events:
            data = dict(p.data)
            if p.seal:
                start = sealed.get(p.incident_id, p.seal_from)
                got = query.trace_rows(conn, p.incident_id,
                                       after=start if p.seal == "segment" else None)
                if p.seal == "segment":
                    if not got:
                        continue  # nothing new to seal
                    data.update(from_ts=start, to_ts=got[-1][0], rows=len(got),
                                digest=trace_digest(got))
                else:
                    data.update(query.trace_stats(got))
                    data["trace_rows"] = len(got)
                    data["trace_digest"] = trace_digest(got)
                if got:
                    sealed[p.incident_id] = done[p.incident_id] = got[-1][0]
            seq += 1
            text = canonical(data)
            h = event_hash(prev, seq, p.incident_id, p.kind, p.ts, p.t, p.actor, text, now)
            chained.append({"seq": seq, "incident_id": p.incident_id, "kind": p.kind,
                           "ts": p.ts, "t": p.t, "actor": p.actor, "data": text,
                           "recorded_ts": now, "prev_hash": prev, "hash": h})
            prev = h
            if p.kind != "trace_sealed" and p.incident_id not in touched:
                touched.append(p.incident_id)
        if chained:
            conn.execute(insert(incident_events), chained)
            heads[CHAIN_INCIDENTS] = _set_head(conn, CHAIN_INCIDENTS, seq, prev)
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
    # F: audit and alarm entries onto their chains; the session heartbeat and anchor.
    if audits:
        heads[CHAIN_AUDIT] = append_chain(conn, CHAIN_AUDIT, audit_log, audits, now, audit_hash)
    if alarms:
        heads[CHAIN_ALARMS] = append_chain(conn, CHAIN_ALARMS, alarm_log, alarms, now, alarm_hash)
    _anchor(conn, heads, session_id, now, real_now, end_session)
    return done


def _anchor(conn: Connection, heads: dict[int, tuple[int, str]], session_id: str | None,
            now: float, real_now: float, end_session: bool) -> None:
    """F (end): the session heartbeat with a copy of the three chain heads — or, for a
    write outside a monitoring run, an anchor row of its own."""
    if session_id is None and heads:
        # A write outside a monitoring run (a sign-off, an amendment, a review, settings,
        # a journal written back): anchored too, in a session row of its own that ends
        # where it begins, so deleting it later is as visible as deleting a run's records.
        for row in conn.execute(select(chain_head)):
            heads.setdefault(row.id, (row.last_seq, row.last_hash))
        conn.execute(insert(sessions).values(
            id=secrets.token_hex(8), host=socket.gethostname()[:255], pid=os.getpid(),
            started_ts=now, heartbeat_ts=now, heartbeat_real_ts=real_now, ended_ts=now,
            end_reason="write",
            anchor=json.dumps({str(k): list(v) for k, v in sorted(heads.items())})))
    if session_id is not None:
        for row in conn.execute(select(chain_head)):
            heads.setdefault(row.id, (row.last_seq, row.last_hash))
        # The copy moves on only while the record it names is still there unchanged: a
        # head rewound behind this session's back stays visible to verify.
        before = conn.execute(select(sessions.c.anchor).where(sessions.c.id == session_id)
                              ).scalar()
        try:
            kept = {int(k): tuple(v) for k, v in json.loads(before or "{}").items()}
        except (ValueError, TypeError):
            kept = {}
        tables = {CHAIN_INCIDENTS: incident_events, CHAIN_AUDIT: audit_log,
                  CHAIN_ALARMS: alarm_log}
        for chain, (seq, h) in kept.items():
            if chain not in tables or seq <= 0:
                continue
            table = tables[chain]
            there = conn.execute(select(table.c.hash).where(table.c.seq == seq)).scalar()
            if there != h:  # removed or replaced since this session saw it
                heads[chain] = (seq, h)
        beat: dict[str, Any] = {
            "heartbeat_ts": now, "heartbeat_real_ts": real_now,
            "anchor": json.dumps({str(k): list(v) for k, v in sorted(heads.items())})}
        if end_session:
            beat.update(ended_ts=now, end_reason="stopped")
        conn.execute(update(sessions).where(sessions.c.id == session_id).values(beat))


def _lock_head(conn: Connection, chain: int) -> tuple[int, str]:
    """The chain's newest link, locked until the transaction ends (one appender at a time;
    heads are always locked in chain order, so two writers cannot deadlock)."""
    head = conn.execute(select(chain_head).where(chain_head.c.id == chain)
                        .with_for_update()).one()
    return head.last_seq, head.last_hash


def _set_head(conn: Connection, chain: int, seq: int, last: str) -> tuple[int, str]:
    conn.execute(update(chain_head).where(chain_head.c.id == chain).values(
        last_seq=seq, last_hash=last))
    return seq, last


def append_chain(conn: Connection, chain: int, table: Table, entries: list[dict[str, Any]],
            now: float, link: Callable[[str, dict[str, Any]], str]) -> tuple[int, str]:
    seq, prev = _lock_head(conn, chain)
    values = []
    for entry in entries:
        seq += 1
        row = {**entry, "seq": seq, "recorded_ts": now, "prev_hash": prev}
        row["hash"] = prev = link(prev, row)
        values.append(row)
    conn.execute(insert(table), values)
    return _set_head(conn, chain, seq, prev)


def _insert_ignore(table: Table, dialect: str) -> Insert:
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()
