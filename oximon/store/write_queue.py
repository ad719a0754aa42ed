"""What waits to be written, and the thread that writes it.

Nothing the engine calls waits for the database: its calls append to the pending lists
here (under one lock) and ask for a write; the writer thread takes a snapshot, writes it in
one transaction (`writer.write_batch`) without the lock, and removes what was written. A
failed write keeps everything (readings beyond `max_backlog` are dropped, oldest first,
and counted) and is retried every `retry_every` seconds; the first write that succeeds
again leaves an audit entry saying what waited. Between writes the thread runs one step of
background work at a time (the retention purge). A reader store has no thread: a write
happens in the caller."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from oximon.store.chain import canonical
from oximon.store.db import WRITE_DEADLINE_S, break_stalled, first_line
from oximon.store.errors import StoreError, StoreUnavailable
from oximon.store.event_intake import AUTO
from oximon.store.journal import Backlog, Journal
from oximon.store.leases import renew_rows
from oximon.store.timebase import Timebase
from oximon.store.validation import jsonable, person
from oximon.store.writer import Live, Pending, Row, write_batch

log = logging.getLogger(__name__)

Step = Callable[[], bool]  # one step of background work; False when it is over


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


def short(exc: BaseException) -> str:
    """The first line of a database error, for a message or an audit entry."""
    return first_line(exc)[:200]


class WriteQueue:
    """The pending lists, the live incidents the writer keeps traces for, and the writer."""

    def __init__(self, wengine: Engine, label: str, time_: Timebase, *, threaded: bool,
                 flush_every: float, min_flush_gap: float, retry_every: float,
                 max_backlog: int, monotonic: Callable[[], float]):
        self.wengine = wengine
        self.label = label
        self.time = time_
        self.flush_every = flush_every
        self.min_flush_gap = min_flush_gap
        self.retry_every = retry_every
        self.max_backlog = max_backlog
        self._mono = monotonic
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rows: list[Row] = []
        self.events: list[Pending] = []
        self.audits: list[dict[str, Any]] = []
        self.alarms: list[dict[str, Any]] = []
        self.live: dict[str, Live] = {}  # by incident id
        self.session_id: str | None = None
        self.lease_owner: str | None = None  # booth leases this run renews with each write
        self.lease_session: str | None = None  # ...those its own session claimed
        self.journal: Journal | None = None  # where a backlog that cannot be written goes
        self.journal_error = ""  # why even the journal could not be written
        # Run before a write while the store is not reachable yet (a run that started
        # without storage): opens the database and starts the session, or raises.
        self.before_write: Callable[[], None] | None = None
        self.end_session = False  # the next write ends the session
        self.failing_since: float | None = None
        self.fail_detail = ""
        self._next_retry = 0.0
        self._dropped = 0
        self._last_flush_t: float | None = None
        self._last_flush_mono = -math.inf
        self.background: Step | None = None  # work for the thread between writes
        self.requested = 0  # write requests made ...
        self.done = 0  # ... and how many of them a finished write attempt covered
        self._busy = False
        self._write_started: float | None = None  # monotonic start of the write in flight
        self.write_deadline_s = WRITE_DEADLINE_S
        self.stop = False
        self.thread: threading.Thread | None = None
        if threaded:
            self.thread = threading.Thread(target=self._loop, daemon=True,
                                           name=f"oximon store writer {label}")

    def start(self) -> None:
        if self.thread is not None:
            self.thread.start()

    # -- what is pending ------------------------------------------------------------------
    def audit(self, action: str, target: str | None, detail: dict[str, Any],
              by: str = "") -> None:
        self.audits.append(self.audit_entry(action, target, detail, by))

    def audit_entry(self, action: str, target: str | None, detail: dict[str, Any],
                    by: str = "") -> dict[str, Any]:
        return {"ts": self.time.now_ts(), "actor": person(by) if by else AUTO,
                "action": action, "target": target, "detail": canonical(jsonable(detail))}

    def backlog(self) -> Backlog:
        """A copy of everything pending (under the lock), for the journal."""
        with self.lock:
            return Backlog(self.label, list(self.rows), list(self.events), list(self.audits),
                           list(self.alarms), {k: replace(v) for k, v in self.live.items()})

    def save_journal(self, backlog: Backlog | None = None, final: bool = False) -> bool:
        """Write the backlog to the journal; False if that failed too (said in the log)."""
        if self.journal is None:
            return False
        backlog = backlog if backlog is not None else self.backlog()
        try:
            self.journal.save(backlog)
        except OSError as exc:
            self.journal_error = f"{self.journal.path}: {exc.strerror or exc}"
            log.error("the recovery journal could not be written (%s): %s",
                      self.journal_error, backlog.counts())
            return False
        self.journal.final = self.journal.final or final
        return True

    def pending_count(self) -> int:
        return len(self.rows) + len(self.events) + len(self.audits) + len(self.alarms)

    def _trim(self) -> None:
        """Readings beyond the backlog limit are dropped, oldest first, and counted."""
        if len(self.rows) > self.max_backlog:
            drop = len(self.rows) - self.max_backlog
            del self.rows[:drop]
            self._dropped += drop

    def batch_due(self, t: float) -> bool:
        """Engine time `t` has come: True when the next batch should be handed over (the
        caller adds its seals and asks). While writes fail, the retry timer asks here."""
        mono = self._mono()
        self._check_deadline(mono)
        if self.failing_since is not None:
            if mono >= self._next_retry:
                self._next_retry = mono + self.retry_every
                self.request(retry=True)
            return False
        if self._last_flush_t is None:
            self._last_flush_t = t
        if t - self._last_flush_t >= self.flush_every \
                and mono - self._last_flush_mono >= self.min_flush_gap:
            self._last_flush_t = t
            self._last_flush_mono = mono
            return True
        if not self._busy:
            self._trim()
        return False

    def _check_deadline(self, mono: float) -> None:
        """The writer's watchdog (run on the engine's thread, which never waits for the
        database): a write still in flight after `write_deadline_s` raises the records
        alarm now, and its stuck connection is broken so the writer can retry."""
        started = self._write_started
        if started is None or mono - started < self.write_deadline_s:
            return
        if self.failing_since is None:
            self.failing_since = self.time.now_ts()
            self.fail_detail = (f"the database did not answer within "
                                f"{self.write_deadline_s:g} s")
            self._next_retry = mono + self.retry_every
            log.warning("records are not being saved to %s: %s", self.label,
                        self.fail_detail)
        if self.wengine.dialect.name == "postgresql":
            break_stalled(self.wengine)

    # -- asking for writes ----------------------------------------------------------------
    def request(self, retry: bool = False) -> None:
        """Ask for a write of everything pending (the writer thread does it; a reader store
        does it here). While writes fail, only the retry timer asks."""
        if self.failing_since is not None and not retry:
            return
        self._ask()

    def _ask(self) -> None:
        self.requested += 1
        if self.thread is None:
            self.write_pending()
        else:
            self.cond.notify_all()

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until the writes asked for so far were attempted. True if nothing failed."""
        if self.thread is None or threading.current_thread() is self.thread:
            return self.failing_since is None
        deadline = time.monotonic() + timeout
        with self.cond:
            target = self.requested
            while self.done < target and self.thread.is_alive():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return self.failing_since is None

    def write_and_wait(self) -> None:
        """For a person's action that must be known saved (sign-off, amendment, audit)."""
        with self.lock:
            self._ask()
        if not self.settle() or self.failing_since is not None:
            raise StoreUnavailable(f"{self.label}: not saved yet (kept in memory "
                                   "and retried)")

    def start_background(self, step: Step) -> None:
        """Hand work to the writer thread (it runs between writes, step by step); ignored
        while some is under way or when there is no thread."""
        with self.lock:
            if self.background is None and self.thread is not None:
                self.background = step
                self.cond.notify_all()

    def in_writer_thread(self) -> bool:
        return threading.current_thread() is self.thread

    # -- the writer -----------------------------------------------------------------------
    def _loop(self) -> None:
        """The writer thread: writes what is asked for, and runs background work between."""
        while True:
            with self.cond:
                while self.done >= self.requested and not self.stop and (
                        self.background is None or self.failing_since is not None):
                    self.cond.wait(1.0)
                if self.done >= self.requested and self.stop:
                    return
                write = self.done < self.requested
                step = self.background
            if write:
                self.write_pending()
            elif step is not None and not step():
                with self.lock:
                    self.background = None

    def stop_writer(self, timeout: float) -> None:
        with self.cond:
            self.stop = True
            self.background = None
            self.cond.notify_all()
        if self.thread is not None:
            self.thread.join(timeout)
            if self.thread.is_alive():
                log.error("the store's writer did not finish within %.0f s", timeout)

    def write_pending(self) -> None:
        """One write attempt of everything pending (on the writer thread, or on a reader
        store's caller). The lock is held only to take and settle the snapshot."""
        with self.cond:
            target = self.requested
            snap = _Snapshot(len(self.rows), len(self.events), len(self.audits),
                             len(self.alarms), {k: replace(v) for k, v in self.live.items()},
                             self.end_session)
            rows, events = self.rows[:snap.n_rows], self.events[:snap.n_events]
            audits, alarms = self.audits[:snap.n_audits], self.alarms[:snap.n_alarms]
            self._busy = True
            self._write_started = self._mono()
        error: BaseException | None = None
        sealed: dict[str, float] = {}
        if self.session_id is not None or rows or events or audits or alarms:
            try:
                if self.before_write is not None:
                    self.before_write()  # raises while the database stays unreachable
                    self.before_write = None
                with self.wengine.begin() as conn:
                    sealed = write_batch(conn, rows=rows, events=events, audits=audits,
                                         alarms=alarms, lives=snap.lives,
                                         session_id=self.session_id, now=self.time.now_ts(),
                                         real_now=time.time(), end_session=snap.end_session)
                    if self.lease_owner is not None:
                        renew_rows(conn, self.lease_owner, time.time(),
                                   self.lease_session)
            except (SQLAlchemyError, OSError, StoreError) as exc:
                error = exc
        backlog = None
        with self.cond:
            self._busy = False
            self._write_started = None
            if error is None:
                self._written(snap, sealed)
            else:
                self._write_failed(error)
                backlog = self.backlog() if self.journal is not None else None
            self.done = max(self.done, target)
            self.cond.notify_all()
        if backlog is not None:  # outside the lock: the engine never waits for the disk
            self.save_journal(backlog)

    def _written(self, snap: _Snapshot, sealed: dict[str, float]) -> None:
        del self.rows[:snap.n_rows]
        del self.events[:snap.n_events]
        del self.audits[:snap.n_audits]
        del self.alarms[:snap.n_alarms]
        for iid, copy in snap.lives.items():
            live = self.live.get(iid)
            if live is None:
                continue
            if copy.needs_copy:
                live.needs_copy = False
            if iid in sealed:
                live.sealed_to = sealed[iid]
            if copy.closed:
                del self.live[iid]
        if self.failing_since is not None:
            self._write_recovered(snap.n_rows, snap.n_events)
            if self.journal is not None:
                self.journal.discard()  # this write held everything the journal did

    def _write_failed(self, exc: BaseException) -> None:
        self._next_retry = self._mono() + self.retry_every
        self._trim()
        if self.failing_since is not None:
            return
        self.failing_since = self.time.now_ts()
        self.fail_detail = short(exc)
        log.warning("records are not being saved to %s: %s", self.label, exc)

    def _write_recovered(self, n_rows: int, n_events: int) -> None:
        since, self.failing_since = self.failing_since, None
        detail = {"since_ts": since, "readings": n_rows, "incident_events": n_events,
                  "readings_dropped": self._dropped, "detail": self.fail_detail}
        self._dropped = 0
        self.fail_detail = ""
        self.audit("records_saved_again", None, detail)
        self.requested += 1  # that entry is written by the next pass
