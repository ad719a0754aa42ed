"""Each monitoring run is a session with a heartbeat (written with every batch). A session
that died (kill -9, power cut) is found by the next run: its open incidents are marked
interrupted, with the gap recorded and the trace it left sealed, and wait for this run to
see their station again ("orphans"). Recorded times are wall times (see `timebase`); a
session also records its speed and whether its sources were all simulated."""

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
from oximon.store.record import NOT_RECORDED, fold
from oximon.store.schema import incident_trace, incidents, sessions
from oximon.store.timebase import Timeline
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
    interrupted: dict[str, str] = field(default_factory=dict)  # closed now: id -> station


def host() -> str:
    return socket.gethostname()[:255]


def insert_session(conn: Connection, session_id: str, now: float, real: float,
                   timeline: Timeline | None = None) -> None:
    timeline = timeline or Timeline()
    conn.execute(insert(sessions).values(
        id=session_id, host=host(), pid=os.getpid(), started_ts=now, heartbeat_ts=now,
        heartbeat_real_ts=real, speed=None if timeline.speed == 1.0 else timeline.speed,
        simulated=timeline.simulated))


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


INTERRUPTED_NOTE = ("interrupted: oximon stopped while this incident was open, so it was "
                    "closed at the stop; a supervisor completes the outcome and signs it off")


def interrupted_close(incident_id: str, at_ts: float, reason: str,
                      t: float | None = None) -> Pending:
    """The close of an incident a stop interrupted: outcome not recorded (a person
    completes it), the whole trace sealed with its figures (nadir, time below). `t`: the
    stopping run's engine time, when it is the one closing it."""
    return Pending(incident_id, "closed", at_ts, t, AUTO,
                   {"outcome": [NOT_RECORDED], "aftercare": [], "note": INTERRUPTED_NOTE,
                    "auto": True, "interrupted": True, "reason": reason}, seal="full")


def recover(conn: Connection, session_id: str, now: float, stale_after_s: float,
            audit: Audit, resume_gap_s: float = 0.0) -> Recovery:
    """Close out dead sessions. Each incident a stopped or dead run left open is closed as
    interrupted at the moment monitoring stopped — unless this run starts within
    `resume_gap_s` real seconds of that stop (a profile's choice; 0: never), when it waits
    for this run to see its station again and carries on ("orphans")."""
    out = Recovery()
    s = sessions.c
    ended = {r.id: r for r in conn.execute(select(sessions).where(s.ended_ts.is_not(None)))}
    sealed_now: set[str] = set()  # incidents whose remaining trace this run seals
    gap_start: dict[str, float] = {}
    for row in conn.execute(select(sessions).where(s.ended_ts.is_(None),
                                                   s.id != session_id)).all():
        if not session_dead(row, stale_after_s):
            continue
        ended[row.id] = row
        conn.execute(update(sessions).where(s.id == row.id).values(
            ended_ts=row.heartbeat_ts, end_reason="crashed"))
        audit("session_crashed", row.id, {"last_heartbeat_ts": row.heartbeat_ts})
        for inc in conn.execute(select(incidents.c.id).where(
                incidents.c.session_id == row.id, incidents.c.status == "open")).all():
            last = _last_trace_ts(conn, inc.id)
            sealed_now.add(inc.id)
            gap_start[inc.id] = last if last is not None else row.heartbeat_ts
            out.events.append(Pending(
                inc.id, "trace_sealed", now, None, AUTO, {"by_session": session_id},
                seal="segment", seal_from=_sealed_to(conn, inc.id)))
            out.events.append(Pending(inc.id, "interrupted", now, None, AUTO, {
                "gap_start": gap_start[inc.id],
                "real_start": row.heartbeat_real_ts,
                "session": row.id, "reason": "oximon stopped unexpectedly "
                "(crash, power cut or killed); no monitoring in this gap"}))
    real_now = time.time()
    for inc in conn.execute(select(incidents.c.id, incidents.c.station, incidents.c.opened_ts,
                                   incidents.c.session_id)
                            .where(incidents.c.status == "open")).all():
        if not (inc.session_id in ended or inc.session_id is None):
            continue  # a live run keeps it
        last = _last_trace_ts(conn, inc.id)
        run = ended.get(inc.session_id)
        real_stop = run.heartbeat_real_ts if run is not None else None
        # Never resumed by a run whose clock is behind the incident's records (the clock
        # stepped back, or an older oximon dated a --speed run ahead): carrying on would
        # date its rows after this clock or slip them in among the old ones.
        behind = last is not None and last > now
        if resume_gap_s > 0 and real_stop is not None and not behind \
                and real_now - real_stop <= resume_gap_s:
            sealed = last if inc.id in sealed_now else _sealed_to(conn, inc.id)
            out.orphans[inc.station] = Orphan(inc.id, inc.opened_ts, last, sealed)
            continue
        stop = gap_start.get(inc.id) or (run.heartbeat_ts if run is not None else None) \
            or last or now
        if inc.id not in sealed_now:
            out.events.append(Pending(inc.id, "trace_sealed", now, None, AUTO,
                                      {"by_session": session_id}, seal="segment",
                                      seal_from=_sealed_to(conn, inc.id)))
        out.events.append(interrupted_close(
            inc.id, stop, "the next run's clock is behind its records" if behind
            else "not resumed by the next run"))
        out.interrupted[inc.id] = inc.station
        audit("incident_closed", inc.id, {"outcome": [NOT_RECORDED], "auto": True,
                                          "interrupted": True})
    return out
