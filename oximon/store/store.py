"""The store: readings, incidents and the audit log, behind the engine's RecordSink and the
dashboard's IncidentLog.

How it stays trustworthy:
- Readings (one per station per second) wait in memory and are written together about
  once a second, in one transaction with any incident events, the session heartbeat and the
  audit entries. Incident events are written at once (`synchronous=FULL` on SQLite).
- Each incident keeps its own copy of its trace from 5 minutes before it opened until it
  closed; the retention purge only ever deletes from `readings`.
- If a write fails (disk full, server gone), nothing is dropped: the batch stays in memory,
  a technical alarm "Records are not being saved" goes out through the engine, writes are
  retried, and the backlog is written when the database is back.
- Each run is a session with a heartbeat. A session that died (kill -9, power cut) leaves
  its open incidents to the next run, which marks them interrupted with the gap recorded.

Episode rule (one incident per episode per station): a high, non-technical alarm "raised"
opens an incident unless the station already has one open; every alarm while it is open
joins it, so a flapping alarm never makes a duplicate. The incident stays open until a
person closes it, or until no high alarm has been active and no person has acted on it
(action, acknowledgment) for `quiet_s` (default 10 min), when oximon closes it with
outcome "not_recorded" (a person can still complete it).
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import math
import os
import secrets
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from oximon.clock import Clock
from oximon.store import query
from oximon.store.chain import canonical
from oximon.store.db import open_engine
from oximon.store.errors import IncidentError, StoreError, StoreUnavailable
from oximon.store.location import Target, resolve
from oximon.store.record import (
    ACTIONS,
    AFTERCARE,
    AMENDABLE,
    DETAIL_FIELDS,
    NOT_RECORDED,
    OUTCOMES,
    SIGNS,
    IncidentRecord,
    StoredEvent,
    fold,
)
from oximon.store.schema import incident_trace, incidents, readings, sessions
from oximon.store.writer import Live, Pending, Row, write_batch
from oximon.types import EngineEvent, Sample, Station

log = logging.getLogger(__name__)

RECORDS_NOT_SAVED = "records_not_saved"
AUTO = "oximon"  # the actor for what oximon does by itself
PRE_S = 300.0  # trace kept from 5 minutes before an incident opened
STALE_AFTER_S = 60.0  # a session silent this long (wall seconds) on another host is dead

# Sessions open in this process (by id), so a crashed-but-same-pid session can be told
# from a live one when several stores share a process (tests, a review window).
_OPEN_SESSIONS: weakref.WeakValueDictionary[str, Store] = weakref.WeakValueDictionary()


def open_store(db: str | None = None, *, clock: Clock | None = None, writer: bool = False,
               create: bool | None = None, busy_timeout_s: float = 5.0, **options: Any
               ) -> Store:
    """Open (creating and migrating as needed) the store at `db` (None → the default file).

    `writer=True` for a monitoring run: starts a session, recovers incidents a crashed run
    left open, and purges old readings. Readers (the incidents CLI, review) pass False.
    Raises StoreInputError (bad database, left unchanged) or StoreUnavailable.
    """
    target = resolve(db)
    create = (writer or db is None) if create is None else create
    engine = open_engine(target, create=create, busy_timeout_s=busy_timeout_s)
    return Store(engine, target, clock=clock, writer=writer, **options)


class Store:
    """SQLite or PostgreSQL incident store. See the module docstring for the rules."""

    def __init__(self, engine: Engine, target: Target, *, clock: Clock | None = None,
                 writer: bool = False, retention_days: float = 30.0, quiet_s: float = 600.0,
                 flush_every: float = 1.0, min_flush_gap: float = 0.2, retry_every: float = 5.0,
                 max_backlog: int = 500_000, stale_after_s: float = STALE_AFTER_S,
                 monotonic: Callable[[], float] = time.monotonic):
        self.engine = engine
        self.target = target
        self.clock = clock
        self.writer = writer
        self.retention_days = retention_days
        self.quiet_s = quiet_s
        self.flush_every = flush_every
        self.min_flush_gap = min_flush_gap
        self.retry_every = retry_every
        self.max_backlog = max_backlog
        self.stale_after_s = stale_after_s
        self._mono = monotonic
        self._lock = threading.RLock()
        self._stations: dict[str, Station] = {}
        self._rows: list[Row] = []
        self._last_sec: dict[str, int] = {}
        self._last_ts: dict[str, float] = {}
        self._events: list[Pending] = []
        self._audits: list[dict[str, Any]] = []
        self._live: dict[str, Live] = {}  # by incident id
        self._by_station: dict[str, str] = {}  # station -> open incident id
        self._orphans: dict[str, dict[str, Any]] = {}  # station -> incident left by a dead run
        self._out: list[EngineEvent] = []
        self._last_flush_t: float | None = None
        self._last_flush_mono = -math.inf
        self._failing_since: float | None = None
        self._next_retry = 0.0
        self._dropped = 0
        self._last_purge_t: float | None = None
        self._closed = False
        self.session_id: str | None = None
        if writer:
            self._start_session()

    # -- set-up ---------------------------------------------------------------------------
    def add_station(self, station: Station) -> None:
        """Tell the store a station's alias/booth (what incident records show)."""
        self._stations[station.id] = station

    def _start_session(self) -> None:
        self.session_id = secrets.token_hex(8)
        now = self._now_ts()
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(sessions).values(
                    id=self.session_id, host=socket.gethostname()[:255], pid=os.getpid(),
                    started_ts=now, heartbeat_ts=now))
                self._recover(conn, now)
                self._write(conn)
        except SQLAlchemyError as exc:
            raise _unavailable(self.target, exc) from None
        self._events.clear()
        self._audits.clear()
        _OPEN_SESSIONS[self.session_id] = self
        self._audit("session_started", self.session_id,
                    {"host": socket.gethostname(), "pid": os.getpid()})
        self.purge()

    def _session_dead(self, row: Any, now: float) -> bool:
        if row.host == socket.gethostname():
            if row.pid == os.getpid():
                return row.id not in _OPEN_SESSIONS
            try:
                os.kill(row.pid, 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                pass
        return now - row.heartbeat_ts > self.stale_after_s

    def _recover(self, conn: Connection, now: float) -> None:
        """Close out dead sessions; their open incidents are marked interrupted and wait
        for this run to see their station again."""
        s = sessions.c
        ended = {r.id for r in conn.execute(select(s.id).where(s.ended_ts.is_not(None)))}
        for row in conn.execute(select(sessions).where(s.ended_ts.is_(None),
                                                       s.id != self.session_id)).all():
            if not self._session_dead(row, now):
                continue
            ended.add(row.id)
            conn.execute(update(sessions).where(s.id == row.id).values(
                ended_ts=row.heartbeat_ts, end_reason="crashed"))
            self._audit("session_crashed", row.id, {"last_heartbeat_ts": row.heartbeat_ts})
            for inc in conn.execute(select(incidents.c.id).where(
                    incidents.c.session_id == row.id, incidents.c.status == "open")).all():
                last = conn.execute(select(func.max(incident_trace.c.ts)).where(
                    incident_trace.c.incident_id == inc.id)).scalar()
                self._events.append(Pending(inc.id, "interrupted", now, None, AUTO, {
                    "gap_start": last if last is not None else row.heartbeat_ts,
                    "session": row.id, "reason": "oximon stopped unexpectedly "
                    "(crash, power cut or killed); no monitoring in this gap"}))
        for inc in conn.execute(select(incidents.c.id, incidents.c.station, incidents.c.opened_ts,
                                       incidents.c.session_id)
                                .where(incidents.c.status == "open")).all():
            if inc.session_id in ended or inc.session_id is None:
                self._orphans[inc.station] = {"id": inc.id, "opened_ts": inc.opened_ts}

    # -- time -----------------------------------------------------------------------------
    def _now_t(self) -> float:
        return self.clock.now() if self.clock is not None else 0.0

    def _now_ts(self) -> float:
        if self.clock is not None:
            return round(self.clock.wall().timestamp(), 3)
        return round(time.time(), 3)

    def _wall(self, t: float) -> float:
        """Engine seconds → UTC epoch seconds, through the clock's wall time."""
        if self.clock is None:
            return round(time.time(), 3)
        return round(self.clock.wall().timestamp() - (self.clock.now() - t), 3)

    # -- RecordSink -----------------------------------------------------------------------
    def on_sample(self, station: str, sample: Sample) -> None:
        with self._lock:
            if station in self._orphans:
                self._adopt(station, sample.t)
            sec = math.floor(sample.t)
            if self._last_sec.get(station) == sec:
                return  # 1 Hz numerics: the first sample of each second
            self._last_sec[station] = sec
            ts = self._wall(sample.t)
            if ts <= self._last_ts.get(station, -math.inf):
                return  # the wall clock stepped back; never two rows for one moment
            self._last_ts[station] = ts
            self._rows.append((station, ts, _num(sample.spo2), _num(sample.pr),
                               _num(sample.pi), int(sample.flags)))
            if len(self._rows) > self.max_backlog:
                drop = len(self._rows) - self.max_backlog
                del self._rows[:drop]
                self._dropped += drop
            self._maybe_flush(sample.t)

    def on_event(self, event: EngineEvent) -> list[EngineEvent]:
        with self._lock:
            if event.type == "alarm" and event.fields.get("condition") != RECORDS_NOT_SAVED \
                    and event.station is not None:
                self._on_alarm(event)
            self._check_quiet(event.t)
            self._maybe_flush(event.t)
            return self._drain()

    def tick(self, now: float) -> list[EngineEvent]:
        """Time-driven work: quiet incidents close, batches flush, failed writes retry,
        old readings are purged (hourly)."""
        with self._lock:
            self._check_quiet(now)
            self._maybe_flush(now)
            if self.writer and (self._last_purge_t is None or now - self._last_purge_t >= 3600):
                self._last_purge_t = now
                if self._failing_since is None:
                    self.purge()
            return self._drain()

    def flush(self) -> list[EngineEvent]:
        with self._lock:
            self._flush_now()
            return self._drain()

    def close(self) -> None:
        """A clean stop: write everything, note the monitoring gap on open incidents, end
        the session. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self.writer and self.session_id is not None:
                now = self._now_ts()
                for live in self._live.values():
                    if not live.closed:
                        self._events.append(Pending(live.id, "stopped", now, self._now_t(),
                                                     AUTO, {"gap_start": now,
                                                            "reason": "monitoring stopped"}))
                self._audit("session_ended", self.session_id, {})
                ok = self._flush_now(end_session=True)
                if not ok:
                    log.error("records could not be saved on exit: %d readings, %d incident "
                              "events lost", len(self._rows), len(self._events))
                _OPEN_SESSIONS.pop(self.session_id, None)
            self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- incidents from alarms ------------------------------------------------------------
    def _on_alarm(self, event: EngineEvent) -> None:
        station, f = event.station, event.fields
        assert station is not None
        if station in self._orphans:
            self._adopt(station, event.t)
        condition = str(f.get("condition", ""))
        high = f.get("priority") == "high" and not f.get("technical")
        iid = self._by_station.get(station)
        if event.state == "raised" and high and iid is None:
            iid = self._open(station, event.t, condition, AUTO, {"value": f.get("value")})
        if iid is None:
            return
        live = self._live[iid]
        data = {k: v for k, v in f.items() if k in ("condition", "priority", "technical",
                                                    "value", "message")}
        data["state"] = event.state
        self._events.append(Pending(iid, "alarm", self._wall(event.t), event.t,
                                     str(f.get("by") or AUTO), data))
        if event.state == "acknowledged":  # a person is on it
            live.last_person_t = event.t
        if high and event.state in ("raised", "escalated"):
            live.active_high.add(condition)
            live.last_clear_t = None
        elif event.state == "cleared":
            live.active_high.discard(condition)
            if not live.active_high:
                live.last_clear_t = event.t
        self._flush_now()

    def _check_quiet(self, now: float) -> None:
        """Close an incident nobody is working on: no high alarm and no person's action or
        acknowledgment for `quiet_s` (a response in progress is never closed under it)."""
        for live in list(self._live.values()):
            if live.closed or live.active_high or live.last_clear_t is None:
                continue
            quiet_from = max(live.last_clear_t, live.last_person_t or -math.inf)
            if now - quiet_from >= self.quiet_s:
                self._close(live, quiet_from + self.quiet_s, [NOT_RECORDED], [], AUTO,
                            "closed by oximon: no high alarm and nothing recorded for "
                            f"{self.quiet_s / 60:g} min", auto=True)

    def _open(self, station: str, t: float, reason: str, by: str,
              extra: dict[str, Any] | None = None) -> str:
        ts = self._wall(t)
        iid = datetime.fromtimestamp(ts, UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
        st = self._stations.get(station)
        data: dict[str, Any] = {"station": station, "alias": st.label if st else station,
                                "booth": st.booth if st else "", "reason": reason}
        data.update({k: v for k, v in (extra or {}).items() if v is not None})
        self._events.append(Pending(iid, "opened", ts, t, by or AUTO, data))
        self._live[iid] = Live(iid, station, ts - PRE_S, t)
        self._by_station[station] = iid
        self._audit("incident_opened", iid, {"station": station, "reason": reason}, by)
        self._out.append(EngineEvent("incident", "opened", t, station,
                                     {"id": iid, "reason": reason}))
        return iid

    def _adopt(self, station: str, t: float) -> None:
        """This run sees a station whose incident a stopped run left open: carry on with it."""
        orphan = self._orphans.pop(station)
        iid = orphan["id"]
        live = Live(iid, station, orphan["opened_ts"] - PRE_S, t, needs_copy=False,
                     last_clear_t=t)
        self._live[iid] = live
        self._by_station[station] = iid
        self._events.append(Pending(iid, "resumed", self._wall(t), t, AUTO,
                                     {"gap_end": self._wall(t), "session": self.session_id}))
        self._audit("incident_resumed", iid, {"station": station})

    def _close(self, live: Live, t: float, outcome: list[str], aftercare: list[str],
               by: str, note: str, auto: bool = False) -> None:
        ts = self._wall(t)
        live.closed, live.end_ts = True, ts
        self._by_station.pop(live.station, None)
        data = {"outcome": outcome, "aftercare": aftercare, "note": note, "auto": auto}
        self._events.append(Pending(live.id, "closed", ts, t, by or AUTO, data, seal=True))
        self._audit("incident_closed", live.id, {"outcome": outcome, "auto": auto}, by)
        self._out.append(EngineEvent("incident", "closed", t, live.station,
                                     {"id": live.id, "outcome": ",".join(outcome)}))

    # -- IncidentLog ----------------------------------------------------------------------
    def open_incident(self, station: str, t: float, reason: str = "manual", by: str = "") -> str:
        """Open by hand; returns the station's open incident if it already has one."""
        with self._lock:
            if station in self._orphans:
                self._adopt(station, t)
            iid = self._by_station.get(station)
            if iid is None:
                iid = self._open(station, t, reason or "manual", _person(by))
                self._flush_now()
            return iid

    def current_incident(self, station: str) -> str | None:
        with self._lock:
            if station in self._orphans:
                return self._orphans[station]["id"]
            return self._by_station.get(station)

    def record_action(self, incident_id: str, action: str, t: float, by: str = "",
                      details: dict[str, object] | None = None) -> None:
        if action not in ACTIONS:
            raise IncidentError(f"unknown action {action!r} (one of: "
                                f"{', '.join(sorted(ACTIONS))})")
        details = dict(details or {})
        if action == "sign" and details.get("sign") not in SIGNS:
            raise IncidentError(f"sign {details.get('sign')!r}: one of "
                                f"{', '.join(sorted(SIGNS))}")
        with self._lock:
            live = self._live.get(incident_id)
            if live is None:
                self._require(incident_id)
            data: dict[str, Any] = {"action": action, "details": _jsonable(details)}
            if live is None or live.closed:
                data["late"] = True  # entered after the incident closed
            else:
                live.last_person_t = max(t, live.last_person_t or -math.inf)
            self._events.append(Pending(incident_id, "action", self._wall(t), t,
                                         _person(by), data))
            self._audit("action_recorded", incident_id, {"action": action}, by)
            self._flush_now()

    def close_incident(self, incident_id: str, t: float, outcome: str | list[str],
                       aftercare: list[str] | None = None, by: str = "", note: str = "") -> None:
        words = _words(outcome, OUTCOMES, "outcome")
        if not words:
            raise IncidentError("outcome: give at least one of " + ", ".join(sorted(OUTCOMES)))
        care = _words(aftercare or [], AFTERCARE, "aftercare")
        with self._lock:
            live = self._live.get(incident_id)
            if live is not None and not live.closed:
                self._close(live, t, words, care, _person(by), note)
            else:
                rec = self._require(incident_id)
                if rec.status == "open" and rec.station in self._orphans:
                    self._adopt(rec.station, t)
                    self._close(self._live[incident_id], t, words, care, _person(by), note)
                elif rec.status == "closed" and rec.auto_closed:
                    self._events.append(Pending(incident_id, "closed", self._wall(t), t,
                                                 _person(by), {"outcome": words,
                                                               "aftercare": care, "note": note,
                                                               "auto": False}))
                    self._audit("incident_completed", incident_id, {"outcome": words}, by)
                else:
                    raise IncidentError(f"incident {incident_id} is already closed; "
                                        "corrections are amendments")
            self._flush_now()  # if this fails, the records alarm is up and it is retried

    # -- supervisor operations (review) ---------------------------------------------------
    def record_details(self, incident_id: str, by: str, **details: Any) -> None:
        """Signs, substance, route, responders, who completed the record, debrief..."""
        bad = set(details) - DETAIL_FIELDS
        if bad:
            raise IncidentError(f"unknown field(s) {', '.join(sorted(bad))} (allowed: "
                                f"{', '.join(sorted(DETAIL_FIELDS))})")
        _check_details(details)
        self._append_now(incident_id, "details", _jsonable(details), by, "details_recorded")

    def sign_off(self, incident_id: str, by: str, note: str = "", debrief: bool = False) -> None:
        """A supervisor's review; only of a closed incident, only by a named person."""
        if not by.strip():
            raise IncidentError("sign-off needs the reviewer's name")
        rec = self._require(incident_id)
        if rec.status != "closed":
            raise IncidentError(f"incident {incident_id} is still open; close it first")
        self._append_now(incident_id, "sign_off", {"note": note, "debrief": bool(debrief)}, by,
                         "signed_off")

    def amend(self, incident_id: str, changes: dict[str, Any], reason: str, by: str) -> None:
        """A correction: recorded as a new event; the original stays visible."""
        if not by.strip() or not reason.strip():
            raise IncidentError("an amendment needs who made it and why")
        bad = set(changes) - AMENDABLE
        if bad or not changes:
            raise IncidentError(f"cannot amend {', '.join(sorted(bad)) or 'nothing'} "
                                f"(amendable: {', '.join(sorted(AMENDABLE))})")
        changes = dict(changes)
        if "outcome" in changes:
            changes["outcome"] = _words(changes["outcome"], OUTCOMES, "outcome")
        if "aftercare" in changes:
            changes["aftercare"] = _words(changes["aftercare"], AFTERCARE, "aftercare")
        if "add_action" in changes:
            add = changes["add_action"]
            if not isinstance(add, dict) or add.get("action") not in ACTIONS \
                    or not isinstance(add.get("ts"), int | float):
                raise IncidentError("add_action: give {'action': WORD, 'ts': EPOCH_SECONDS}")
        _check_details({k: v for k, v in changes.items() if k in DETAIL_FIELDS})
        self._require(incident_id)
        self._append_now(incident_id, "amendment",
                         {"changes": _jsonable(changes), "reason": reason}, by, "amended")

    def _append_now(self, incident_id: str, kind: str, data: dict[str, Any], by: str,
                    audit: str) -> None:
        with self._lock:
            self._require(incident_id)
            self._events.append(Pending(incident_id, kind, self._now_ts(), None,
                                         _person(by), data))
            self._audit(audit, incident_id, {"kind": kind}, by)
            if not self._flush_now():
                raise StoreUnavailable(f"{self.target.label}: not saved yet (kept in memory "
                                       "and retried)")

    def _require(self, incident_id: str) -> IncidentRecord:
        if incident_id in self._live:
            pending = [p for p in self._events if p.incident_id == incident_id]
            stored = self.get_incident(incident_id, with_trace=False)
            if stored is not None:
                return stored
            if pending:
                return fold(incident_id, [StoredEvent(0, p.incident_id, p.kind, p.ts, p.t,
                                                      p.actor, p.data) for p in pending])
        rec = self.get_incident(incident_id, with_trace=False)
        if rec is None:
            raise IncidentError(f"no incident {incident_id!r}")
        return rec

    # -- queries (the review API) ---------------------------------------------------------
    @contextlib.contextmanager
    def _reading(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise _unavailable(self.target, exc) from None

    def list_incidents(self, q: query.IncidentQuery | None = None, **filters: Any
                       ) -> list[query.IncidentSummary]:
        with self._reading() as conn:
            return query.list_incidents(conn, q or query.IncidentQuery(**filters))

    def count_incidents(self, q: query.IncidentQuery | None = None, **filters: Any) -> int:
        with self._reading() as conn:
            return query.count_incidents(conn, q or query.IncidentQuery(**filters))

    def resolve_id(self, text: str) -> str | None:
        with self._reading() as conn:
            return query.resolve_id(conn, text)

    def get_incident(self, incident_id: str, with_trace: bool = True) -> IncidentRecord | None:
        with self._reading() as conn:
            return query.get_incident(conn, incident_id, with_trace)

    def iter_records(self, q: query.IncidentQuery | None = None) -> list[IncidentRecord]:
        with self._reading() as conn:
            return list(query.iter_records(conn, q or query.IncidentQuery()))

    def audit_entries(self, **filters: Any) -> list[dict[str, Any]]:
        with self._reading() as conn:
            return query.audit_entries(conn, **filters)

    def verify(self) -> tuple[int, int, list[query.Problem]]:
        with self._reading() as conn:
            return query.verify(conn)

    def readings(self, station: str, since_ts: float | None = None) -> list[tuple]:
        r = readings.c
        stmt = select(r.ts, r.spo2, r.pr, r.pi, r.flags).where(r.station == station)
        if since_ts is not None:
            stmt = stmt.where(r.ts >= since_ts)
        with self._reading() as conn:
            return [tuple(x) for x in conn.execute(stmt.order_by(r.ts))]

    def record_audit(self, action: str, target: str | None, detail: dict[str, Any],
                     by: str = "") -> None:
        """An audit entry for something done outside the store (an export, a report)."""
        with self._lock:
            self._audit(action, target, detail, by)
            self._flush_now()

    def purge(self, now_ts: float | None = None) -> int:
        """Delete readings older than the retention period (incident traces are kept)."""
        cutoff = (now_ts if now_ts is not None else self._now_ts()) - self.retention_days * 86400
        removed = 0
        try:
            with self.engine.begin() as conn:
                for (station,) in conn.execute(select(readings.c.station).distinct()).all():
                    removed += conn.execute(delete(readings).where(
                        readings.c.station == station, readings.c.ts < cutoff)).rowcount or 0
        except SQLAlchemyError as exc:
            log.warning("purge failed: %s", exc)
            return 0
        if removed:
            with self._lock:
                self._audit("readings_purged", None, {"rows": removed, "before_ts": cutoff})
                self._flush_now()
        return removed

    # -- writing --------------------------------------------------------------------------
    def _audit(self, action: str, target: str | None, detail: dict[str, Any],
               by: str = "") -> None:
        self._audits.append({"ts": self._now_ts(), "actor": _person(by) if by else AUTO,
                             "action": action, "target": target,
                             "detail": canonical(_jsonable(detail))})

    def _drain(self) -> list[EngineEvent]:
        out, self._out = self._out, []
        return out

    def _maybe_flush(self, t: float) -> None:
        mono = self._mono()
        if self._failing_since is not None:
            if mono >= self._next_retry:
                self._flush_now()
            return
        if self._last_flush_t is None:
            self._last_flush_t = t
        if t - self._last_flush_t >= self.flush_every \
                and mono - self._last_flush_mono >= self.min_flush_gap:
            self._flush_now()
            self._last_flush_t = t

    def _flush_now(self, end_session: bool = False) -> bool:
        """Write everything pending in one transaction. False (and an alarm) on failure;
        nothing pending is lost, it is retried."""
        if self.session_id is None and not (self._rows or self._events or self._audits):
            return True
        self._last_flush_mono = self._mono()
        n_rows, n_events, n_audits = len(self._rows), len(self._events), len(self._audits)
        try:
            with self.engine.begin() as conn:
                self._write(conn, n_rows, n_events, n_audits, end_session)
        except (SQLAlchemyError, OSError) as exc:
            self._write_failed(exc)
            return False
        del self._rows[:n_rows]
        del self._events[:n_events]
        del self._audits[:n_audits]
        for iid, live in list(self._live.items()):
            live.needs_copy = False
            if live.closed:
                del self._live[iid]
        if self._failing_since is not None:
            self._write_recovered(n_rows, n_events)
        return True

    def _write(self, conn: Connection, n_rows: int | None = None, n_events: int | None = None,
               n_audits: int | None = None, end_session: bool = False) -> None:
        write_batch(conn, rows=self._rows[:n_rows] if n_rows is not None else self._rows,
                    events=self._events[:n_events] if n_events is not None else self._events,
                    audits=self._audits[:n_audits] if n_audits is not None else self._audits,
                    lives=self._live, session_id=self.session_id, now=self._now_ts(),
                    end_session=end_session)

    def _write_failed(self, exc: BaseException) -> None:
        self._next_retry = self._mono() + self.retry_every
        if self._failing_since is not None:
            return
        self._failing_since = self._now_ts()
        log.warning("records are not being saved to %s: %s", self.target.label, exc)
        self._out.append(EngineEvent("alarm", "raised", self._now_t(), None, {
            "condition": RECORDS_NOT_SAVED, "priority": "medium", "technical": True,
            "message": "Records are not being saved",
            "detail": _short(exc)}))

    def _write_recovered(self, n_rows: int, n_events: int) -> None:
        since, self._failing_since = self._failing_since, None
        detail = {"since_ts": since, "readings": n_rows, "incident_events": n_events,
                  "readings_dropped": self._dropped}
        self._dropped = 0
        self._audit("records_saved_again", None, detail)
        self._out.append(EngineEvent("alarm", "cleared", self._now_t(), None, {
            "condition": RECORDS_NOT_SAVED, "priority": "medium", "technical": True,
            "message": "Records are not being saved"}))

    @property
    def failing(self) -> bool:
        """True while writes fail (the alarm is up)."""
        return self._failing_since is not None

    @property
    def backlog(self) -> int:
        return len(self._rows) + len(self._events)


def _num(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


def _person(by: str) -> str:
    """Who did it: the name given, else the operating-system user."""
    by = (by or "").strip()
    if by:
        return by[:128]
    try:
        return getpass.getuser()[:128]
    except (OSError, KeyError):
        return "unknown"


def _words(value: str | Iterable[str], allowed: frozenset[str], what: str) -> list[str]:
    words = [w.strip() for w in (value.split(",") if isinstance(value, str) else value)]
    words = [w for w in words if w]
    bad = [w for w in words if w not in allowed]
    if bad:
        raise IncidentError(f"{what} {bad[0]!r}: one of {', '.join(sorted(allowed))}")
    return words


def _check_details(details: dict[str, Any]) -> None:
    if "signs" in details:
        signs = details["signs"]
        if isinstance(signs, str) or not all(s in SIGNS for s in signs):
            raise IncidentError(f"signs: a list of {', '.join(sorted(SIGNS))}")
        details["signs"] = list(signs)
    if "responders" in details and isinstance(details["responders"], str):
        details["responders"] = [r.strip() for r in details["responders"].split(",")
                                 if r.strip()]
    for key in ("debrief_offered", "debrief_held"):
        if key in details and not isinstance(details[key], bool):
            raise IncidentError(f"{key}: true or false")


def _jsonable(value: Any) -> Any:
    """Data as plain JSON (NaN becomes null: a gap is not a number)."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _short(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0][:200]


def _unavailable(target: Target, exc: BaseException) -> StoreError:
    from oximon.store.db import unavailable

    return unavailable(target, exc)
