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

The parts, one job each: `write_queue` (pending lists and the writer thread), `writer` (one
write transaction), `sessions` (start, heartbeat, finding dead runs), `open_incidents`
(the incidents this run keeps), `episode` (the rule, pure), `event_intake` (the only reader
of engine events), `reading_gate` (which samples become readings), `site_settings`,
`purge`, `validation`, `timebase`. This module is the facade the engine, CLI and UI use.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.exc import SQLAlchemyError

from oximon.clock import Clock
from oximon.events import EngineEvent
from oximon.safe_text import neutral
from oximon.store import episode, journal, sessions, site_settings, validation
from oximon.store.chain import canonical
from oximon.store.db import bare_engine, open_engine, unavailable, writing
from oximon.store.errors import IncidentError, StoreError, StoreUnavailable
from oximon.store.event_intake import AUTO, SYSTEM, AlarmLogEntry, read_event
from oximon.store.leases import DEFAULT_TTL_S, BoothLeases
from oximon.store.lifecycle import StoreLifecycle
from oximon.store.location import Target, note_integrity, resolve
from oximon.store.open_incidents import PRE_S, OpenIncidents
from oximon.store.purge import PurgeJob, purge_step
from oximon.store.reading_gate import ReadingGate
from oximon.store.reads import StoreReads
from oximon.store.record import IncidentRecord, StoredEvent, fold
from oximon.store.schema import access_log
from oximon.store.site_settings import SETTINGS
from oximon.store.timebase import Timebase
from oximon.store.validation import jsonable, person
from oximon.store.write_queue import WriteQueue, short
from oximon.store.writer import Pending
from oximon.types import ConditionChange, Priority, Sample, Station

log = logging.getLogger(__name__)

RECORDS_NOT_SAVED = "records_not_saved"
READ_ACTIONS = frozenset({"viewed", "exported", "export_failed"})


def is_read(action: str) -> bool:
    """A reading of records (show, export, report), for the access log."""
    return action in READ_ACTIONS or action.endswith((".viewed", ".exported",
                                                      ".export_failed", ".printed"))
RECORDS_MESSAGE = "Records are not being saved"
STALE_AFTER_S = sessions.STALE_AFTER_S
__all__ = ["AUTO", "PRE_S", "RECORDS_NOT_SAVED", "SETTINGS", "SYSTEM", "Store", "open_store"]


def open_store(db: str | None = None, *, clock: Clock | None = None, writer: bool = False,
               create: bool | None = None, busy_timeout_s: float = 5.0,
               start_offline: bool = False, **options: Any) -> Store:
    """Open (creating and migrating as needed) the store at `db` (None → the default file).

    `writer=True` for a monitoring run: starts a session and the writer thread, recovers
    incidents a crashed run left open, and purges old readings. Readers (the incidents CLI,
    review) pass False and write (sign-offs, audit entries) in the calling thread.
    Raises StoreInputError (bad database, left unchanged) or StoreUnavailable — except,
    with `start_offline`, a monitoring run whose database cannot be reached: it starts
    anyway with the records alarm up, keeps records in memory and in the recovery journal,
    and opens the database when it comes back.
    """
    target = resolve(db)
    create = (writer or db is None) if create is None else create
    try:
        engine, checked = open_engine(target, create=create, busy_timeout_s=busy_timeout_s,
                                      check_pages=writer)
    except StoreUnavailable as exc:
        if not (writer and start_offline):
            raise
        return Store(bare_engine(target, busy_timeout_s), target, clock=clock, writer=True,
                     offline=exc, busy_timeout_s=busy_timeout_s, **options)
    return Store(engine, target, clock=clock, writer=writer, pages_checked=checked,
                 busy_timeout_s=busy_timeout_s, **options)


