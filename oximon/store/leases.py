"""Booth ownership: one live session (or site hub) monitors each booth id.

Two computers with the same station ids on one store (two PCs each with `serial-1`, a
copied site file) would interleave two people's readings under one booth and open two
incidents for it. So a monitoring run claims its booth ids here, all or nothing, before it
starts; its writer renews the claim with every write (a heartbeat in real wall-clock
seconds, never virtual time); a clean stop releases it. A claim on a booth that another
live owner holds is refused (LeaseConflict: exit 2, naming the booth and the other
computer). A lease whose heartbeat is older than `ttl_s` — or whose process on this
computer is gone (kill -9, a crash) — is stale: it is taken over, and the takeover is
recorded in the audit log ("lease.taken_over").

An owner is a run's `host:pid:session`, or a name (a site hub, `oximon hub --name room-1`,
so every screen and message says which hub holds a booth). A lease is the claimer's own
only with the same owner *and* session: a second process of one hub's name is refused
like any other while the first lives, and takes over once it is gone.

The API is shared with the multi-computer site (issue 17): see LEASE_API.md.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace

from sqlalchemy import ColumnElement, Connection, Engine, and_, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from oximon.store import sessions
from oximon.store.chain import audit_hash, canonical
from oximon.store.db import unavailable
from oximon.store.errors import StoreInputError
from oximon.store.event_intake import AUTO
from oximon.store.location import Target
from oximon.store.schema import CHAIN_AUDIT, audit_log, booth_leases
from oximon.store.schema import sessions as sessions_table
from oximon.store.writer import append_chain

DEFAULT_TTL_S = 15.0
_PG_LEASE_LOCK = 7041978


@dataclass(frozen=True)
class Lease:
    """Who monitors one booth, and when they last said so (wall-clock seconds)."""

    booth: str
    owner: str
    host: str
    session_id: str
    claimed_ts: float
    heartbeat_ts: float

    def alive(self, now_ts: float, ttl_s: float) -> bool:
        return now_ts - self.heartbeat_ts <= ttl_s


class LeaseConflict(StoreInputError):
    """A booth is monitored by another live owner (the CLI's exit 2)."""

    def __init__(self, lease: Lease, now_ts: float):
        self.lease = lease
        ago = max(0.0, now_ts - lease.heartbeat_ts)
        here = lease.host == sessions.host()
        hub = "" if session_owner(lease.owner) else f"hub {lease.owner}"  # a site's hub
        who = (f"another oximon on this computer ({hub or lease.owner})" if here
               else f"another computer ({hub + ', ' if hub else ''}host {lease.host}, last "
                    f"seen {ago:.0f} s ago)")
        super().__init__(f"{lease.booth} is monitored by {who}; stop that one first, or "
                         "give this computer's booths their own ids")


def _lease(row: object) -> Lease:
    return Lease(row.booth, row.owner, row.host, row.session_id,  # type: ignore[attr-defined]
                 row.claimed_ts, row.heartbeat_ts)  # type: ignore[attr-defined]


def session_owner(owner: str) -> bool:
    """An owner of the form `host:pid:session` (a monitoring run), not a name (a hub)."""
    parts = owner.split(":")
    return len(parts) == 3 and parts[1].isdigit()


def owner_gone(conn: Connection, lease: Lease, ttl_s: float) -> bool:
    """A lease held by a process of this computer that no longer runs is stale at once: a
    restart after kill -9 need not wait. The process is the owner's `host:pid:session`,
    or (a named owner: a site hub) the session row the lease names."""
    if lease.host != sessions.host():
        return False
    if session_owner(lease.owner):
        _, pid, sid = lease.owner.split(":")
        row = SimpleNamespace(host=socket.gethostname(), pid=int(pid), id=sid,
                              heartbeat_real_ts=lease.heartbeat_ts,
                              heartbeat_ts=lease.heartbeat_ts)
        return sessions.session_dead(row, ttl_s)
    found = conn.execute(select(sessions_table).where(
        sessions_table.c.id == lease.session_id)).first()
    if found is None:
        return False  # nothing says which process: the heartbeat decides
    return found.ended_ts is not None or sessions.session_dead(found, ttl_s)


def _mine(owner: str, session_id: str | None) -> ColumnElement[bool]:
    """The leases of `owner` (of its one session, when given: a named owner's earlier,
    stale process must never renew or release what a new one took over)."""
    where = booth_leases.c.owner == owner
    return where if session_id is None else and_(where, booth_leases.c.session_id == session_id)


def renew_rows(conn: Connection, owner: str, now_ts: float,
               session_id: str | None = None) -> int:
    """The heartbeat, in the caller's transaction (the store's writer: every write)."""
    return conn.execute(update(booth_leases).where(_mine(owner, session_id))
                        .values(heartbeat_ts=now_ts)).rowcount or 0


class BoothLeases:
    """The booth_leases table, each call one transaction."""

    def __init__(self, wengine: Engine, target: Target):
        self._engine = wengine
        self._target = target

    def claim(self, booths: Sequence[str], owner: str, host: str, session_id: str,
              ttl_s: float = DEFAULT_TTL_S, now_ts: float | None = None) -> list[Lease]:
        """All or nothing, in one transaction: raise LeaseConflict naming the first booth
        held by another live owner; take over stale leases (heartbeat older than ttl_s)
        and record each takeover in the audit log ("lease.taken_over")."""
        now = time.time() if now_ts is None else now_ts
        wanted = list(dict.fromkeys(booths))
        try:
            with self._engine.begin() as conn:
                if conn.dialect.name == "postgresql":  # one claimer at a time (new rows
                    conn.exec_driver_sql(  # cannot be locked FOR UPDATE before they exist)
                        f"SELECT pg_advisory_xact_lock({_PG_LEASE_LOCK})")
                held = {r.booth: _lease(r) for r in conn.execute(
                    select(booth_leases).where(booth_leases.c.booth.in_(wanted))
                    .with_for_update())}
                taken: list[dict[str, object]] = []
                for booth in wanted:
                    old = held.get(booth)
                    if old is None or (old.owner, old.session_id) == (owner, session_id):
                        continue
                    if old.alive(now, ttl_s) and not owner_gone(conn, old, ttl_s):
                        raise LeaseConflict(old, now)
                    taken.append({"ts": now, "actor": AUTO, "action": "lease.taken_over",
                                  "target": booth, "detail": canonical({
                                      "from_owner": old.owner, "from_host": old.host,
                                      "last_heartbeat_ts": old.heartbeat_ts,
                                      "to_owner": owner, "to_host": host})})
                conn.execute(delete(booth_leases).where(booth_leases.c.booth.in_(wanted)))
                mine = {b for b, old in held.items()
                        if (old.owner, old.session_id) == (owner, session_id)}
                rows = [{"booth": b, "owner": owner, "host": host, "session_id": session_id,
                         "claimed_ts": held[b].claimed_ts if b in mine else now,
                         "heartbeat_ts": now} for b in wanted]
                if rows:
                    conn.execute(insert(booth_leases), rows)
                if taken:
                    append_chain(conn, CHAIN_AUDIT, audit_log, taken, now, audit_hash)
        except SQLAlchemyError as exc:
            raise unavailable(self._target, exc) from None
        return [Lease(**{k: v for k, v in r.items()}) for r in rows]  # type: ignore[arg-type]

    def renew(self, owner: str, now_ts: float | None = None,
              session_id: str | None = None) -> int:
        """Heartbeat every lease of `owner` (called from the writer, every few seconds)."""
        now = time.time() if now_ts is None else now_ts
        try:
            with self._engine.begin() as conn:
                return renew_rows(conn, owner, now, session_id)
        except SQLAlchemyError as exc:
            raise unavailable(self._target, exc) from None

    def release(self, owner: str, session_id: str | None = None) -> None:
        """On a clean stop."""
        try:
            with self._engine.begin() as conn:
                conn.execute(delete(booth_leases).where(_mine(owner, session_id)))
        except SQLAlchemyError as exc:
            raise unavailable(self._target, exc) from None

    def holders(self) -> list[Lease]:
        """Every lease, for `site status` and the viewer's dead-hub alarm."""
        try:
            with self._engine.connect() as conn:
                return [_lease(r) for r in conn.execute(
                    select(booth_leases).order_by(booth_leases.c.booth))]
        except SQLAlchemyError as exc:
            raise unavailable(self._target, exc) from None


def describe(leases: Sequence[Lease]) -> str:
    """For a log line: which booths are held by whom."""
    return json.dumps({lease.booth: lease.owner for lease in leases})
