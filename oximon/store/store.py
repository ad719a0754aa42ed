"""The store: readings, incidents and the audit log, behind the engine's RecordSink and the
dashboard's IncidentLog.

How it stays trustworthy without ever slowing an alarm:
- Nothing the engine calls waits for the database. Decisions (which incident an alarm
  opens, its id, the "incident opened" event) are made in memory at once; a writer thread
  writes what is pending in one transaction: readings about once a second (one per station
  per second), incident events, alarm-log and audit entries as soon as they happen
  (`synchronous=FULL` on SQLite), with the session heartbeat.
- Each incident keeps its own copy of its trace from 5 minutes before it opened until it
  closed, sealed into its hash chain every few seconds; the retention purge (on the writer
  thread, in small batches) only ever deletes from `readings`.
- If a write fails (disk full, database locked, server gone), nothing is dropped: the
  batch stays in memory, the technical alarm "Records are not being saved" goes to the
  alarm system (station "system", priority from the profile's [records_not_saved]), writes
  are retried, and the backlog is written when the database is back.
- Each run is a session with a heartbeat. A session that died (kill -9, power cut) leaves
  its open incidents to the next run, which marks them interrupted with the gap recorded.
  Recorded times continue from where the dead run stopped plus the real time that passed,
  so a gap is never negative, even for runs at `--speed`.

Episode rule (one incident per episode per station): a high, non-technical alarm "raised"
opens an incident unless the station already has one open; every alarm while it is open
joins it, so a flapping alarm never makes a duplicate. The incident stays open until a
person closes it, or until no high alarm has been active and no person has acted on it
(action, acknowledgment) for `quiet_s` (the store's `quiet_close_min` setting, default
10 min), when oximon closes it with outcome "not_recorded" (a person can still complete it).
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
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from oximon.clock import Clock
from oximon.events import EngineEvent, IncidentClosed, IncidentOpened, payload
from oximon.store import query
from oximon.store.chain import canonical
from oximon.store.db import open_engine, writing
from oximon.store.errors import IncidentError, StoreError, StoreUnavailable
from oximon.store.location import Target, note_integrity, resolve
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
from oximon.store.schema import incident_trace, incidents, readings, sessions, settings
from oximon.store.writer import Live, Pending, Row, write_batch
from oximon.types import ConditionChange, Priority, Sample, Station

log = logging.getLogger(__name__)

RECORDS_NOT_SAVED = "records_not_saved"
RECORDS_MESSAGE = "Records are not being saved"
SYSTEM = "system"  # the alarm station for what concerns the whole system (alerts' word)
AUTO = "oximon"  # the actor for what oximon does by itself
PRE_S = 300.0  # trace kept from 5 minutes before an incident opened
STALE_AFTER_S = 60.0  # a session silent this long (wall seconds) on another host is dead
SETTINGS = {  # site settings kept in the store: key -> (default, lowest, highest, meaning)
    "retention_days": (30.0, 1.0, 3650.0, "days readings are kept (incident traces are "
                       "kept with their incident)"),
    "quiet_close_min": (10.0, 1.0, 240.0, "minutes with no high alarm after which oximon "
                        "closes an incident nobody closed (outcome not recorded)"),
}

# Sessions open in this process (by id), so a crashed-but-same-pid session can be told
# from a live one when several stores share a process (tests, a review window).
_OPEN_SESSIONS: weakref.WeakValueDictionary[str, Store] = weakref.WeakValueDictionary()


def open_store(db: str | None = None, *, clock: Clock | None = None, writer: bool = False,
               create: bool | None = None, busy_timeout_s: float = 5.0, **options: Any
               ) -> Store:
    """Open (creating and migrating as needed) the store at `db` (None → the default file).

    `writer=True` for a monitoring run: starts a session and the writer thread, recovers
    incidents a crashed run left open, and purges old readings. Readers (the incidents CLI,
    review) pass False and write (sign-offs, audit entries) in the calling thread.
    Raises StoreInputError (bad database, left unchanged) or StoreUnavailable.
    """
    target = resolve(db)
    create = (writer or db is None) if create is None else create
    engine, checked = open_engine(target, create=create, busy_timeout_s=busy_timeout_s,
                                  check_pages=writer)
    return Store(engine, target, clock=clock, writer=writer, pages_checked=checked, **options)


@dataclass
class _Snapshot:
    """What one write takes: counts of each pending list (only appended to meanwhile) and
    copies of the live incidents as they were."""

    n_rows: int
    n_events: int
    n_audits: int
    n_alarms: int
    lives: dict[str, Live]
    end_session: bool


class Store:
    """SQLite or PostgreSQL incident store. See the module docstring for the rules."""

    def __init__(self, engine: Engine, target: Target, *, clock: Clock | None = None,
                 writer: bool = False, retention_days: float | None = None,
                 quiet_s: float | None = None, flush_every: float = 1.0,
                 min_flush_gap: float = 0.2, retry_every: float = 5.0,
                 max_backlog: int = 500_000, stale_after_s: float = STALE_AFTER_S,
                 seal_every_s: float = 5.0, purge_batch: int = 5000,
                 pages_checked: bool = False, threaded: bool | None = None,
                 monotonic: Callable[[], float] = time.monotonic):
        self.engine = engine
        self._wengine = writing(engine)
        self.target = target
        self.clock = clock
        self.writer = writer
        self._fixed = {k: v for k, v in (("retention_days", retention_days),
                                         ("quiet_close_min",
                                          None if quiet_s is None else quiet_s / 60))
                       if v is not None}
        self.retention_days = retention_days if retention_days is not None else 30.0
        self.quiet_s = quiet_s if quiet_s is not None else 600.0
        self.flush_every = flush_every
        self.min_flush_gap = min_flush_gap
        self.retry_every = retry_every
        self.max_backlog = max_backlog
        self.stale_after_s = stale_after_s
        self.seal_every_s = seal_every_s
        self.purge_batch = purge_batch
        self.alarm_priority = Priority.MEDIUM
        self._pages_checked = pages_checked
        self._mono = monotonic
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stations: dict[str, Station] = {}
        self._rows: list[Row] = []
        self._last_sec: dict[str, int] = {}
        self._last_ts: dict[str, float] = {}
        self._events: list[Pending] = []
        self._audits: list[dict[str, Any]] = []
        self._alarms: list[dict[str, Any]] = []
        self._live: dict[str, Live] = {}  # by incident id
        self._by_station: dict[str, str] = {}  # station -> open incident id
        self._orphans: dict[str, dict[str, Any]] = {}  # station -> incident left by a dead run
        self._out: list[EngineEvent | ConditionChange] = []
        self._offset = 0.0  # added to the clock's wall time (see _start_session)
        self._session_ts = -math.inf  # when this run's session began (recorded time)
        self._last_flush_t: float | None = None
        self._last_flush_mono = -math.inf
        self._failing_since: float | None = None
        self._fail_detail = ""
        self._alarm_up = False
        self._next_retry = 0.0
        self._dropped = 0
        self._last_purge_t: float | None = None
        self._purge: dict[str, Any] | None = None  # a purge under way (writer thread)
        self._requested = 0  # write requests made ...
        self._done = 0  # ... and how many of them a finished write attempt covered
        self._busy = False
        self._end_session = False
        self._stop = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._threaded = writer if threaded is None else threaded
        self.session_id: str | None = None
        if writer:
            self._load_settings()
            self._start_session()
        if self._threaded:
            self._thread = threading.Thread(target=self._writer_loop, daemon=True,
                                            name=f"oximon store writer {self.target.label}")
            self._thread.start()
        if writer:
            self._begin_purge()

    # -- set-up ---------------------------------------------------------------------------
    def add_station(self, station: Station) -> None:
        """Tell the store a station's alias/booth (what incident records show)."""
        self._stations[station.id] = station

    def apply_profile(self, profile: Any) -> None:
        """The priority of "Records are not being saved" ([records_not_saved] priority)."""
        try:
            self.alarm_priority = profile["records_not_saved"]["priority"]
        except KeyError:
            self.alarm_priority = Priority.MEDIUM

    def _start_session(self) -> None:
        self.session_id = secrets.token_hex(8)
        try:
            with self._wengine.begin() as conn:
                self._offset = self._time_offset(conn)
                now, real = self._now_ts(), time.time()
                self._session_ts = now
                conn.execute(insert(sessions).values(
                    id=self.session_id, host=socket.gethostname()[:255], pid=os.getpid(),
                    started_ts=now, heartbeat_ts=now, heartbeat_real_ts=real))
                self._recover(conn, now)
                write_batch(conn, rows=[], events=self._events, audits=self._audits,
                            alarms=[], lives={}, session_id=self.session_id, now=now,
                            real_now=real)
        except SQLAlchemyError as exc:
            raise _unavailable(self.target, exc) from None
        self._events.clear()
        self._audits.clear()
        _OPEN_SESSIONS[self.session_id] = self
        self._audit("session_started", self.session_id,
                    {"host": socket.gethostname(), "pid": os.getpid(),
                     "time_offset_s": round(self._offset, 3)})

    def _time_offset(self, conn: Connection) -> float:
        """Recorded times must run on from the last run on this machine: when its stamps are
        ahead of this clock (it ran at `--speed`, or the clock stepped back), this run's
        stamps start where it stopped plus the real time that has passed since."""
        s = sessions.c
        last = conn.execute(select(s.heartbeat_ts, s.heartbeat_real_ts)
                            .where(s.host == socket.gethostname()[:255])
                            .order_by(s.heartbeat_ts.desc()).limit(1)).first()
        if last is None:
            return 0.0
        real_gap = max(0.0, time.time() - (last.heartbeat_real_ts or time.time()))
        behind = last.heartbeat_ts + real_gap - self._clock_wall()
        return behind if behind > 1.0 else 0.0

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
        real = row.heartbeat_real_ts if row.heartbeat_real_ts is not None else row.heartbeat_ts
        return time.time() - real > self.stale_after_s

    def _recover(self, conn: Connection, now: float) -> None:
        """Close out dead sessions; their open incidents are marked interrupted (the trace
        they left is sealed first) and wait for this run to see their station again."""
        s = sessions.c
        ended = {r.id for r in conn.execute(select(s.id).where(s.ended_ts.is_not(None)))}
        sealed_now: set[str] = set()  # incidents whose remaining trace this run seals
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
                seals = fold(inc.id, query.events_of(conn, inc.id)).seals
                sealed_now.add(inc.id)
                self._events.append(Pending(
                    inc.id, "trace_sealed", now, None, AUTO, {"by_session": self.session_id},
                    seal="segment", seal_from=seals[-1]["to_ts"] if seals else None))
                self._events.append(Pending(inc.id, "interrupted", now, None, AUTO, {
                    "gap_start": last if last is not None else row.heartbeat_ts,
                    "real_start": row.heartbeat_real_ts,
                    "session": row.id, "reason": "oximon stopped unexpectedly "
                    "(crash, power cut or killed); no monitoring in this gap"}))
        for inc in conn.execute(select(incidents.c.id, incidents.c.station, incidents.c.opened_ts,
                                       incidents.c.session_id)
                                .where(incidents.c.status == "open")).all():
            if inc.session_id in ended or inc.session_id is None:
                last = conn.execute(select(func.max(incident_trace.c.ts)).where(
                    incident_trace.c.incident_id == inc.id)).scalar()
                if inc.id in sealed_now:
                    sealed = last
                else:
                    seals = fold(inc.id, query.events_of(conn, inc.id)).seals
                    sealed = seals[-1]["to_ts"] if seals else None
                self._orphans[inc.station] = {"id": inc.id, "opened_ts": inc.opened_ts,
                                              "last_ts": last, "sealed_to": sealed}

    # -- settings -------------------------------------------------------------------------
    def settings(self) -> dict[str, float]:
        """The site settings kept in the store (defaults where none was set)."""
        values = {k: spec[0] for k, spec in SETTINGS.items()}
        with self._reading() as conn:
            for row in conn.execute(select(settings)):
                if row.key in values:
                    with contextlib.suppress(ValueError):
                        values[row.key] = float(row.value)
        return values

    def change_settings(self, by: str, **values: float) -> dict[str, float]:
        """Change site settings (audited); a running monitor takes them within the hour."""
        for key, value in values.items():
            if key not in SETTINGS:
                raise IncidentError(f"unknown setting {key!r} (one of "
                                    f"{', '.join(sorted(SETTINGS))})")
            low, high = SETTINGS[key][1:3]
            if not (isinstance(value, int | float) and low <= value <= high):
                raise IncidentError(f"{key}: give a number from {low:g} to {high:g}")
        before = self.settings()
        now, who = self._now_ts(), _person(by)
        try:
            with self._wengine.begin() as conn:
                for key, value in values.items():
                    conn.execute(delete(settings).where(settings.c.key == key))
                    conn.execute(insert(settings).values(key=key, value=repr(float(value)),
                                                         updated_ts=now, updated_by=who))
        except SQLAlchemyError as exc:
            raise _unavailable(self.target, exc) from None
        self.record_audit("settings_changed", None, {
            k: {"from": before[k], "to": float(v)} for k, v in values.items()}, by)
        self._apply_settings({**before, **{k: float(v) for k, v in values.items()}})
        return self.settings()

    def _load_settings(self) -> None:
        try:
            self._apply_settings(self.settings())
        except StoreError as exc:
            log.warning("store settings not read: %s", exc)

    def _apply_settings(self, values: dict[str, float]) -> None:
        values = {**values, **self._fixed}
        self.retention_days = values["retention_days"]
        self.quiet_s = values["quiet_close_min"] * 60.0

    # -- time -----------------------------------------------------------------------------
    def _now_t(self) -> float:
        return self.clock.now() if self.clock is not None else 0.0

    def _clock_wall(self) -> float:
        if self.clock is not None:
            return self.clock.wall().timestamp()
        return time.time()

    def _now_ts(self) -> float:
        return round(self._clock_wall() + self._offset, 3)

    def _wall(self, t: float) -> float:
        """Engine seconds → UTC epoch seconds, through the clock's wall time."""
        if self.clock is None:
            return round(time.time() + self._offset, 3)
        return round(self.clock.wall().timestamp() - (self.clock.now() - t) + self._offset, 3)

    # -- RecordSink (called in the engine's loop: memory only, never the database) ---------
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
            self._maybe_flush(sample.t)

    def on_event(self, event: EngineEvent) -> list[EngineEvent | ConditionChange]:
        with self._lock:
            if event.kind in ("alarm", "audio"):
                self._log_alarm(event)
            if event.kind == "alarm" and event.station not in (None, SYSTEM):
                self._on_alarm(event)
            self._check_quiet(event.t)
            self._maybe_flush(event.t)
            return self._drain()

    def tick(self, now: float) -> list[EngineEvent | ConditionChange]:
        """Time-driven work: quiet incidents close, batches are handed to the writer,
        failed writes retry, old readings are purged (hourly, on the writer thread)."""
        with self._lock:
            self._check_quiet(now)
            self._maybe_flush(now)
            if self.writer and (self._last_purge_t is None or now - self._last_purge_t >= 3600):
                if self._last_purge_t is not None:
                    self._begin_purge()
                self._last_purge_t = now
            return self._drain()

    def flush(self, timeout: float = 10.0) -> list[EngineEvent | ConditionChange]:
        """Write everything pending now and wait for it (at the end of a run)."""
        with self._lock:
            self._add_seals(self._now_t(), force=True)
            self._request(retry=True)
        self.settle(timeout)
        with self._lock:
            return self._drain()

    def close(self, timeout: float = 15.0) -> None:
        """A clean stop: write everything, note the monitoring gap on open incidents, end
        the session, stop the writer thread. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self.writer and self.session_id is not None:
                now = self._now_ts()
                for live in self._live.values():
                    if not live.closed:
                        self._events.append(Pending(live.id, "trace_sealed", now, None, AUTO,
                                                    {}, seal="segment"))
                        self._events.append(Pending(live.id, "stopped", now, self._now_t(),
                                                    AUTO, {"gap_start": now,
                                                           "real_start": time.time(),
                                                           "reason": "monitoring stopped"}))
                self._audit("session_ended", self.session_id, {})
                self._end_session = True
            self._request(retry=True)
        ok = self.settle(timeout)
        self._stop_writer(timeout)
        with self._lock:
            if self.writer and (not ok or self._pending_count()):
                log.error("records could not be saved on exit: %d readings, %d incident "
                          "events lost", len(self._rows), len(self._events))
            if self.session_id is not None:
                _OPEN_SESSIONS.pop(self.session_id, None)
        self.engine.dispose()
        if self.writer and ok and self.target.path is not None:
            note_integrity(self.target.path, self._pages_checked)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the alarm log --------------------------------------------------------------------
    def _log_alarm(self, event: EngineEvent) -> None:
        """Every alarm state change and audio pause, of every station and of the system."""
        f = payload(event)
        rest = {k: v for k, v in f.items() if k not in ("condition", "priority", "technical",
                                                         "by")}
        self._alarms.append({
            "ts": self._wall(event.t), "t": event.t, "kind": event.kind,
            "station": event.station, "condition": _text(f.get("condition"), 64),
            "state": str(event.state)[:32], "priority": _text(f.get("priority"), 16),
            "technical": bool(f.get("technical")), "actor": str(f.get("by") or "")[:128],
            "data": canonical(_jsonable(rest)), "session_id": self.session_id})
        if event.kind == "alarm":
            self._request()  # an alarm is a record: written now, not with the next batch

    # -- incidents from alarms ------------------------------------------------------------
    def _on_alarm(self, event: EngineEvent) -> None:
        station, f = event.station, payload(event)
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
        self._request()

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
        # 48 random bits after the second: ids never collide (and the database refuses a
        # second "opened" record for an id, so a collision could never merge two incidents).
        iid = datetime.fromtimestamp(ts, UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(6)
        st = self._stations.get(station)
        data: dict[str, Any] = {"station": station, "alias": st.label if st else station,
                                "booth": st.booth if st else "", "reason": reason}
        data.update({k: v for k, v in (extra or {}).items() if v is not None})
        self._events.append(Pending(iid, "opened", ts, t, by or AUTO, data))
        self._live[iid] = Live(iid, station, ts - PRE_S, t)
        self._by_station[station] = iid
        self._audit("incident_opened", iid, {"station": station, "reason": reason}, by)
        self._out.append(IncidentOpened(t=t, station=station, id=iid, reason=reason))
        return iid

    def _adopt(self, station: str, t: float) -> None:
        """This run sees a station whose incident a stopped run left open: carry on with it."""
        orphan = self._orphans.pop(station)
        iid = orphan["id"]
        live = Live(iid, station, orphan["opened_ts"] - PRE_S, t, needs_copy=False,
                    last_clear_t=t, sealed_to=orphan["sealed_to"])
        self._live[iid] = live
        self._by_station[station] = iid
        # The gap ends no earlier than this run began (a replay's first sample may be
        # stamped before it), and this run's rows follow the stopped run's, never among them.
        end = max(self._wall(t), self._session_ts)
        if orphan["last_ts"] is not None:
            self._last_ts[station] = max(self._last_ts.get(station, -math.inf),
                                         orphan["last_ts"])
        self._events.append(Pending(iid, "resumed", end, t, AUTO,
                                    {"gap_end": end, "real_ts": round(time.time(), 3),
                                     "session": self.session_id}))
        self._audit("incident_resumed", iid, {"station": station})

    def _close(self, live: Live, t: float, outcome: list[str], aftercare: list[str],
               by: str, note: str, auto: bool = False) -> None:
        ts = self._wall(t)
        live.closed, live.end_ts = True, ts
        self._by_station.pop(live.station, None)
        data = {"outcome": outcome, "aftercare": aftercare, "note": note, "auto": auto}
        self._events.append(Pending(live.id, "closed", ts, t, by or AUTO, data, seal="full"))
        self._audit("incident_closed", live.id, {"outcome": outcome, "auto": auto}, by)
        self._out.append(IncidentClosed(t=t, station=live.station, id=live.id,
                                        outcome=",".join(outcome)))

    # -- IncidentLog ----------------------------------------------------------------------
    def open_incident(self, station: str, t: float, reason: str = "manual", by: str = "") -> str:
        """Open by hand; returns the station's open incident if it already has one."""
        with self._lock:
            if station in self._orphans:
                self._adopt(station, t)
            iid = self._by_station.get(station)
            if iid is None:
                iid = self._open(station, t, reason or "manual", _person(by))
                self._request()
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
            self._request()

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
            self._request()  # if it fails, the records alarm goes up and it is retried

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
        self._write_and_wait()

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
        """A plain (deferred) read; this store's own writes handed to the writer are
        waited for first, so a caller reads what it just recorded."""
        if self._thread is not None and threading.current_thread() is not self._thread:
            self.settle()
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

    def station_aliases(self) -> list[tuple[str, str]]:
        with self._reading() as conn:
            return query.station_aliases(conn)

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

    def alarm_history(self, since_ts: float | None = None, until_ts: float | None = None,
                      stations: list[str | None] | None = None,
                      limit: int | None = None) -> list[dict[str, Any]]:
        """Every alarm state change kept (who, when, station, condition, priority)."""
        with self._reading() as conn:
            return query.alarm_history(conn, since_ts, until_ts, stations, limit)

    def incident_alarms(self, rec: IncidentRecord) -> list[dict[str, Any]]:
        """The alarm log over an incident's period (its trace: 5 min before it opened until
        it closed, or until now), for its station and for the system."""
        until = rec.closed_ts if rec.closed_ts is not None else None
        return self.alarm_history(rec.opened_ts - PRE_S, until, [rec.station, SYSTEM, None])

    def verify(self) -> tuple[int, int, list[query.Problem]]:
        with self._reading() as conn:
            return query.verify(conn)

    def chain_heads(self) -> dict[str, tuple[int, str]]:
        with self._reading() as conn:
            return query.chain_heads(conn)

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
        self._write_and_wait()

    # -- the retention purge --------------------------------------------------------------
    def purge(self, now_ts: float | None = None) -> int:
        """Delete readings older than the retention period (incident traces are kept), in
        small transactions. Returns how many were deleted."""
        cutoff = (now_ts if now_ts is not None else self._now_ts()) - self.retention_days * 86400
        job: dict[str, Any] = {"cutoff": cutoff, "station": None, "removed": 0}
        while self._purge_step(job):
            pass
        return job["removed"]

    def _begin_purge(self) -> None:
        """Hand a purge to the writer thread (it runs between writes, batch by batch)."""
        with self._lock:
            if self._purge is None and self._threaded:
                self._purge = {"cutoff": None, "station": None, "removed": 0}
                self._cond.notify_all()

    def _purge_step(self, job: dict[str, Any]) -> bool:
        """One small transaction of a purge: up to `purge_batch` rows of one station.
        False when the purge is over (done, or the database failed)."""
        r = readings.c
        try:
            with self._wengine.begin() as conn:
                if job["cutoff"] is None:  # a new hour: take the site's settings again
                    self._load_settings_from(conn)
                    job["cutoff"] = self._now_ts() - self.retention_days * 86400
                station = job["station"]
                if station is None:  # the next station: an index seek, not a scan
                    stmt = select(func.min(r.station))
                    if job.get("last") is not None:
                        stmt = stmt.where(r.station > job["last"])
                    station = conn.execute(stmt).scalar()
                    if station is None:
                        self._purged(job)
                        return False
                    job["station"] = station
                bound = conn.execute(
                    select(r.ts).where(r.station == station, r.ts < job["cutoff"])
                    .order_by(r.ts).offset(self.purge_batch - 1).limit(1)).scalar()
                cond = r.ts <= bound if bound is not None else r.ts < job["cutoff"]
                job["removed"] += conn.execute(delete(readings).where(
                    r.station == station, cond)).rowcount or 0
                if bound is None:  # this station is done
                    job["last"], job["station"] = station, None
        except SQLAlchemyError as exc:
            log.warning("purge stopped: %s", _short(exc))
            return False
        return True

    def _load_settings_from(self, conn: Connection) -> None:
        values = {k: spec[0] for k, spec in SETTINGS.items()}
        for row in conn.execute(select(settings)):
            if row.key in values:
                with contextlib.suppress(ValueError):
                    values[row.key] = float(row.value)
        self._apply_settings(values)

    def _purged(self, job: dict[str, Any]) -> None:
        if job["removed"]:
            with self._lock:
                self._audit("readings_purged", None, {"rows": job["removed"],
                                                      "before_ts": job["cutoff"]})
                self._request()

    # -- writing --------------------------------------------------------------------------
    def _audit(self, action: str, target: str | None, detail: dict[str, Any],
               by: str = "") -> None:
        self._audits.append({"ts": self._now_ts(), "actor": _person(by) if by else AUTO,
                             "action": action, "target": target,
                             "detail": canonical(_jsonable(detail))})

    def _drain(self) -> list[EngineEvent | ConditionChange]:
        self._sync_alarm()
        out, self._out = self._out, []
        return out

    def _sync_alarm(self) -> None:
        """Tell the alarm system when writing starts or stops failing (a ConditionChange:
        the alarm manager raises, sounds, escalates and logs it like any other)."""
        failing = self._failing_since is not None
        if failing == self._alarm_up:
            return
        self._alarm_up = failing
        message = RECORDS_MESSAGE + (f" ({self._fail_detail})" if failing and
                                     self._fail_detail else "")
        self._out.append(ConditionChange(SYSTEM, RECORDS_NOT_SAVED, failing, self._now_t(),
                                         self.alarm_priority, technical=True,
                                         message=message))

    def _maybe_flush(self, t: float) -> None:
        mono = self._mono()
        if self._failing_since is not None:
            if mono >= self._next_retry:
                self._next_retry = mono + self.retry_every
                self._request(retry=True)
            return
        if self._last_flush_t is None:
            self._last_flush_t = t
        if t - self._last_flush_t >= self.flush_every \
                and mono - self._last_flush_mono >= self.min_flush_gap:
            self._add_seals(t)
            self._request()
            self._last_flush_t = t
            self._last_flush_mono = mono
        elif len(self._rows) > self.max_backlog and not self._busy:
            drop = len(self._rows) - self.max_backlog
            del self._rows[:drop]
            self._dropped += drop

    def _add_seals(self, t: float, force: bool = False) -> None:
        """Every few seconds, each open incident's new trace rows are sealed into its chain
        (so an open or interrupted incident's trace is tamper-evident too)."""
        for live in self._live.values():
            if live.closed:
                continue
            if force or live.last_seal_t is None or t - live.last_seal_t >= self.seal_every_s:
                live.last_seal_t = t
                self._events.append(Pending(live.id, "trace_sealed", self._wall(t), t, AUTO,
                                            {}, seal="segment"))

    def _pending_count(self) -> int:
        return len(self._rows) + len(self._events) + len(self._audits) + len(self._alarms)

    def _request(self, retry: bool = False) -> None:
        """Ask for a write of everything pending (the writer thread does it; a reader store
        does it here). While writes fail, only the retry timer asks."""
        if self._failing_since is not None and not retry:
            return
        self._requested += 1
        if self._thread is None:
            self._write_pending()
        else:
            self._cond.notify_all()

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until the writes asked for so far were attempted. True if nothing failed."""
        if self._thread is None or threading.current_thread() is self._thread:
            return self._failing_since is None
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._requested
            while self._done < target and self._thread.is_alive():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return self._failing_since is None

    def _write_and_wait(self) -> None:
        """For a person's action that must be known saved (sign-off, amendment, audit)."""
        with self._lock:
            self._requested += 1
            if self._thread is None:
                self._write_pending()
            else:
                self._cond.notify_all()
        if not self.settle() or self._failing_since is not None:
            raise StoreUnavailable(f"{self.target.label}: not saved yet (kept in memory "
                                   "and retried)")

    def _writer_loop(self) -> None:
        """The writer thread: writes what is asked for, and purges between writes."""
        while True:
            with self._cond:
                while self._done >= self._requested and not self._stop and (
                        self._purge is None or self._failing_since is not None):
                    self._cond.wait(1.0)
                if self._done >= self._requested and self._stop:
                    return
                write = self._done < self._requested
                job = self._purge
            if write:
                self._write_pending()
            elif job is not None:
                more = self._purge_step(job)
                if not more:
                    with self._lock:
                        self._purge = None

    def _stop_writer(self, timeout: float) -> None:
        with self._cond:
            self._stop = True
            self._purge = None
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("the store's writer did not finish within %.0f s", timeout)

    def _write_pending(self) -> None:
        """One write attempt of everything pending (on the writer thread, or on a reader
        store's caller). The lock is held only to take and settle the snapshot."""
        with self._cond:
            target = self._requested
            snap = _Snapshot(len(self._rows), len(self._events), len(self._audits),
                             len(self._alarms), {k: replace(v) for k, v in self._live.items()},
                             self._end_session)
            rows, events = self._rows[:snap.n_rows], self._events[:snap.n_events]
            audits, alarms = self._audits[:snap.n_audits], self._alarms[:snap.n_alarms]
            self._busy = True
        error: BaseException | None = None
        sealed: dict[str, float] = {}
        if self.session_id is not None or rows or events or audits or alarms:
            try:
                with self._wengine.begin() as conn:
                    sealed = write_batch(conn, rows=rows, events=events, audits=audits,
                                         alarms=alarms, lives=snap.lives,
                                         session_id=self.session_id, now=self._now_ts(),
                                         real_now=time.time(), end_session=snap.end_session)
            except (SQLAlchemyError, OSError) as exc:
                error = exc
        with self._cond:
            self._busy = False
            if error is None:
                self._written(snap, sealed)
            else:
                self._write_failed(error)
            self._done = max(self._done, target)
            self._cond.notify_all()

    def _written(self, snap: _Snapshot, sealed: dict[str, float]) -> None:
        del self._rows[:snap.n_rows]
        del self._events[:snap.n_events]
        del self._audits[:snap.n_audits]
        del self._alarms[:snap.n_alarms]
        for iid, copy in snap.lives.items():
            live = self._live.get(iid)
            if live is None:
                continue
            if copy.needs_copy:
                live.needs_copy = False
            if iid in sealed:
                live.sealed_to = sealed[iid]
            if copy.closed:
                del self._live[iid]
        if self._failing_since is not None:
            self._write_recovered(snap.n_rows, snap.n_events)

    def _write_failed(self, exc: BaseException) -> None:
        self._next_retry = self._mono() + self.retry_every
        if len(self._rows) > self.max_backlog:
            drop = len(self._rows) - self.max_backlog
            del self._rows[:drop]
            self._dropped += drop
        if self._failing_since is not None:
            return
        self._failing_since = self._now_ts()
        self._fail_detail = _short(exc)
        log.warning("records are not being saved to %s: %s", self.target.label, exc)

    def _write_recovered(self, n_rows: int, n_events: int) -> None:
        since, self._failing_since = self._failing_since, None
        detail = {"since_ts": since, "readings": n_rows, "incident_events": n_events,
                  "readings_dropped": self._dropped, "detail": self._fail_detail}
        self._dropped = 0
        self._fail_detail = ""
        self._audit("records_saved_again", None, detail)
        self._requested += 1  # that entry is written by the next pass

    @property
    def failing(self) -> bool:
        """True while writes fail (the alarm is up)."""
        return self._failing_since is not None

    @property
    def saving_ok(self) -> bool:
        """What the dashboard's status bar says: records are being written (False while
        writes fail and the backlog waits in memory, or once the store is closed)."""
        return self._failing_since is None and not self._closed

    @property
    def backlog(self) -> int:
        return len(self._rows) + len(self._events)


def _text(value: Any, size: int) -> str | None:
    return None if value is None else str(value)[:size]


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
