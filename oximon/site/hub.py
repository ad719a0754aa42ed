"""A hub's link to the site: publishes its booths and heartbeat, applies commands.

The engine's loop must never wait for the network, so the link has two threads of its
own, each with one PostgreSQL connection:
- the publisher takes the newest state of each booth from a queue (alarm changes are
  queued at once, numbers once a second), upserts `site_booths` and notifies every screen
  in one transaction, and beats `site_hubs` every second. Its connection holds the hub's
  advisory lock, so the hub is "connected" exactly as long as that connection lives.
- the command listener LISTENs for commands, takes its hub's pending ones and has the
  engine apply them (`apply` runs on the engine's loop and returns what happened).

A lost database connection is retried every second; nothing here can stop monitoring.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import queue
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psycopg

from oximon.alarms import AlarmRequestError, AlarmView
from oximon.engine import Engine, StationLive
from oximon.site import commands
from oximon.site.commands import Command
from oximon.site.incidents import HubIncidents, Response
from oximon.site.schema import (
    COMMAND_CHANNEL,
    LOCK_CLASS,
    STATE_CHANNEL,
    connect,
    ensure_schema,
    lock_key,
)
from oximon.site.state import BoothState, RemoteAlarm, number
from oximon.store import StoreInputError

log = logging.getLogger(__name__)

BEAT_S = 1.0  # heartbeat (and numbers) once a second
RETRY_S = 1.0


class HubAlreadyRunning(StoreInputError):
    """Another process holds this hub's name (exit 2)."""


@dataclass(frozen=True)
class Audio:
    """The hub's audio pause, as screens show it."""

    paused_by: str = ""
    left_s: float = 0.0
    resumed_by: str = ""  # who ended the last pause by hand ("": none, or it ran out)


