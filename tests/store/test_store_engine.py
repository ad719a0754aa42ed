"""The store never holds up an alarm: the engine's loop only touches memory (a locked or
slow database waits on the writer thread), listeners hear an event before the store, and
"Records are not being saved" is an alarm like any other (through the alarm manager, on
station "system", kept in the alarm history)."""

from __future__ import annotations

import sqlite3
import time

from sqlalchemy import Connection, event, select
from sqlalchemy.exc import OperationalError

from oximon.alerts import AlarmManager
from oximon.clock import ManualClock
from oximon.engine import Engine
from oximon.events import EngineEvent, payload
from oximon.profile import Profile
from oximon.store import RECORDS_NOT_SAVED, open_store
from oximon.types import Sample, Station
from tests.eventkit import alarm_event
from tests.store.storerig import Rig, trace

HIGH = {"condition": "spo2_low", "priority": "high"}


def test_a_locked_database_never_delays_an_alarm(tmp_path):
    path = tmp_path / "x.db"
    rig = Rig(str(path), busy_timeout_s=1.0)
    try:
        rig.feed(0, 10)
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        start = time.perf_counter()
        rig.clock.set(10)
        got = rig.store.on_event(alarm_event("raised", 10, "s1", "spo2_low", "high"))
        for t in range(10, 20):  # a few more seconds of samples and ticks
            rig.clock.set(t)
            rig.mono += 1
            rig.store.on_sample("s1", Sample(t=t, spo2=85, pr=70))
            rig.store.tick(t)
        took = time.perf_counter() - start
        assert took < 0.1, f"the engine's calls took {took:.3f} s"  # not the 1 s timeout
        opened = [e for e in got if isinstance(e, EngineEvent) and e.kind == "incident"]
        assert [e.state for e in opened] == ["opened"]  # decided at once, in memory
        holder.execute("ROLLBACK")
        holder.close()
        rig.feed(20, 30, spo2=85)  # the lock is gone: the writer catches up
        rec = rig.store.get_incident(payload(opened[0])["id"])
        assert rec is not None and rec.status == "open" and len(trace(rec)) >= 25
        assert rig.store.verify()[2] == []
    finally:
        rig.close()


def test_a_long_read_never_blocks_the_writer(tmp_path):
    """`incidents verify` on a big store while a monitor writes: reads are deferred
    transactions, so the writer is not locked out (before: BEGIN IMMEDIATE for reads)."""
    path = tmp_path / "x.db"
    rig = Rig(str(path), busy_timeout_s=0.2)
    reader = open_store(str(path))
    try:
        rig.feed(0, 5)
        with reader.engine.connect() as conn:
            conn.execute(select(1)).all()  # a read transaction held open
            rig.feed(5, 15)
            assert not rig.store.failing
        assert len(rig.store.readings("s1")) == 15
    finally:
        reader.close()
        rig.close()


class _Order:
    """A record sink that notes when it hears each event (and nothing else)."""

    def __init__(self, heard: list[str]):
        self.heard = heard

    def on_sample(self, station, sample) -> None:
        pass

    def on_event(self, ev):
        self.heard.append(f"store {ev.state}")
        return []

    def flush(self):
        return []

    def tick(self, now):
        return []

    def apply_profile(self, profile) -> None:
        pass

    def close(self) -> None:
        pass


def test_listeners_hear_an_alarm_before_the_store():
    heard: list[str] = []
    engine = Engine(ManualClock(), Profile.default(), AlarmManager, records=_Order(heard))
    engine.add_station(Station("s1"))

    def screen(ev: EngineEvent) -> None:
        if ev.kind == "alarm":
            heard.append(f"screen {ev.state}")

    engine.subscribe(screen)
    engine.report([_change(True, 1.0, station="s1", condition="spo2_low", priority="high")])
    assert heard == ["screen raised", "store raised"]


def _change(active, t, station="system", condition=RECORDS_NOT_SAVED, priority="medium"):
    from oximon.types import ConditionChange, Priority
    return ConditionChange(station, condition, active, t, Priority.parse(priority))


def test_records_not_saved_goes_through_the_alarm_manager_and_into_the_history(tmp_path):
    clock = ManualClock()
    mono = [0.0]
    store = open_store(str(tmp_path / "x.db"), clock=clock, writer=True,
                       monotonic=lambda: mono[0])
    profile = Profile.default().with_overrides({"records_not_saved.priority": "high"})
    engine = Engine(clock, profile, AlarmManager, records=store)
    engine.add_station(Station("s1"))
    heard: list[EngineEvent] = []
    engine.subscribe(heard.append)
    failing = {"on": False}

    @event.listens_for(store.engine, "before_cursor_execute")
    def _boom(conn: Connection, cursor: object, statement: str, *args: object) -> None:
        if failing["on"] and statement.lstrip().upper().startswith(("INSERT", "UPDATE")):
            raise OperationalError(statement, {}, Exception("database or disk is full"))

    def run(t0: int, t1: int) -> None:
        for t in range(t0, t1):
            clock.set(float(t))
            mono[0] += 1.0
            engine.feed("s1", Sample(t=float(t), spo2=97, pr=70))
            engine.tick()
            store.settle()

    try:
        run(0, 5)
        failing["on"] = True
        run(5, 15)
        raised = [e for e in heard if e.kind == "alarm" and e.state == "raised"]
        assert [(e.station, payload(e)["condition"], payload(e)["priority"],
                 payload(e).get("technical")) for e in raised] == [
            ("system", RECORDS_NOT_SAVED, "high", True)]
        assert [a.condition for a in engine.alarms.active_alarms()] == [RECORDS_NOT_SAVED]
        saving_during_outage = store.saving_ok  # read now: the property changes as it writes
        assert not saving_during_outage
        engine.acknowledge("system", RECORDS_NOT_SAVED, by="peer A")
        failing["on"] = False
        run(15, 25)  # the retry succeeds, the backlog is written, the alarm clears
        assert store.saving_ok and not engine.alarms.active_alarms()
        history = [(h["station"], h["condition"], h["state"], h["by"])
                   for h in store.alarm_history() if h["condition"] == RECORDS_NOT_SAVED]
        assert history == [("system", RECORDS_NOT_SAVED, "raised", ""),
                           ("system", RECORDS_NOT_SAVED, "acknowledged", "peer A"),
                           ("system", RECORDS_NOT_SAVED, "cleared", "")]
        assert len(store.readings("s1")) == 25 and store.verify()[2] == []
    finally:
        store.close()
