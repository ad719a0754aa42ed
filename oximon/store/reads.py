"""The store's reads (the review API, the incidents CLI, reports): each in a plain
deferred read, after this store's own pending writes, so a caller reads what it just
recorded. The `Store` facade inherits them; they need only its engine, target and queue."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, or_, select
from sqlalchemy.exc import SQLAlchemyError

from oximon.store import query, site_settings
from oximon.store.db import unavailable
from oximon.store.event_intake import SYSTEM
from oximon.store.location import Target
from oximon.store.open_incidents import PRE_S, OpenIncidents
from oximon.store.record import IncidentRecord
from oximon.store.schema import access_log, incident_events, incidents, readings
from oximon.store.timebase import Timebase
from oximon.store.write_queue import WriteQueue

# An interrupted incident's unacknowledged high alarm comes back when monitoring restarts
# within this long of the stop (a restart after a crash or a reboot); a station found days
# later is a new shift, and its old record waits for a supervisor instead.
RESTORE_WITHIN_S = 6 * 3600.0


class StoreReads:
    """Queries over the stored records."""

    engine: Engine
    target: Target
    _queue: WriteQueue
    _book: OpenIncidents
    _time: Timebase  # the store's recorded time (wall seconds)

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until the writes asked for so far were attempted. True if nothing failed."""
        return self._queue.settle(timeout)

    def settings(self) -> dict[str, float]:
        """The site settings kept in the store (defaults where none was set)."""
        with self._reading() as conn:
            return site_settings.read(conn)

    # -- queries (the review API) ---------------------------------------------------------
    @contextlib.contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A plain (deferred) read; this store's own writes handed to the writer are
        waited for first, so a caller reads what it just recorded."""
        if self._queue.thread is not None and not self._queue.in_writer_thread():
            self.settle()
        try:
            with self.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise unavailable(self.target, exc) from None

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

    def access_entries(self) -> list[dict[str, Any]]:
        """The access log (reads and exports), oldest first."""
        with self._reading() as conn:
            return [{**r._mapping, "detail": json.loads(r.detail or "{}")}
                    for r in conn.execute(select(access_log).order_by(access_log.c.id))]

    def check_anchor(self, anchor: dict[str, Any], where: str) -> list[query.Problem]:
        """What an anchor kept outside the database (see anchor.py) finds changed."""
        from oximon.store import anchor as anchors

        with self._reading() as conn:
            return anchors.check(conn, anchor, where)

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


    def interrupted_at_start(self) -> dict[str, str]:
        """Incidents an earlier run left open that this run closed as interrupted when it
        started (id -> station): a person completes and signs them off."""
        return dict(self._book.interrupted)

    def closed_at_stop(self) -> dict[str, str]:
        """Incidents still open when this run stopped, closed as interrupted (id ->
        station): a person completes and signs them off."""
        return dict(self._book.closed_at_stop)

    def unacknowledged_high_alarms(self) -> list[dict[str, Any]]:
        """The high alarms (about a person, not a device) of each station's newest incident,
        when a stopped run left it open (still open, or closed as interrupted at the stop
        within RESTORE_WITHIN_S and not yet completed by a person) that were
        neither acknowledged nor cleared when it stopped, oldest first, as
        {station, condition, priority, message, value, worst, escalated}: what a restarted
        monitor must bring back latched (issue 12). Read at start, before this run adds
        to them."""
        i, e = incidents.c, incident_events.c
        newest = (select(i.station, func.max(i.opened_ts).label("opened_ts"))
                  .group_by(i.station).subquery())
        recent = self._time.now_ts() - RESTORE_WITHIN_S
        left = or_(i.status == "open", and_(  # interrupted by a stop, nobody completed it
            i.interrupted.is_(True), i.reviewed.is_(False), i.amendments == 0,
            i.closed_ts >= recent))
        latest = (select(i.id).join(newest, and_(i.station == newest.c.station,
                                                 i.opened_ts == newest.c.opened_ts))
                  .where(left))
        stmt = (select(i.station, e.data).join(incident_events, e.incident_id == i.id)
                .where(i.id.in_(latest), e.kind == "alarm").order_by(e.seq))
        up: dict[tuple[str, str], dict[str, Any]] = {}
        with self._reading() as conn:
            for station, raw in conn.execute(stmt):
                data = json.loads(raw)
                key = (station, str(data.get("condition", "")))
                state = data.get("state")
                if state in ("acknowledged", "cleared"):
                    up.pop(key, None)
                elif state == "raised" and data.get("priority") == "high" \
                        and not data.get("technical"):
                    up[key] = {"station": station, "condition": key[1], "priority": "high",
                               "message": data.get("message", ""),
                               "value": data.get("value"), "worst": data.get("worst"),
                               "escalated": False}
                elif state == "escalated" and key in up:
                    up[key]["escalated"] = True
        return list(up.values())
