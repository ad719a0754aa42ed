"""Reading the store: list and filter incidents, fetch one whole record, verify the chain.

This is the API the supervisor review screen builds on. Listing reads only the summary
table (indexed by time, station and status), so a filter over 100,000 incidents is one
indexed query; a whole record is folded from its events on request.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, Select, and_, func, or_, select

from oximon.store.chain import event_hash, trace_digest
from oximon.store.record import SUMMARY_CHECKED, IncidentRecord, StoredEvent, fold
from oximon.store.schema import (
    GENESIS_HASH,
    audit_log,
    chain_head,
    incident_events,
    incident_trace,
    incidents,
)


@dataclass(frozen=True)
class IncidentQuery:
    """Filters for listing; None means "any". Times are UTC epoch seconds (opened_ts)."""

    since_ts: float | None = None
    until_ts: float | None = None
    station: str | None = None
    outcome: str | None = None  # one outcome word, e.g. "transported"
    naloxone: bool | None = None  # at least one dose given
    called_911: bool | None = None
    reviewed: bool | None = None  # signed off by a supervisor
    status: str | None = None  # "open" | "closed"
    interrupted: bool | None = None
    limit: int | None = None
    offset: int = 0
    newest_first: bool = True


@dataclass(frozen=True)
class IncidentSummary:
    """One row of the incident list (what a table or a CSV line shows)."""

    id: str
    station: str
    alias: str
    status: str
    reason: str
    opened_ts: float
    closed_ts: float | None
    outcome: str | None
    interrupted: bool
    naloxone_doses: int
    first_naloxone_ts: float | None
    called_911_ts: float | None
    ehs_arrived_ts: float | None
    nadir: float | None
    nadir_ts: float | None
    below90_s: float | None
    below85_s: float | None
    reviewed: bool
    reviewed_by: str | None
    reviewed_ts: float | None
    debrief: bool
    amendments: int
    session_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_SUMMARY_COLUMNS = [incidents.c[f.name] for f in fields(IncidentSummary)]


def _filtered(stmt: Select, q: IncidentQuery) -> Select:
    c = incidents.c
    conds = []
    if q.since_ts is not None:
        conds.append(c.opened_ts >= q.since_ts)
    if q.until_ts is not None:
        conds.append(c.opened_ts < q.until_ts)
    if q.station is not None:
        conds.append(c.station == q.station)
    if q.status is not None:
        conds.append(c.status == q.status)
    if q.outcome is not None:
        word = q.outcome
        conds.append(or_(c.outcome == word, c.outcome.like(f"{word},%"),
                         c.outcome.like(f"%,{word}"), c.outcome.like(f"%,{word},%")))
    if q.naloxone is not None:
        conds.append(c.naloxone_doses > 0 if q.naloxone else c.naloxone_doses == 0)
    if q.called_911 is not None:
        conds.append(c.called_911_ts.is_not(None) if q.called_911 else c.called_911_ts.is_(None))
    if q.reviewed is not None:
        conds.append(c.reviewed == q.reviewed)
    if q.interrupted is not None:
        conds.append(c.interrupted == q.interrupted)
    return stmt.where(and_(*conds)) if conds else stmt


def list_incidents(conn: Connection, q: IncidentQuery) -> list[IncidentSummary]:
    order = incidents.c.opened_ts.desc() if q.newest_first else incidents.c.opened_ts.asc()
    stmt = _filtered(select(*_SUMMARY_COLUMNS), q).order_by(order, incidents.c.id)
    if q.limit is not None:
        stmt = stmt.limit(q.limit)
    if q.offset:
        stmt = stmt.offset(q.offset)
    return [IncidentSummary(*row) for row in conn.execute(stmt)]


def count_incidents(conn: Connection, q: IncidentQuery) -> int:
    return int(conn.execute(_filtered(select(func.count()).select_from(incidents), q))
               .scalar_one())


def resolve_id(conn: Connection, text: str) -> str | None:
    """An exact id, or a unique prefix of one (people type short ids)."""
    if conn.execute(select(incidents.c.id).where(incidents.c.id == text)).first():
        return text
    rows = conn.execute(select(incidents.c.id).where(incidents.c.id.like(
        text.replace("%", "").replace("_", r"\_") + "%", escape="\\")).limit(2)).all()
    return rows[0][0] if len(rows) == 1 else None


def events_of(conn: Connection, incident_id: str) -> list[StoredEvent]:
    stmt = (select(incident_events).where(incident_events.c.incident_id == incident_id)
            .order_by(incident_events.c.seq))
    return [StoredEvent.from_row(r) for r in conn.execute(stmt)]


def trace_rows(conn: Connection, incident_id: str) -> list[tuple]:
    t = incident_trace.c
    stmt = (select(t.ts, t.spo2, t.pr, t.pi, t.flags).where(t.incident_id == incident_id)
            .order_by(t.ts))
    return [tuple(r) for r in conn.execute(stmt)]


def trace_stats(rows: list[tuple]) -> dict[str, Any]:
    """Nadir and seconds below 90 % / 85 % over 1 Hz trace rows (gaps count as nothing)."""
    valid = [(ts, spo2) for ts, spo2, *_ in rows if spo2 is not None and not math.isnan(spo2)]
    if not valid:
        return {"nadir": None, "nadir_ts": None, "below90_s": 0.0, "below85_s": 0.0}
    nadir_ts, nadir = min(valid, key=lambda r: (r[1], r[0]))
    return {"nadir": nadir, "nadir_ts": nadir_ts,
            "below90_s": float(sum(1 for _, s in valid if s < 90)),
            "below85_s": float(sum(1 for _, s in valid if s < 85))}


def get_incident(conn: Connection, incident_id: str, with_trace: bool = True
                 ) -> IncidentRecord | None:
    events = events_of(conn, incident_id)
    if not events:
        return None
    rec = fold(incident_id, events)
    rows = trace_rows(conn, incident_id) if with_trace or rec.closed_ts is None else []
    if rec.closed_ts is None:  # still open: figures so far
        for key, value in trace_stats(rows).items():
            setattr(rec, key, value)
    if with_trace:
        gaps_at = _gap_starts(rows)
        rec.trace = [{"ts": ts, "spo2": spo2, "pr": pr, "pi": pi, "flags": flags,
                      **({"gap_before": True} if i in gaps_at else {})}
                     for i, (ts, spo2, pr, pi, flags) in enumerate(rows)]
    return rec


def _gap_starts(rows: list[tuple], max_step: float = 2.5) -> set[int]:
    """Indexes of rows that follow a stretch with no rows at all (device lost, oximon down)."""
    return {i for i in range(1, len(rows)) if rows[i][0] - rows[i - 1][0] > max_step}


def iter_records(conn: Connection, q: IncidentQuery) -> Iterator[IncidentRecord]:
    """Whole records (without traces) for every incident the query matches, in list order."""
    ids = [s.id for s in list_incidents(conn, q)]
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start:chunk_start + 500]
        stmt = (select(incident_events).where(incident_events.c.incident_id.in_(chunk))
                .order_by(incident_events.c.incident_id, incident_events.c.seq))
        by_id = {iid: fold(iid, [StoredEvent.from_row(r) for r in rows])
                 for iid, rows in itertools.groupby(conn.execute(stmt), lambda r: r.incident_id)}
        for iid in chunk:
            if iid in by_id:
                yield by_id[iid]


def audit_entries(conn: Connection, since_ts: float | None = None,
                  until_ts: float | None = None, target: str | None = None
                  ) -> list[dict[str, Any]]:
    a = audit_log.c
    stmt = select(audit_log).order_by(a.ts, a.id)
    if since_ts is not None:
        stmt = stmt.where(a.ts >= since_ts)
    if until_ts is not None:
        stmt = stmt.where(a.ts < until_ts)
    if target is not None:
        stmt = stmt.where(a.target == target)
    return [{"ts": r.ts, "actor": r.actor, "action": r.action, "target": r.target,
             "detail": json.loads(r.detail) if r.detail else None} for r in conn.execute(stmt)]


@dataclass(frozen=True)
class Problem:
    """One thing `verify` found; names the record (sequence number) and the incident."""

    message: str
    seq: int | None = None
    incident_id: str | None = None


def verify(conn: Connection) -> tuple[int, int, list[Problem]]:
    """Check the chain, every incident's summary against its events, and sealed traces.
    Returns (events checked, incidents checked, problems)."""
    problems: list[Problem] = []
    prev, expect, count = GENESIS_HASH, 1, 0
    stmt = select(incident_events).order_by(incident_events.c.seq)
    for r in conn.execute(stmt.execution_options(yield_per=5000)):
        count += 1
        where = f"record #{r.seq} (incident {r.incident_id}, {r.kind})"
        if r.seq != expect:
            missing = f"#{expect}" if r.seq == expect + 1 else f"#{expect}–#{r.seq - 1}"
            problems.append(Problem(f"record {missing} is missing (deleted); the chain resumes "
                                    f"at {where}", expect, r.incident_id))
        elif r.prev_hash != prev:
            problems.append(Problem(f"{where}: does not link to the record before it "
                                    "(edited or reordered)", r.seq, r.incident_id))
        again = event_hash(r.prev_hash, r.seq, r.incident_id, r.kind, r.ts, r._mapping["t"],
                           r.actor, r.data, r.recorded_ts)
        if again != r.hash:
            problems.append(Problem(f"{where}: was edited after it was recorded", r.seq,
                                    r.incident_id))
        prev, expect = r.hash, r.seq + 1
    head = conn.execute(select(chain_head).where(chain_head.c.id == 1)).first()
    if head is None:
        problems.append(Problem("the chain head is missing (deleted)"))
    elif head.last_seq != expect - 1 or head.last_hash != prev:
        problems.append(Problem(
            f"the newest records are missing: the chain head says #{head.last_seq}, the last "
            f"record found is #{expect - 1} (deleted, or the head was edited)", head.last_seq))
    n_incidents = _verify_incidents(conn, problems)
    return count, n_incidents, problems


def _verify_incidents(conn: Connection, problems: list[Problem]) -> int:
    rows = {r.id: r._mapping for r in conn.execute(select(incidents))}
    seen: set[str] = set()
    stmt = select(incident_events).order_by(incident_events.c.incident_id, incident_events.c.seq)
    for iid, group in itertools.groupby(conn.execute(stmt.execution_options(yield_per=5000)),
                                        lambda r: r.incident_id):
        seen.add(iid)
        try:
            rec = fold(iid, [StoredEvent.from_row(r) for r in group])
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            problems.append(Problem(f"incident {iid}: its records cannot be read ({exc})",
                                    incident_id=iid))
            continue
        row = rows.get(iid)
        if row is None:
            problems.append(Problem(f"incident {iid}: missing from the incident list (deleted)",
                                    incident_id=iid))
            continue
        want = rec.summary()
        for col in SUMMARY_CHECKED:
            if not _same(row[col], want[col]):
                problems.append(Problem(f"incident {iid}: '{col}' in the incident list is "
                                        f"{row[col]!r} but its records say {want[col]!r} "
                                        "(edited)", incident_id=iid))
        if rec.trace_digest is not None:
            got = trace_rows(conn, iid)
            if len(got) != rec.trace_rows or trace_digest(got) != rec.trace_digest:
                problems.append(Problem(f"incident {iid}: its SpO2/pulse trace was changed "
                                        f"after it closed ({len(got)} rows, sealed with "
                                        f"{rec.trace_rows})", incident_id=iid))
    for iid in sorted(set(rows) - seen):
        problems.append(Problem(f"incident {iid}: listed but has no records (added by hand, or "
                                "its records were deleted)", incident_id=iid))
    return len(seen | set(rows))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=0, abs_tol=1e-9)
    if isinstance(b, bool):
        return bool(a) == b and a is not None
    return a == b