class Store(StoreReads, StoreLifecycle):
    """SQLite or PostgreSQL incident store. See the module docstring for the rules."""

    def __init__(self, engine: Engine, target: Target, *, clock: Clock | None = None,
                 writer: bool = False, retention_days: float | None = None,
                 quiet_s: float | None = None, flush_every: float = 1.0,
                 min_flush_gap: float = 0.2, retry_every: float = 5.0,
                 max_backlog: int = 500_000, stale_after_s: float = STALE_AFTER_S,
                 seal_every_s: float = 5.0, purge_batch: int = 5000,
                 pages_checked: bool = False, threaded: bool | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 resume_gap_s: float = 0.0, offline: StoreUnavailable | None = None,
                 busy_timeout_s: float = 5.0, simulated: bool = False,
                 real_time: Callable[[], float] = time.time):
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
        self.stale_after_s = stale_after_s
        self.purge_batch = purge_batch
        self.alarm_priority = Priority.MEDIUM
        self._pages_checked = pages_checked
        self._time = Timebase(clock, real_time, simulated)
        self._queue = WriteQueue(
            self._wengine, target.label, self._time,
            threaded=writer if threaded is None else threaded, flush_every=flush_every,
            min_flush_gap=min_flush_gap, retry_every=retry_every, max_backlog=max_backlog,
            monotonic=monotonic)
        self._lock = self._queue.lock
        self._gate = ReadingGate()
        self._book = OpenIncidents(self._queue, self._time, self._gate, seal_every_s)
        self._alarm_up = False
        self._last_purge_t: float | None = None
        self._closed = False
        self.leases = BoothLeases(self._wengine, target)
        self.lease_ttl_s = DEFAULT_TTL_S
        self._booths: list[str] = []
        self._lease_name: str | None = None  # the owner others see (a hub), if named
        self.resume_gap_s = resume_gap_s
        self._busy_timeout_s = busy_timeout_s
        self._offline_start = offline is not None
        self.replayed: list[str] = []  # journals of earlier runs written at the start
        self.unsaved = ""  # set by close(): where records not written are kept
        self._queue.journal = journal.Journal(target.label) if writer else None
        if writer and offline is not None:  # monitoring starts anyway (see open_store)
            self._queue.session_id = secrets.token_hex(8)
            self._queue.failing_since = self._time.now_ts()
            self._queue.fail_detail = str(offline)
            self._queue.before_write = self._reconnect
        elif writer:
            self._load_settings()
            self._start_session()
        self._queue.start()
        if writer:
            self._begin_purge()

    @property
    def session_id(self) -> str | None:
        return self._queue.session_id

    # -- set-up ---------------------------------------------------------------------------
    def add_station(self, station: Station) -> None:
        """Tell the store a station's alias/booth (what incident records show). Control
        characters never reach a record (the site file refuses them; this is the backstop)."""
        self._book.stations[station.id] = replace(
            station, alias=neutral(station.alias), booth=neutral(station.booth))

    def apply_profile(self, profile: Any) -> None:
        """The priority of "Records are not being saved" ([records_not_saved] priority)."""
        try:
            self.alarm_priority = profile["records_not_saved"]["priority"]
        except KeyError:
            self.alarm_priority = Priority.MEDIUM
        # How long after a stop the next run may carry on with an open incident.
        with contextlib.suppress(KeyError, TypeError, ValueError):
            self.resume_gap_s = float(profile["incidents"]["resume_gap_s"])

    # -- settings -------------------------------------------------------------------------
    def change_settings(self, by: str, **values: float) -> dict[str, float]:
        """Change site settings (audited); a running monitor takes them within the hour."""
        site_settings.check(values)
        before = self.settings()
        try:
            with self._wengine.begin() as conn:
                site_settings.write(conn, values, self._time.now_ts(), person(by))
        except SQLAlchemyError as exc:
            raise unavailable(self.target, exc) from None
        self.record_audit("settings_changed", None, {
            k: {"from": before[k], "to": float(v)} for k, v in values.items()}, by)
        self._apply_settings({**before, **{k: float(v) for k, v in values.items()}})
        return self.settings()

    # -- time (tests reach these to turn engine seconds into recorded ones) ---------------
    def _now_ts(self) -> float:
        return self._time.now_ts()

    def _wall(self, t: float) -> float:  # engine seconds → recorded (timebase.py)
        return self._time.wall(t)

    # -- RecordSink (called in the engine's loop: memory only, never the database) ---------
    def on_sample(self, station: str, sample: Sample) -> None:
        with self._lock:
            self._book.seen(station, sample.t)
            row = self._gate.take(station, sample, self._time.wall(sample.t))
            if row is not None:
                self._queue.rows.append(row)
                self._maybe_flush(sample.t)

    def on_event(self, event: EngineEvent) -> list[EngineEvent | ConditionChange]:
        intake = read_event(event)
        with self._lock:
            if intake.log is not None:
                self._log_alarm(intake.log)
            if intake.change is not None:
                self._book.on_alarm(intake.change)
            self._book.check_quiet(intake.t, self.quiet_s)
            self._maybe_flush(intake.t)
            return self._drain()

    def tick(self, now: float) -> list[EngineEvent | ConditionChange]:
        """Time-driven work: quiet incidents close, batches are handed to the writer,
        failed writes retry, old readings are purged (hourly, on the writer thread)."""
        with self._lock:
            self._book.check_quiet(now, self.quiet_s)
            self._maybe_flush(now)
            if self.writer and (self._last_purge_t is None or now - self._last_purge_t >= 3600):
                if self._last_purge_t is not None:
                    self._begin_purge()
                self._last_purge_t = now
            return self._drain()

    def flush(self, timeout: float = 10.0) -> list[EngineEvent | ConditionChange]:
        """Write everything pending now and wait for it (at the end of a run)."""
        with self._lock:
            self._book.add_seals(self._time.now_t(), force=True)
            self._queue.request(retry=True)
        self.settle(timeout)
        with self._lock:
            return self._drain()

    def close(self, timeout: float = 15.0, reason: str = "") -> None:
        """A clean stop: write everything, note the monitoring gap on open incidents, end
        the session, stop the writer thread. Safe to call twice. `reason`: what asked for
        the stop (a signal name), for the audit log."""
        q = self._queue
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self.writer and q.session_id is not None:
                self._book.note_stop(self.resume_gap_s)
                q.audit("session_ended", q.session_id, {"reason": reason} if reason else {})
                q.end_session = True
            q.request(retry=True)
        ok = self.settle(timeout)
        q.stop_writer(timeout)
        if q.lease_owner is not None and ok:
            try:
                self.leases.release(q.lease_owner, q.lease_session)
            except StoreError as exc:  # it goes stale within the lease's ttl
                log.warning("booth leases not released: %s", exc)
        with self._lock:
            if self.writer and (not ok or q.pending_count()):
                self._keep_unsaved()
            if q.session_id is not None:
                sessions.OPEN_SESSIONS.pop(q.session_id, None)
        if q.journal is not None:
            q.journal.close()
        self.engine.dispose()
        if self.writer and ok and self.target.path is not None:
            note_integrity(self.target.path, self._pages_checked)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _log_alarm(self, entry: AlarmLogEntry) -> None:
        """Every alarm state change and audio pause, of every station and of the system."""
        self._queue.alarms.append({
            "ts": self._time.wall(entry.t), "t": entry.t, "kind": entry.kind,
            "station": entry.station, "condition": entry.condition, "state": entry.state,
            "priority": entry.priority, "technical": entry.technical, "actor": entry.actor,
            "data": canonical(jsonable(entry.rest)), "session_id": self.session_id})
        if entry.write_now:
            self._queue.request()  # an alarm is a record: written now, not with the next batch

    def _maybe_flush(self, t: float) -> None:
        if self._queue.batch_due(t):
            self._book.add_seals(t)
            self._queue.request()

    def _drain(self) -> list[EngineEvent | ConditionChange]:
        """What to report to the engine: incidents opened/closed, and the records alarm
        (a ConditionChange the alarm manager raises, sounds and logs like any other) when
        writing starts or stops failing."""
        q = self._queue
        failing = q.failing_since is not None
        if failing != self._alarm_up:
            self._alarm_up = failing
            message = RECORDS_MESSAGE + (f" ({q.fail_detail})" if failing and
                                         q.fail_detail else "")
            self._book.out.append(ConditionChange(
                SYSTEM, RECORDS_NOT_SAVED, failing, self._time.now_t(), self.alarm_priority,
                technical=True, message=message))
        out, self._book.out = self._book.out, []
        return out

    # -- IncidentLog ----------------------------------------------------------------------
    def open_incident(self, station: str, t: float, reason: str = "manual", by: str = "") -> str:
        """Open by hand; returns the station's open incident if it already has one."""
        with self._lock:
            self._book.seen(station, t)
            iid = self._book.by_station.get(station)
            if iid is None:
                iid = self._book.open(station, t, reason or "manual", person(by))
                self._queue.request()
            return iid

    def current_incident(self, station: str) -> str | None:
        with self._lock:
            return self._book.current(station)

    def record_action(self, incident_id: str, action: str, t: float, by: str = "",
                      details: dict[str, object] | None = None) -> None:
        details = dict(details or {})
        validation.check_action(action, details)
        with self._lock:
            live = self._book.live.get(incident_id)
            if live is None:
                self._require(incident_id)
            data: dict[str, Any] = {"action": action, "details": jsonable(details)}
            if live is None or live.closed:
                data["late"] = True  # entered after the incident closed
            else:
                live.episode = episode.after_action(live.episode, t)
            self._queue.events.append(Pending(incident_id, "action", self._time.wall(t), t,
                                              person(by), data))
            self._queue.audit("action_recorded", incident_id, {"action": action}, by)
            self._queue.request()

    def close_incident(self, incident_id: str, t: float, outcome: str | list[str],
                       aftercare: list[str] | None = None, by: str = "", note: str = "") -> None:
        words, care = validation.closing_words(outcome, aftercare)
        validation.typed(note, "note", multiline=True)
        with self._lock:
            live = self._book.live.get(incident_id)
            if live is not None and not live.closed:
                self._book.close(live, t, words, care, person(by), note)
            else:
                rec = self._require(incident_id)
                if rec.status == "open" and rec.station in self._book.orphans:
                    self._book.seen(rec.station, t)
                    self._book.close(self._book.live[incident_id], t, words, care,
                                     person(by), note)
                elif rec.status == "closed" and rec.auto_closed:
                    self._queue.events.append(Pending(
                        incident_id, "closed", self._time.wall(t), t, person(by),
                        {"outcome": words, "aftercare": care, "note": note, "auto": False}))
                    self._queue.audit("incident_completed", incident_id, {"outcome": words}, by)
                else:
                    raise IncidentError(f"incident {incident_id} is already closed; "
                                        "corrections are amendments")
            self._queue.request()  # if it fails, the records alarm goes up and it is retried

    # -- supervisor operations (review) ---------------------------------------------------
    def record_details(self, incident_id: str, by: str, **details: Any) -> None:
        """Signs, substance, route, responders, who completed the record, debrief..."""
        validation.detail_fields(details)
        self._append_now(incident_id, "details", jsonable(details), by, "details_recorded")

    def sign_off(self, incident_id: str, by: str, note: str = "", debrief: bool = False) -> None:
        """A supervisor's review; only of a closed incident, only by a named person."""
        if not by.strip():
            raise IncidentError("sign-off needs the reviewer's name")
        validation.typed(note, "note", multiline=True)
        rec = self._require(incident_id)
        if rec.status != "closed":
            raise IncidentError(f"incident {incident_id} is still open; close it first")
        self._append_now(incident_id, "sign_off", {"note": note, "debrief": bool(debrief)}, by,
                         "signed_off")

    def amend(self, incident_id: str, changes: dict[str, Any], reason: str, by: str) -> None:
        """A correction: recorded as a new event; the original stays visible."""
        changes = validation.amendment(changes, reason, by)
        self._require(incident_id)
        self._append_now(incident_id, "amendment",
                         {"changes": jsonable(changes), "reason": reason}, by, "amended")

    def _append_now(self, incident_id: str, kind: str, data: dict[str, Any], by: str,
                    audit: str) -> None:
        with self._lock:
            self._require(incident_id)
            self._queue.events.append(Pending(incident_id, kind, self._time.now_ts(), None,
                                              person(by), data))
            self._queue.audit(audit, incident_id, {"kind": kind}, by)
        self._queue.write_and_wait()

    def _require(self, incident_id: str) -> IncidentRecord:
        if incident_id in self._book.live:
            pending = [p for p in self._queue.events if p.incident_id == incident_id]
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

    def record_audit(self, action: str, target: str | None, detail: dict[str, Any],
                     by: str = "") -> None:
        """An audit entry for something done outside the store (a setting, a review). A
        read (a record shown, an export, a report) goes to the access log instead: reading
        never moves the change chain's heads a supervisor notes."""
        if is_read(action):
            self.record_access(action, target, detail, by)
            return
        with self._lock:
            self._queue.audit(action, target, detail, by)
        self._queue.write_and_wait()

    def record_access(self, action: str, target: str | None, detail: dict[str, Any],
                      by: str = "") -> None:
        """Who read or exported what (written now, in the caller's thread; off the chain)."""
        entry = {"ts": round(time.time(), 3), "actor": person(by), "action": action,
                 "target": target, "detail": canonical(jsonable(detail))}
        try:
            with self._wengine.begin() as conn:
                conn.execute(insert(access_log).values(entry))
        except SQLAlchemyError as exc:
            raise unavailable(self.target, exc) from None

    # -- the retention purge --------------------------------------------------------------
    def purge(self, now_ts: float | None = None) -> int:
        """Delete readings older than the retention period (incident traces are kept), in
        small transactions. Returns how many were deleted."""
        now = now_ts if now_ts is not None else self._time.now_ts()
        job = PurgeJob(cutoff=now - self.retention_days * 86400)
        while self._purge_step(job):
            pass
        return job.removed

    def _begin_purge(self) -> None:
        """Hand a purge to the writer thread (it runs between writes, batch by batch)."""
        job = PurgeJob(cutoff=None)
        self._queue.start_background(lambda: self._purge_step(job))

    def _purge_step(self, job: PurgeJob) -> bool:
        """One small transaction of a purge. False when it is over (done, or failed)."""
        try:
            with self._wengine.begin() as conn:
                if job.cutoff is None:  # a new hour: take the site's settings again
                    self._apply_settings(site_settings.read(conn))
                    job.cutoff = self._time.now_ts() - self.retention_days * 86400
                if not purge_step(conn, job, self.purge_batch):
                    self._purged(job)
                    return False
        except SQLAlchemyError as exc:
            log.warning("purge stopped: %s", short(exc))
            return False
        return True

    def _purged(self, job: PurgeJob) -> None:
        if job.removed:
            with self._lock:
                self._queue.audit("readings_purged", None, {"rows": job.removed,
                                                            "before_ts": job.cutoff})
                self._queue.request()

    # -- the writer's state ---------------------------------------------------------------
    @property
    def failing(self) -> bool:
        """True while writes fail (the alarm is up)."""
        return self._queue.failing_since is not None

    @property
    def saving_ok(self) -> bool:
        """What the dashboard's status bar says: records are being written (False while
        writes fail and the backlog waits in memory, or once the store is closed)."""
        return self._queue.failing_since is None and not self._closed

    @property
    def failure(self) -> str:
        """Why records are not being saved ("" while they are)."""
        return self._queue.fail_detail if self._queue.failing_since is not None else ""

    @property
    def backlog(self) -> int:
        return len(self._queue.rows) + len(self._queue.events)
