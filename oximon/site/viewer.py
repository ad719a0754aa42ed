"""A screen's view of the site: every booth's published state and every hub's liveness.

`read_site` is one look (what `oximon site status` prints). `SiteWatch` keeps looking, on a
thread with one PostgreSQL connection: it LISTENs for booth states (a notification carries
the state itself, so an alarm raised on a hub is on this screen as soon as it arrives),
and every `poll_s` reads the hubs' heartbeats (database clock, so no two computers' clocks
are compared) and all booth rows (a missed notification is made good within that time).
A dead hub's connection ends with it, which ends its advisory lock: a killed hub is seen
at the next poll, a hub whose computer vanished once its heartbeat is older than 5 s.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

import psycopg

from oximon.site.schema import LOCK_CLASS, STATE_CHANNEL, connect
from oximon.site.state import BoothState, HubStatus, SiteSnapshot

log = logging.getLogger(__name__)

POLL_S = 0.5

_HUBS = """
SELECT h.hub, h.host, extract(epoch FROM now() - h.beat_at)::float8, h.stopped_at IS NOT NULL,
       EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
               AND l.classid = %s AND l.objid = h.lock_key::oid AND l.objsubid = 2
               AND l.database = (SELECT oid FROM pg_database
                                 WHERE datname = current_database())),
       h.paused_by, h.pause_left_s, h.resumed_by
FROM site_hubs h
"""
_BOOTHS = "SELECT state, extract(epoch FROM now() - published_at)::float8 FROM site_booths"


def read_hubs(conn: psycopg.Connection) -> dict[str, HubStatus]:
    return {r[0]: HubStatus(r[0], r[1], float(r[2]), bool(r[4]), bool(r[3]), r[5],
                            float(r[6]), r[7]) for r in conn.execute(_HUBS, (LOCK_CLASS,))}


def read_booths(conn: psycopg.Connection) -> tuple[dict[str, BoothState], dict[str, float]]:
    states, ages = {}, {}
    for raw, age in conn.execute(_BOOTHS):
        st = BoothState.from_dict(raw if isinstance(raw, dict) else json.loads(raw))
        states[st.booth], ages[st.booth] = st, float(age)
    return states, ages


def read_site(conn: psycopg.Connection) -> SiteSnapshot:
    """One consistent look at the site (one transaction); before any hub has run (no live
    tables yet) an empty site: nothing is monitored."""
    try:
        with conn.transaction():
            hubs = read_hubs(conn)
            booths, ages = read_booths(conn)
    except psycopg.errors.UndefinedTable:
        return SiteSnapshot()
    return SiteSnapshot(booths, hubs, ages)


Listener = Callable[[str], None]  # a booth id, or "hub:NAME", changed


class SiteWatch:
    """Keeps a SiteSnapshot up to date on its own thread; `snapshot()` is a copy."""

    def __init__(self, url: str, name: str = "viewer", poll_s: float = POLL_S):
        self.url, self.name, self.poll_s = url, name, poll_s
        self._snap = SiteSnapshot()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[Listener] = []
        self.connected = False
        self.error = ""
        self.received_ts: dict[str, float] = {}  # booth -> wall time its newest state arrived

    def subscribe(self, listener: Listener) -> None:
        """Called on the watch's thread each time a booth or hub changed."""
        self._listeners.append(listener)

    def start(self) -> SiteWatch:
        self._thread = threading.Thread(target=self._run, name=f"site watch {self.name}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)

    def snapshot(self) -> SiteSnapshot:
        with self._lock:
            return SiteSnapshot(dict(self._snap.booths), dict(self._snap.hubs),
                                dict(self._snap.ages))

    # -- the thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        conn: psycopg.Connection | None = None
        next_poll = 0.0
        while not self._stop.is_set():
            try:
                if conn is None or conn.closed:
                    conn = connect(self.url, f"viewer {self.name}")
                    conn.execute(f"LISTEN {STATE_CHANNEL}")
                    self.connected, self.error = True, ""
                    next_poll = 0.0
                if time.monotonic() >= next_poll:
                    self._poll(conn)
                    next_poll = time.monotonic() + self.poll_s
                wait = max(0.01, next_poll - time.monotonic())
                for note in conn.notifies(timeout=wait):
                    if note.payload.startswith("hub:"):  # a hub started or stopped
                        next_poll = 0.0
                        break
                    self._heard(note.payload)
                    if time.monotonic() >= next_poll:
                        break
            except psycopg.Error as exc:
                self._lost(conn, exc)
                conn = None
                self._stop.wait(1.0)
        if conn is not None:
            conn.close()

    def _lost(self, conn: psycopg.Connection | None, exc: Exception) -> None:
        """The site database is gone: say so, and forget every hub (no screen may keep
        showing numbers it cannot vouch for)."""
        if conn is not None:
            conn.close()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        log.warning("site: lost the site database: %s", first)
        with self._lock:
            self.connected, self.error = False, first
            self._snap.hubs = {}
        self._tell("hub:*")

    def _poll(self, conn: psycopg.Connection) -> None:
        snap = read_site(conn)
        # Notifications that reached the connection while it waited or ran that SELECT are
        # queued by psycopg and are no newer than what it read: hear them first, in order.
        # Applied after the snapshot they were dropped as old, and a state the snapshot
        # superseded ("acknowledged by Lee", then at once "sounds again") went unheard.
        for note in conn.notifies(timeout=0):
            if not note.payload.startswith("hub:"):
                self._heard(note.payload)
        changed: list[str] = []
        with self._lock:
            old = self._snap
            for booth, st in snap.booths.items():
                if st.newer_than(old.booths.get(booth)):
                    old.booths[booth] = st
                    self.received_ts[booth] = time.time()
                    changed.append(booth)
            old.ages = snap.ages
            for hub, status in snap.hubs.items():
                before = old.hubs.get(hub)
                if before is None or before.alive != status.alive:
                    changed.append(f"hub:{hub}")
            old.hubs = snap.hubs
        for what in changed:
            self._tell(what)

    def _heard(self, payload: str) -> None:
        try:
            st = BoothState.from_dict(json.loads(payload))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("site: ignored a malformed booth state (%s)", exc)
            return
        with self._lock:
            if not st.newer_than(self._snap.booths.get(st.booth)):
                return
            self._snap.booths[st.booth] = st
            self._snap.ages[st.booth] = 0.0
            self.received_ts[st.booth] = time.time()
        self._tell(st.booth)

    def _tell(self, what: str) -> None:
        for listener in list(self._listeners):
            try:
                listener(what)
            except Exception:
                log.exception("site watch listener failed")
