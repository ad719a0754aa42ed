"""The retention purge: deletes old rows from `readings` only (each incident keeps its own
trace), one station at a time in small transactions found by an index seek, so it never
holds the database long enough to delay a write that matters."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, select

from oximon.store.schema import readings


@dataclass
class PurgeJob:
    """A purge under way (it runs step by step between the writer's writes)."""

    cutoff: float | None  # delete readings before this ts (None: take the settings first)
    station: str | None = None  # the station being purged
    last: str | None = None  # the last station finished
    removed: int = 0


def purge_step(conn: Connection, job: PurgeJob, batch: int) -> bool:
    """Up to `batch` rows of one station, in the caller's transaction. False when every
    station is done. `job.cutoff` must be set."""
    assert job.cutoff is not None
    r = readings.c
    station = job.station
    if station is None:  # the next station: an index seek, not a scan
        stmt = select(func.min(r.station))
        if job.last is not None:
            stmt = stmt.where(r.station > job.last)
        station = conn.execute(stmt).scalar()
        if station is None:
            return False
        job.station = station
    bound = conn.execute(
        select(r.ts).where(r.station == station, r.ts < job.cutoff)
        .order_by(r.ts).offset(batch - 1).limit(1)).scalar()
    cond = r.ts <= bound if bound is not None else r.ts < job.cutoff
    job.removed += conn.execute(delete(readings).where(r.station == station, cond)
                                ).rowcount or 0
    if bound is None:  # this station is done
        job.last, job.station = station, None
    return True
