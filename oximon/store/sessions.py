"""Each monitoring run is a session with a heartbeat (written with every batch). A session
that died (kill -9, power cut) is found by the next run: its open incidents are marked
interrupted, with the gap recorded and the trace it left sealed, and wait for this run to
see their station again ("orphans"). Recorded times continue from where the dead run
stopped plus the real time that passed, so a gap is never negative."""

from __future__ import annotations

import os
import socket
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from oximon.store import query
from oximon.store.event_intake import AUTO
from oximon.store.record import fold
from oximon.store.schema import incident_trace, incidents, sessions
from oximon.store.writer import Pending

STALE_AFTER_S = 60.0  # a session silent this long (wall seconds) on another host is dead

# Sessions open in this process (by id), so a crashed-but-same-pid session can be told
# from a live one when several stores share a process (tests, a review window).
OPEN_SESSIONS: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()

Audit = Callable[[str, str | None, dict[str, Any]], None]


@dataclass
class Orphan:
    """An incident a dead run left open, waiting for this run to see its station."""

    id: str
    opened_ts: float
    last_ts: float | None  # its last trace row
    sealed_to: float | None  # its trace is sealed up to here


@dataclass
class Recovery:
    """What finding dead sessions left to write and to carry on with."""

    events: list[Pending] = field(default_factory=list)
    orphans: dict[str, Orphan] = field(default_factory=dict)  # by station


def host() -> str:
    return socket.gethostname()[:255]


def time_offset(conn: Connection, clock_wall: float) -> float:
    """Recorded times must run on from the last run on this machine: when its stamps are
    ahead of this clock (it ran at `--speed`, or the clock stepped back), this run's
    stamps start where it stopped plus the real time that has passed since."""
    s = sessions.c
    last = conn.execute(select(s.heartbeat_ts, s.heartbeat_real_ts)
                        .where(s.host == host())
                        .order_by(s.heartbeat_ts.desc()).limit(1)).first()
    if last is None:
        return 0.0
    real_gap = max(0.0, time.time() - (last.heartbeat_real_ts or time.time()))
    behind: float = last.heartbeat_ts + real_gap - clock_wall
    return behind if behind > 1.0 else 0.0


def insert_session(conn: Connection, session_id: str, now: float, real: float) -> None:
    conn.execute(insert(sessions).values(
        id=session_id, host=host(), pid=os.getpid(), started_ts=now, heartbeat_ts=now,
        heartbeat_real_ts=real))


def session_dead(row: Any, stale_after_s: float) -> bool:
    """A session with no end is dead when its process is gone (this host) or its heartbeat
    is older than `stale_after_s` real seconds."""
    if row.host == socket.gethostname():
        if row.pid == os.getpid():
            return row.id not in OPEN_SESSIONS
        try:
            os.kill(row.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
    real = row.heartbeat_real_ts if row.heartbeat_real_ts is not None else row.heartbeat_ts
    return bool(time.time() - real > stale_after_s)


def _last_trace_ts(conn: Connection, incident_id: str) -> float | None:
    return conn.execute(select(func.max(incident_trace.c.ts)).where(
        incident_trace.c.incident_id == incident_id)).scalar()


def _sealed_to(conn: Connection, incident_id: str) -> float | None:
    seals = fold(incident_id, query.events_of(conn, incident_id)).seals
    return seals[-1]["to_ts"] if seals else None


def recover(conn: Connection, session_id: str, now: float, stale_after_s: float,
            audit: Audit) -> Recovery:
    """Close out dead sessions; their open incidents are marked interrupted (the trace
    they left is sealed first) and wait for this run to see their station again."""
    out = Recovery()
    s = sessions.c
    ended = {r.id for r in conn.execute(select(s.id).where(s.ended_ts.is_not(None)))}
    sealed_now: set[str] = set()  # incidents whose remaining trace this run seals
    for row in conn.execute(select(sessions).where(s.ended_ts.is_(None),
                                                   s.id != session_id)).all():
        if not session_dead(row, stale_after_s):
            continue
        ended.add(row.id)
        conn.execute(update(sessions).where(s.id == row.id).values(
            ended_ts=row.heartbeat_ts, end_reason="crashed"))
        audit("session_crashed", row.id, {"last_heartbeat_ts": row.heartbeat_ts})
        for inc in conn.execute(select(incidents.c.id).where(
                incidents.c.session_id == row.id, incidents.c.status == "open")).all():
            last = _last_trace_ts(conn, inc.id)
            sealed_now.add(inc.id)
            out.events.append(Pending(
                inc.id, "trace_sealed", now, None, AUTO, {"by_session": session_id},
                seal="segment", seal_from=_sealed_to(conn, inc.id)))
            out.events.append(Pending(inc.id, "interrupted", now, None, AUTO, {
                "gap_start": last if last is not None else row.heartbeat_ts,
                "real_start": row.heartbeat_real_ts,
                "session": row.id, "reason": "oximon stopped unexpectedly "
                "(crash, power cut or killed); no monitoring in this gap"}))
    for inc in conn.execute(select(incidents.c.id, incidents.c.station, incidents.c.opened_ts,
                                   incidents.c.session_id)
                            .where(incidents.c.status == "open")).all():
        if inc.session_id in ended or inc.session_id is None:
            last = _last_trace_ts(conn, inc.id)
            sealed = last if inc.id in sealed_now else _sealed_to(conn, inc.id)
            out.orphans[inc.station] = Orphan(inc.id, inc.opened_ts, last, sealed)
    return out
