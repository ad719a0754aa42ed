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

from oximon import time_below as below
from oximon.store.chain import alarm_hash, audit_hash, event_hash, trace_digest
from oximon.store.record import SUMMARY_CHECKED, IncidentRecord, StoredEvent, fold
from oximon.store.schema import (
    CHAIN_ALARMS,
    CHAIN_AUDIT,
    CHAIN_INCIDENTS,
    CHAINS,
    GENESIS_HASH,
    alarm_log,
    audit_log,
    chain_head,
    incident_events,
    incident_trace,
    incidents,
    sessions,
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
    timeline: str | None = None  # "simulated ×10"...: not live monitoring (None: live)

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
        match = or_(c.outcome == word, c.outcome.like(f"{word},%"),
                    c.outcome.like(f"%,{word}"), c.outcome.like(f"%,{word},%"))
        # "not_recorded": closed by oximon with none, or no outcome yet
        conds.append(or_(match, c.outcome.is_(None)) if word == "not_recorded" else match)
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


def station_aliases(conn: Connection) -> list[tuple[str, str]]:
    """Every station that has an incident, with the alias of its newest incident."""
    c = incidents.c
    newest = (select(c.station, func.max(c.opened_ts).label("opened"))
              .group_by(c.station).subquery())
    stmt = (select(c.station, c.alias).join(newest, and_(
        c.station == newest.c.station, c.opened_ts == newest.c.opened))
        .order_by(c.station, c.id.desc()))
    out: dict[str, str] = {}
    for sid, alias in conn.execute(stmt):
        out.setdefault(sid, alias or sid)
    return list(out.items())


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


def trace_rows(conn: Connection, incident_id: str, after: float | None = None,
               upto: float | None = None) -> list[tuple]:
    """An incident's trace rows (ts, spo2, pr, pi, flags) in time order, optionally only
    those with `after` < ts <= `upto` (a sealed stretch)."""
    t = incident_trace.c
    stmt = select(t.ts, t.spo2, t.pr, t.pi, t.flags).where(t.incident_id == incident_id)
    if after is not None:
        stmt = stmt.where(t.ts > after)
    if upto is not None:
        stmt = stmt.where(t.ts <= upto)
    return [tuple(r) for r in conn.execute(stmt.order_by(t.ts))]


def trace_stats(rows: list[tuple]) -> dict[str, Any]:
    """Nadir and seconds below 90 % / 85 % over 1 Hz trace rows (gaps count as nothing)."""
    valid = [(ts, spo2) for ts, spo2, *_ in rows if spo2 is not None and not math.isnan(spo2)]
    if not valid:
        return {"nadir": None, "nadir_ts": None, "below90_s": 0.0, "below85_s": 0.0}
    nadir_ts, nadir = min(valid, key=lambda r: (r[1], r[0]))
    ts, spo2 = [r[0] for r in valid], [r[1] for r in valid]
    return {"nadir": nadir, "nadir_ts": nadir_ts,
            "below90_s": below.time_below(ts, spo2, below.LOW, row_s=1.0),
            "below85_s": below.time_below(ts, spo2, below.SEVERE, row_s=1.0)}


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
        gaps_at = _gap_starts(rows, [g["start"] for g in rec.gaps if g.get("start") is not None])
        rec.trace = [{"ts": ts, "spo2": spo2, "pr": pr, "pi": pi, "flags": flags,
                      **({"gap_before": True} if i in gaps_at else {})}
                     for i, (ts, spo2, pr, pi, flags) in enumerate(rows)]
    return rec


def _gap_starts(rows: list[tuple], recorded: list[float] = (), max_step: float = 2.5  # type: ignore[assignment]
                ) -> set[int]:
    """Indexes of rows that follow a stretch with no rows at all (device lost), or a
    monitoring gap the record names (oximon stopped or crashed), however short it was."""
    out = {i for i in range(1, len(rows)) if rows[i][0] - rows[i - 1][0] > max_step}
    for start in recorded:
        after = next((i for i, r in enumerate(rows) if r[0] > start), None)
        if after:
            out.add(after)
    return out


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
    stmt = select(audit_log).order_by(a.ts, a.seq)
    if since_ts is not None:
        stmt = stmt.where(a.ts >= since_ts)
    if until_ts is not None:
        stmt = stmt.where(a.ts < until_ts)
    if target is not None:
        stmt = stmt.where(a.target == target)
    return [{"seq": r.seq, "ts": r.ts, "actor": r.actor, "action": r.action,
             "target": r.target, "detail": json.loads(r.detail) if r.detail else None}
            for r in conn.execute(stmt)]


def alarm_history(conn: Connection, since_ts: float | None = None,
                  until_ts: float | None = None, stations: list[str | None] | None = None,
                  limit: int | None = None) -> list[dict[str, Any]]:
    """Alarm log entries in time order; `stations` may include None (audio pause/resume)."""
    a = alarm_log.c
    stmt = select(alarm_log).order_by(a.ts, a.seq)
    if since_ts is not None:
        stmt = stmt.where(a.ts >= since_ts)
    if until_ts is not None:
        stmt = stmt.where(a.ts <= until_ts)
    if stations is not None:
        named = [s for s in stations if s is not None]
        cond = a.station.in_(named)
        stmt = stmt.where(or_(cond, a.station.is_(None)) if None in stations else cond)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [{"seq": r.seq, "ts": r.ts, "t": r._mapping["t"], "kind": r.kind,
             "station": r.station, "condition": r.condition, "state": r.state,
             "priority": r.priority, "technical": bool(r.technical), "by": r.actor,
             **json.loads(r.data)} for r in conn.execute(stmt)]


@dataclass(frozen=True)
class Problem:
    """One thing `verify` found; names the record (sequence number) and the incident."""

    message: str
    seq: int | None = None
    incident_id: str | None = None


def verify(conn: Connection) -> tuple[int, int, list[Problem]]:
    """Check the three chains (incident records, audit log, alarm log), their heads and
    the copies sessions kept of them, every incident's summary against its events, and
    sealed traces. Returns (records checked, incidents checked, problems)."""
    problems: list[Problem] = []
    anchors = _anchors(conn)
    heads = {r.id: r for r in conn.execute(select(chain_head))}
    count = 0
    for chain, table, name, link in (
            (CHAIN_INCIDENTS, incident_events, None, _event_link),
            (CHAIN_AUDIT, audit_log, "audit", audit_hash),
            (CHAIN_ALARMS, alarm_log, "alarm", alarm_hash)):
        count += _verify_chain(conn, chain, table, name, link, heads.get(chain),
                               anchors.get(chain, []), problems)
    n_incidents = _verify_incidents(conn, problems)
    return count, n_incidents, problems


def chain_heads(conn: Connection) -> dict[str, tuple[int, str]]:
    """Each chain's newest link (what a supervisor notes down outside the database)."""
    return {CHAINS[r.id]: (r.last_seq, r.last_hash) for r in
            conn.execute(select(chain_head).order_by(chain_head.c.id))}


def _event_link(prev: str, m: Any) -> str:
    return event_hash(prev, m["seq"], m["incident_id"], m["kind"], m["ts"], m["t"], m["actor"],
                      m["data"], m["recorded_ts"])


def _anchors(conn: Connection) -> dict[int, list[tuple[int, str, str]]]:
    """The chain heads each session copied at its last heartbeat: (seq, hash, session)."""
    out: dict[int, list[tuple[int, str, str]]] = {}
    for row in conn.execute(select(sessions.c.id, sessions.c.anchor)
                            .where(sessions.c.anchor.is_not(None))):
        try:
            for chain, (seq, h) in json.loads(row.anchor).items():
                out.setdefault(int(chain), []).append((int(seq), str(h), row.id))
        except (ValueError, TypeError):
            continue  # an unreadable copy proves nothing either way
    return out


def _verify_chain(conn: Connection, chain: int, table: Any, name: str | None, link: Any,
                  head: Any, anchors: list[tuple[int, str, str]],
                  problems: list[Problem]) -> int:
    prev, expect, count = GENESIS_HASH, 1, 0
    want = {seq for seq, _h, _s in anchors}
    seen: dict[int, str] = {}
    label = CHAINS[chain]

    def where(r: Any) -> str:
        if name is None:
            return f"record #{r.seq} (incident {r.incident_id}, {r.kind})"
        return f"{name} record #{r.seq} ({_entry_words(r)})"

    stmt = select(table).order_by(table.c.seq)
    for r in conn.execute(stmt.execution_options(yield_per=5000)):
        count += 1
        iid = r.incident_id if name is None else None
        if r.seq != expect:
            missing = f"#{expect}" if r.seq == expect + 1 else f"#{expect}–#{r.seq - 1}"
            prefix = "record" if name is None else f"{name} record"
            problems.append(Problem(f"{prefix} {missing} is missing (deleted); the chain "
                                    f"resumes at {where(r)}", expect, iid))
        elif r.prev_hash != prev:
            problems.append(Problem(f"{where(r)}: does not link to the record before it "
                                    "(edited or reordered)", r.seq, iid))
        if link(r.prev_hash, r._mapping) != r.hash:
            problems.append(Problem(f"{where(r)}: was edited after it was recorded", r.seq,
                                    iid))
        if r.seq in want:
            seen[r.seq] = r.hash
        prev, expect = r.hash, r.seq + 1
    last = expect - 1
    if head is None:
        problems.append(Problem(f"the {label} chain's head is missing (deleted)"))
    elif head.last_seq != last or head.last_hash != prev:
        problems.append(Problem(
            f"the newest {label} records are missing: the chain head says #{head.last_seq}, "
            f"the last "
            f"record found is #{last} (deleted, or the head was edited)", head.last_seq))
    for seq, h, session in sorted(set(anchors)):
        if seq > last:
            problems.append(Problem(
                f"the newest {label} records are missing: session {session} saw the chain reach "
                f"#{seq}, it now ends at #{last} (deleted, and the head rewound)", seq))
            break
        if seq > 0 and seen.get(seq) not in (None, h):
            problems.append(Problem(f"{label} record #{seq} is not the one session {session} "
                                    "saw there (the chain was rewritten)", seq))
    return count


def _entry_words(r: Any) -> str:
    m = r._mapping
    if "action" in m:
        return f"{m['action']}{' ' + m['target'] if m['target'] else ''}"
    return " ".join(str(x) for x in (m["station"] or "-", m["condition"] or m["kind"],
                                      m["state"]))


def _verify_incidents(conn: Connection, problems: list[Problem]) -> int:
    rows = {r.id: r._mapping for r in conn.execute(select(incidents))}
    running = {r.id for r in conn.execute(select(sessions.c.id).where(
        sessions.c.ended_ts.is_(None)))}
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
        else:
            _verify_seals(conn, rec, problems, kept=row["session_id"] in running)
    for iid in sorted(set(rows) - seen):
        problems.append(Problem(f"incident {iid}: listed but has no records (added by hand, or "
                                "its records were deleted)", incident_id=iid))
    return len(seen | set(rows))


def _verify_seals(conn: Connection, rec: IncidentRecord, problems: list[Problem],
                  kept: bool) -> None:
    """An open or interrupted incident: each sealed stretch of its trace must still hold
    exactly the rows it was sealed with. Rows after the newest seal are not yet sealed
    only while a running session (`kept`) records it: otherwise they were added later."""
    prev_to: float | None = None
    for seal in rec.seals:
        frm, to = seal.get("from_ts"), seal.get("to_ts")
        got = trace_rows(conn, rec.id, after=frm, upto=to)
        if frm != prev_to or len(got) != seal.get("rows") or \
                trace_digest(got) != seal.get("digest"):
            problems.append(Problem(
                f"incident {rec.id}: its SpO2/pulse trace was changed after it was recorded "
                f"(rows up to record #{seal.get('seq')}: {len(got)} found, sealed with "
                f"{seal.get('rows')})", seal.get("seq"), rec.id))
            return
        prev_to = to
    if not kept:
        extra = trace_rows(conn, rec.id, after=prev_to) if prev_to is not None \
            else trace_rows(conn, rec.id)
        if extra:
            problems.append(Problem(
                f"incident {rec.id}: {len(extra)} SpO2/pulse trace row(s) after its last "
                "seal, though no running session records it (added after monitoring "
                "stopped)", incident_id=rec.id))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=0, abs_tol=1e-9)
    if isinstance(b, bool):
        return bool(a) == b and a is not None
    return a == b