class HubLink:
    def __init__(self, url: str, hub: str, host: str, booths: Sequence[str],
                 apply: Callable[[Command], str]):
        self.url, self.hub, self.host = url, hub, host
        self.booths = list(booths)
        self.apply = apply
        self.run_id = secrets.token_hex(6)
        self._seq = itertools.count(1)
        self._queue: queue.Queue[list[BoothState] | Audio] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pub: psycopg.Connection | None = None
        self.published = 0
        self.commands_applied = 0

    # -- the engine's side (its loop) ------------------------------------------------------
    def next_seq(self) -> int:
        return next(self._seq)

    def publish(self, states: list[BoothState]) -> None:
        self._queue.put(states)

    def audio(self, audio: Audio) -> None:
        self._queue.put(audio)

    def state_of(self, live: StationLive, alarms: Sequence[AlarmView], now: float,
                 label: str, responses: Sequence[Response] = ()) -> BoothState:
        """A booth's state to publish (`now`: engine time, for ages)."""
        since = None if live.last_valid_t is None else round(max(0.0, now - live.last_valid_t), 3)
        return BoothState(
            live.station.id, self.hub, self.run_id, self.next_seq(), label, live.state,
            live.state_detail, number(live.spo2), number(live.pr), since,
            tuple(RemoteAlarm.of(a, now) for a in alarms if a.station == live.station.id),
            time.time(), tuple((r.words(), round(max(0.0, now - r.t), 1)) for r in responses))

    # -- start and stop ------------------------------------------------------------------------
    def start(self) -> None:
        """Connect, make the live tables, take the hub's name (HubAlreadyRunning when another
        process has it) and start both threads. Raises psycopg.Error when the database
        cannot be reached."""
        self._pub = self._claim()
        for name, target in (("publisher", self._publish_loop), ("commands", self._command_loop)):
            t = threading.Thread(target=target, name=f"site {name} {self.hub}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Publish what is queued, say the hub stopped (screens show its booths as not
        monitored at once, not after the silence delay) and close."""
        self._stop.set()
        self._queue.put([])
        for t in self._threads:
            t.join(timeout_s)
        conn = self._pub
        if conn is not None and not conn.closed:
            try:
                conn.execute("UPDATE site_hubs SET stopped_at = now() WHERE hub = %s AND run = %s",
                             (self.hub, self.run_id))
                conn.execute("SELECT pg_notify(%s, %s)", (STATE_CHANNEL, f"hub:{self.hub}"))
            except psycopg.Error as exc:
                log.warning("site: could not say hub %s stopped: %s", self.hub, exc)
            conn.close()

    def _claim(self) -> psycopg.Connection:
        conn = connect(self.url, f"hub {self.hub}")
        try:
            ensure_schema(conn)
            got = conn.execute("SELECT pg_try_advisory_lock(%s, %s)",
                               (LOCK_CLASS, lock_key(self.hub))).fetchone()
            if not got or not got[0]:
                row = conn.execute("SELECT host, pid FROM site_hubs WHERE hub = %s",
                                   (self.hub,)).fetchone()
                where = f" on host {row[0]} (pid {row[1]})" if row else ""
                raise HubAlreadyRunning(f"hub {self.hub} is already running{where}")
            conn.execute(
                "INSERT INTO site_hubs (hub, host, pid, run, lock_key, booths, started_at, "
                "beat_at) VALUES (%s, %s, %s, %s, %s, %s, now(), now()) ON CONFLICT (hub) DO "
                "UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, run = EXCLUDED.run, "
                "lock_key = EXCLUDED.lock_key, booths = EXCLUDED.booths, started_at = now(), "
                "beat_at = now(), stopped_at = NULL, paused_by = '', pause_left_s = 0, "
                "resumed_by = ''",
                (self.hub, self.host, os.getpid(), self.run_id, lock_key(self.hub),
                 json.dumps(self.booths)))
            conn.execute("SELECT pg_notify(%s, %s)", (STATE_CHANNEL, f"hub:{self.hub}"))
        except BaseException:
            conn.close()
            raise
        return conn

    # -- the publisher thread -------------------------------------------------------------------
    def _publish_loop(self) -> None:
        next_beat = 0.0
        audio = Audio()
        while True:
            pending: dict[str, BoothState] = {}
            timeout = max(0.0, next_beat - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
                while True:  # take all that is queued: only the newest of a booth is sent
                    if isinstance(item, Audio):
                        audio = item
                    else:
                        pending.update((s.booth, s) for s in item)
                    item = self._queue.get_nowait()
            except queue.Empty:
                pass
            now = time.monotonic()
            beat = now >= next_beat
            if not self._send(list(pending.values()), audio if beat else None):
                self._stop.wait(RETRY_S)
            elif beat:
                next_beat = now + BEAT_S
            if self._stop.is_set() and self._queue.empty():
                return

    def _send(self, states: list[BoothState], audio: Audio | None) -> bool:
        try:
            conn = self._pub
            if conn is None or conn.closed:
                conn = self._pub = self._claim()
            with conn.transaction():
                for st in states:
                    payload = json.dumps(st.to_dict(), separators=(",", ":"))
                    conn.execute(
                        "INSERT INTO site_booths (booth, hub, state, published_at) VALUES "
                        "(%s, %s, %s, now()) ON CONFLICT (booth) DO UPDATE SET hub = "
                        "EXCLUDED.hub, state = EXCLUDED.state, published_at = now()",
                        (st.booth, self.hub, payload))
                    conn.execute("SELECT pg_notify(%s, %s)", (STATE_CHANNEL, payload))
                if audio is not None:
                    conn.execute("UPDATE site_hubs SET beat_at = now(), paused_by = %s, "
                                 "pause_left_s = %s, resumed_by = %s WHERE hub = %s AND "
                                 "run = %s", (audio.paused_by, audio.left_s,
                                              audio.resumed_by, self.hub, self.run_id))
            self.published += len(states)
            return True
        except HubAlreadyRunning as exc:  # another process took the name while we were away
            log.error("site: %s; this hub stops publishing", exc)
            self._stop.set()
            return False
        except psycopg.Error as exc:
            log.warning("site: cannot publish hub %s (%s); retrying", self.hub,
                        str(exc).strip().splitlines()[0] if str(exc) else type(exc).__name__)
            if self._pub is not None:
                self._pub.close()
            self._pub = None
            return False

    # -- the command thread ---------------------------------------------------------------------
    def _command_loop(self) -> None:
        conn: psycopg.Connection | None = None
        while not self._stop.is_set():
            try:
                if conn is None or conn.closed:
                    conn = connect(self.url, f"hub {self.hub} commands")
                    conn.execute(f"LISTEN {COMMAND_CHANNEL}")
                self._apply_pending(conn)
                for _ in conn.notifies(timeout=1.0, stop_after=1):
                    break
            except psycopg.Error as exc:
                log.warning("site: command channel of hub %s: %s", self.hub, exc)
                if conn is not None:
                    conn.close()
                conn = None
                self._stop.wait(RETRY_S)
        if conn is not None:
            conn.close()

    def _apply_pending(self, conn: psycopg.Connection) -> None:
        with conn.transaction():
            for cmd in commands.take_pending(conn, self.hub):
                if cmd.waited_s > commands.STALE_S:
                    result = f"not applied: waited {cmd.waited_s:.0f} s (hub was not running)"
                elif cmd.booth is not None and cmd.booth not in self.booths:
                    result = f"not applied: {cmd.booth} is not a booth of hub {self.hub}"
                else:
                    try:
                        result = self.apply(cmd)
                    except Exception as exc:
                        log.exception("site: applying command %s failed", cmd)
                        result = f"failed: {exc}"
                commands.mark_applied(conn, cmd.id, result)
                self.commands_applied += 1


def apply_command(engine: Engine, cmd: Command, incidents: HubIncidents | None = None) -> str:
    """Apply a screen's command through the engine, exactly as a tap on the hub's own screen
    would be (the alarm log records `cmd.who`); returns what happened, in words. What the
    alarm manager refuses (an alarm already gone, a pause longer than the profile allows)
    is "not applied: " and its words."""
    try:
        if cmd.action == "acknowledge":
            assert cmd.booth is not None
            before = [a for a in engine.alarms.active_alarms()
                      if a.station == cmd.booth and not a.acknowledged
                      and (cmd.condition is None or cmd.condition == a.condition
                           or cmd.condition in a.conditions)]
            engine.acknowledge(cmd.booth, cmd.condition, by=cmd.who)
            if not before:
                return f"nothing to acknowledge on {cmd.booth}"
            return f"acknowledged {', '.join(a.condition for a in before)} on {cmd.booth}"
        if cmd.action == "pause_audio":
            engine.pause_audio(by=cmd.who, seconds=cmd.seconds)
            return "audio paused"
        if cmd.action == "resume_audio":
            return "audio resumed" if engine.resume_audio(by=cmd.who) else "was not paused"
        if cmd.action == "incident" and incidents is not None:
            return incidents.apply(cmd)
        if cmd.action == "note_response":
            assert cmd.booth is not None
            engine.response_logged(cmd.booth)
            return f"response noted on {cmd.booth}"
    except AlarmRequestError as exc:
        return f"not applied: {exc}"
    return f"not applied: unknown action {cmd.action!r}"
