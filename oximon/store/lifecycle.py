"""How a monitoring store's run begins and ends: its session (and what stopped or dead runs
left: their journals, their open incidents), its booth leases, reconnecting when it started
without storage, the site settings it follows, and keeping what it could not write.
A part of `Store` (a mixin: the facade stays small), working on the store's own state."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from oximon.store import journal, sessions
from oximon.store.db import open_engine, unavailable, writing
from oximon.store.errors import StoreError
from oximon.store.leases import BoothLeases
from oximon.store.location import Target
from oximon.store.open_incidents import OpenIncidents
from oximon.store.timebase import Timebase
from oximon.store.write_queue import WriteQueue
from oximon.store.writer import write_batch

log = logging.getLogger("oximon.store.store")


class StoreLifecycle:
    """Session start, journals, leases, reconnect, settings, unsaved records."""

    engine: Engine
    _wengine: Engine
    target: Target
    leases: BoothLeases
    lease_ttl_s: float
    stale_after_s: float
    resume_gap_s: float
    retention_days: float
    quiet_s: float
    replayed: list[str]
    unsaved: str
    _queue: WriteQueue
    _time: Timebase
    _book: OpenIncidents
    _lock: threading.RLock
    _booths: list[str]
    _lease_name: str | None
    _busy_timeout_s: float
    _offline_start: bool
    _fixed: dict[str, float]

    def settings(self) -> dict[str, float]:
        raise NotImplementedError  # StoreReads

    def _start_session(self, session_id: str | None = None) -> None:
        """Begin this run's session; write what journals of stopped runs kept; close out
        dead sessions and take over their incidents. Raises StoreUnavailable."""
        q = self._queue
        session_id = session_id or secrets.token_hex(8)
        q.session_id = session_id
        self._replay_journals()
        audits: list[dict[str, Any]] = []
        try:
            with self._wengine.begin() as conn:
                now, real = self._time.now_ts(), time.time()
                sessions.insert_session(conn, session_id, now, real, self._time.timeline)
                found = sessions.recover(
                    conn, session_id, now, self.stale_after_s,
                    lambda *a: audits.append(q.audit_entry(*a)), self.resume_gap_s)
                write_batch(conn, rows=[], events=found.events, audits=audits,
                            alarms=[], lives={}, session_id=session_id, now=now,
                            real_now=real)
        except SQLAlchemyError as exc:
            raise unavailable(self.target, exc) from None
        with self._lock:
            self._book.session_ts = now
            self._book.orphans = found.orphans
            self._book.interrupted = found.interrupted
            sessions.OPEN_SESSIONS[session_id] = self
            q.audit("session_started", session_id,
                    {"host": socket.gethostname(), "pid": os.getpid(),
                     **(self._time.timeline.marker() or {}),
                     **({"started_without_storage": self._offline_start}
                        if self._offline_start else {})})

    def _replay_journals(self) -> None:
        """Write what earlier runs could not (their recovery journals), one journal per
        transaction, each audited, each removed once written."""
        for path in journal.leftovers(self.target.label):
            try:
                kept = journal.load(path)
            except (OSError, ValueError, TypeError, KeyError) as exc:
                log.error("recovery journal %s cannot be read (%s); left in place", path, exc)
                continue
            entry = self._queue.audit_entry("journal_written", None, {
                "journal": str(path), "readings": len(kept.rows),
                "incident_events": len(kept.events), "audits": len(kept.audits),
                "alarm_log": len(kept.alarms)})
            try:
                with self._wengine.begin() as conn:
                    write_batch(conn, rows=kept.rows, events=kept.events,
                                audits=[*kept.audits, entry], alarms=kept.alarms,
                                lives=kept.lives, session_id=None, now=self._time.now_ts(),
                                real_now=time.time())
            except SQLAlchemyError as exc:
                raise unavailable(self.target, exc) from None
            path.unlink(missing_ok=True)
            self.replayed.append(f"{path}: {kept.counts()}")
            log.warning("wrote the records an earlier run kept in %s (%s)", path,
                        kept.counts())

    def _reconnect(self) -> None:
        """A run that started without storage: open the database now (on the writer
        thread, before a write), start the session, claim the booths. Raises while the
        database stays unreachable."""
        engine, _checked = open_engine(self.target, create=True,
                                      busy_timeout_s=self._busy_timeout_s, check_pages=False)
        old = self.engine
        self.engine, self._wengine = engine, writing(engine)
        self._queue.wengine = self._wengine
        self.leases = BoothLeases(self._wengine, self.target)
        old.dispose()
        self._load_settings()
        self._start_session(self._queue.session_id)
        if self._booths:
            try:
                self.claim_booths(self._booths, self._lease_name)
            except StoreError as exc:  # monitoring goes on; the conflict is on record
                log.error("booths not claimed after the store came back: %s", exc)
                with self._lock:
                    self._queue.audit("lease.conflict", None, {"detail": str(exc)})

    def claim_booths(self, booths: list[str], owner: str | None = None) -> None:
        """Claim this run's booth ids (all or nothing; LeaseConflict if another live
        session holds one); the writer renews the claim with every write and a clean stop
        releases it. `owner`: the name others see (a site hub's); default this run's
        `host:pid:session`."""
        self._booths, self._lease_name = list(booths), owner
        if self._queue.before_write is not None:
            return  # no database yet: claimed when it comes back (see _reconnect)
        sid = self._queue.session_id or secrets.token_hex(8)
        owner = owner or f"{sessions.host()}:{os.getpid()}:{sid}"
        self.leases.claim(booths, owner, sessions.host(), sid, ttl_s=self.lease_ttl_s)
        self._queue.lease_owner, self._queue.lease_session = owner, sid

    # -- settings ----
    def _load_settings(self) -> None:
        try:
            self._apply_settings(self.settings())
        except StoreError as exc:
            log.warning("store settings not read: %s", exc)

    def _apply_settings(self, values: dict[str, float]) -> None:
        values = {**values, **self._fixed}
        self.retention_days = values["retention_days"]
        self.quiet_s = values["quiet_close_min"] * 60.0

    def _keep_unsaved(self) -> None:
        """At the end of a run with records still unwritten: into the journal, and
        `unsaved` says where (the CLI exits 1 with it)."""
        q = self._queue
        backlog = q.backlog()
        if q.save_journal(backlog, final=True):
            assert q.journal is not None
            self.unsaved = (f"{backlog.counts()} could not be written to {self.target.label}"
                            f" ({q.fail_detail or 'no answer'}); they are kept in "
                            f"{q.journal.path} and the next run on this database writes them")
        else:
            self.unsaved = (f"{backlog.counts()} could not be written to {self.target.label}"
                            f" nor to the recovery journal ({q.journal_error}): they are LOST")
        log.info("%s", self.unsaved)  # the CLI says it (exit 1); this is for log files
