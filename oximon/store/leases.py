"""Booth-ownership leases: which computer monitors a booth (see /work/wt/LEASE_API.md).

STAND-IN (issue 17's branch): a minimal implementation of exactly the API the faults issue
(14) builds, so the site's hubs can run before that lands. At merge keep issue 14's module
(its Alembic migration creates `booth_leases`); this one creates the table itself if it is
missing, and records takeovers through the audit callable the store hands in.

Why leases: two computers watching one booth would each raise (and each let someone
acknowledge) the same alarm; a lease says who owns it, with a heartbeat so a dead owner's
booths can be taken over.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Engine, Float, MetaData, Table, Text, delete, select, update

from oximon.store.errors import StoreInputError

_meta = MetaData()
booth_leases = Table(
    "booth_leases", _meta,
    Column("booth", Text, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("host", Text, nullable=False),
    Column("session_id", Text, nullable=False),
    Column("claimed_ts", Float, nullable=False),
    Column("heartbeat_ts", Float, nullable=False),
)

Audit = Callable[[str, str | None, dict[str, Any], str], None]


@dataclass(frozen=True)
class Lease:
    booth: str
    owner: str
    host: str
    session_id: str
    claimed_ts: float
    heartbeat_ts: float

    def alive(self, now_ts: float, ttl_s: float) -> bool:
        return now_ts - self.heartbeat_ts <= ttl_s


class LeaseConflict(StoreInputError):
    """A booth is held by another live owner (exit 2: the message names the computer)."""

    def __init__(self, lease: Lease, now_ts: float):
        self.lease = lease
        ago = max(0.0, now_ts - lease.heartbeat_ts)
        super().__init__(f"{lease.booth} is monitored by another computer (host {lease.host}, "
                         f"last seen {ago:.0f} s ago)")


class BoothLeases:
    def __init__(self, engine: Engine, audit: Audit | None = None):
        self.engine = engine
        self.audit = audit
        with engine.begin() as conn:  # two hubs starting at once: one creates the table
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(17017, 1)")
            booth_leases.create(conn, checkfirst=True)

    def claim(self, booths: Sequence[str], owner: str, host: str, session_id: str,
              ttl_s: float = 15.0, now_ts: float | None = None) -> list[Lease]:
        """All or nothing, in one transaction: raise LeaseConflict naming the first booth
        held by another live owner; take over stale leases (heartbeat older than ttl_s)
        and record each takeover in the audit log ("lease.taken_over")."""
        now = time.time() if now_ts is None else now_ts
        taken: list[Lease] = []
        with self.engine.begin() as conn:
            rows = {r.booth: Lease(**r._mapping) for r in conn.execute(
                select(booth_leases).where(booth_leases.c.booth.in_(list(booths)))
                .with_for_update())}
            for booth in booths:
                old = rows.get(booth)
                if old is not None and old.owner != owner and old.alive(now, ttl_s):
                    raise LeaseConflict(old, now)
            out = []
            for booth in booths:
                lease = Lease(booth, owner, host, session_id, now, now)
                old = rows.get(booth)
                if old is None:
                    conn.execute(booth_leases.insert().values(**lease.__dict__))
                else:
                    conn.execute(update(booth_leases).where(booth_leases.c.booth == booth)
                                 .values(**lease.__dict__))
                    if old.owner != owner:
                        taken.append(old)
                out.append(lease)
        for old in taken:
            if self.audit is not None:
                self.audit("lease.taken_over", old.booth,
                           {"from_owner": old.owner, "from_host": old.host, "owner": owner,
                            "host": host}, owner)
        return out

    def renew(self, owner: str, now_ts: float | None = None) -> int:
        """Heartbeat every lease of `owner`."""
        now = time.time() if now_ts is None else now_ts
        with self.engine.begin() as conn:
            result = conn.execute(update(booth_leases).where(booth_leases.c.owner == owner)
                                  .values(heartbeat_ts=now))
            return int(result.rowcount or 0)

    def release(self, owner: str) -> None:
        """On a clean stop."""
        with self.engine.begin() as conn:
            conn.execute(delete(booth_leases).where(booth_leases.c.owner == owner))

    def holders(self) -> list[Lease]:
        """Every lease, for `site status` and the viewer's dead-hub alarm."""
        with self.engine.connect() as conn:
            return [Lease(**r._mapping) for r in conn.execute(
                select(booth_leases).order_by(booth_leases.c.booth))]
