"""A writer store on a ManualClock, fed the way the engine feeds it (shared by the tests).

The store writes on a thread of its own; the rig waits for each write it asked for
(`settle`) after every engine call, so what a test reads next is deterministic."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from oximon.clock import ManualClock
from oximon.events import EngineEvent, IncidentClosed, IncidentOpened
from oximon.store import IncidentRecord, Store, open_store
from oximon.types import ConditionChange, Flags, Sample, Station
from tests.eventkit import alarm_event


class Rig:
    """A writer store on a ManualClock with a fake monotonic clock, and helpers to feed it
    the way the engine does."""

    def __init__(self, url: str, epoch: datetime | None = None,
                 clock: ManualClock | None = None, **options):
        self.url = url
        self.clock = clock or ManualClock(start=0.0, epoch=epoch)
        self.mono = 0.0
        self.out: list[EngineEvent | ConditionChange] = []
        self.store: Store = open_store(url, clock=self.clock, writer=True,
                                       monotonic=lambda: self.mono, **options)
        for sid in ("s1", "s2"):
            self.store.add_station(Station(sid, alias=f"Booth {sid[1]}", booth=sid[1]))

    def feed(self, t0: float, t1: float, spo2: float = 97.0, station: str = "s1",
             flags: Flags = Flags.NONE) -> None:
        """One sample per second over [t0, t1), ticking like the engine."""
        t = t0
        while t < t1:
            self.clock.set(t)
            self.mono += 1.0
            pr = math.nan if math.isnan(spo2) else 72.0
            self.store.on_sample(station, Sample(t=t, spo2=spo2, pr=pr, flags=flags))
            self.out += self.store.tick(t)
            self.store.settle()
            t += 1.0

    def alarm(self, state: str, t: float, station: str = "s1", condition: str = "spo2_low",
              priority: str = "high", technical: bool = False
              ) -> list[EngineEvent | ConditionChange]:
        self.clock.set(t)
        got = self.store.on_event(alarm_event(state, t, station, condition, priority,
                                              technical))
        self.store.settle()
        self.out += got
        return got

    def open_id(self, station: str = "s1") -> str:
        """The id of the station's open incident; the test stops here if there is none."""
        iid = self.store.current_incident(station)
        assert iid is not None, f"no incident open on {station}"
        return iid

    def incidents(self, kind: str) -> list[EngineEvent]:
        return [e for e in self.out if isinstance(e, IncidentOpened | IncidentClosed)
                and e.state == kind]

    def records_alarm(self) -> list[bool]:
        """The store's "records not saved" condition as it went active / inactive."""
        return [c.active for c in self.out if isinstance(c, ConditionChange)
                and c.condition == "records_not_saved"]

    def crash(self) -> None:
        """The process dies: no close(), nothing more written, the session left open."""
        from oximon.store.sessions import OPEN_SESSIONS

        store = self.store
        queue = store._queue
        with queue.cond:
            queue.stop, queue.requested, queue.done = True, 0, 0
            queue.cond.notify_all()
        assert queue.thread is not None
        queue.thread.join(5)
        assert store.session_id is not None  # a writer always runs a session
        OPEN_SESSIONS.pop(store.session_id, None)
        store.engine.dispose()

    def close(self) -> None:
        self.store.close()


def incident(store: Store, iid: str) -> IncidentRecord:
    """The incident with its trace; the test stops here if the store has no such one."""
    rec = store.get_incident(iid)
    assert rec is not None, f"no incident {iid}"
    return rec


def trace(rec: IncidentRecord) -> list[dict[str, Any]]:
    """The incident's trace rows (read with the record, as `incident` does)."""
    assert rec.trace is not None, f"incident {rec.id} was read without its trace"
    return rec.trace
