"""Nothing lost, nothing silently changed: verify catches edits and deletions; a failing
database raises the records alarm and the backlog is written when it returns; a crashed
run's incident is kept and marked interrupted — on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Connection, event, text
from sqlalchemy.exc import OperationalError

from oximon.store import RECORDS_NOT_SAVED, StoreUnavailable
from oximon.types import ConditionChange, Priority
from tests.store.storerig import Rig, incident, trace


def _closed_incident(rig) -> str:
    rig.feed(0, 20, spo2=95)
    rig.alarm("raised", 20)
    iid = rig.open_id("s1")
    rig.store.record_action(iid, "naloxone", 25, "w", {"dose": "1 mL", "route": "IM"})
    rig.feed(20, 40, spo2=82)
    rig.alarm("cleared", 40)
    rig.store.close_incident(iid, 41, "responsive", by="w")
    assert rig.store.verify()[2] == []
    return iid


def _sql(rig, statement: str, **params) -> None:
    with rig.store.engine.begin() as conn:
        conn.execute(text(statement), params)


def _messages(rig) -> list[str]:
    return [p.message for p in rig.store.verify()[2]]


def test_verify_names_an_edited_record(rig):
    iid = _closed_incident(rig)
    seq = rig.store.get_incident(iid).naloxone[0]["seq"]
    _sql(rig, "UPDATE incident_events SET data = replace(data, '1 mL', '2 mL') WHERE seq = :s",
         s=seq)
    msgs = _messages(rig)
    assert msgs == [f"record #{seq} (incident {iid}, action): was edited after it was recorded"]


def test_verify_sees_through_a_rehashed_edit(rig):
    """Recomputing the edited record's own hash still breaks the next record's link."""
    iid = _closed_incident(rig)
    with rig.store.engine.begin() as conn:
        row = conn.execute(text("SELECT * FROM incident_events WHERE seq = 2")).mappings().one()
        from oximon.store.chain import event_hash
        data = row["data"].replace("high", "low")
        h = event_hash(row["prev_hash"], 2, row["incident_id"], row["kind"], row["ts"], row["t"],
                       row["actor"], data, row["recorded_ts"])
        conn.execute(text("UPDATE incident_events SET data = :d, hash = :h WHERE seq = 2"),
                     {"d": data, "h": h})
    assert any(m.startswith(f"record #3 (incident {iid}") and "does not link" in m
               for m in _messages(rig))


def test_verify_names_deleted_records(rig):
    iid = _closed_incident(rig)
    _sql(rig, "DELETE FROM incident_events WHERE seq = 2")
    assert any(m.startswith("record #2 is missing (deleted)") and iid in m for m in _messages(rig))


def test_verify_sees_the_newest_records_removed(rig):
    _closed_incident(rig)
    _sql(rig, "DELETE FROM incident_events WHERE seq = (SELECT max(seq) FROM incident_events)")
    assert any("newest incident records are missing" in m for m in _messages(rig))


def test_verify_names_an_edited_summary_and_trace(rig):
    iid = _closed_incident(rig)
    _sql(rig, "UPDATE incidents SET outcome = 'died', naloxone_doses = 0")
    _sql(rig, "UPDATE incident_trace SET spo2 = 99 WHERE spo2 < 90")
    msgs = _messages(rig)
    assert f"incident {iid}: 'outcome' in the incident list is 'died' but its records say " \
           "'responsive' (edited)" in msgs
    assert any(m.startswith(f"incident {iid}: its SpO2/pulse trace was changed") for m in msgs)


def test_a_failing_database_raises_the_alarm_and_the_backlog_is_written(rig):
    failing = {"on": False}

    @event.listens_for(rig.store.engine, "before_cursor_execute")
    def _boom(conn: Connection, cursor: object, statement: str, *args: object) -> None:
        if failing["on"] and statement.lstrip().upper().startswith(("INSERT", "UPDATE")):
            raise OperationalError(statement, {}, Exception("database or disk is full"))

    rig.feed(0, 10)
    failing["on"] = True
    rig.feed(10, 30)  # monitoring goes on; nothing raises
    alarms = [c for c in rig.out if isinstance(c, ConditionChange)]
    assert [(c.station, c.condition, c.active, c.technical) for c in alarms] == [
        ("system", RECORDS_NOT_SAVED, True, True)]
    assert alarms[0].message.startswith("Records are not being saved (database or disk")
    assert alarms[0].priority is Priority.MEDIUM  # the profile's [records_not_saved]
    assert not rig.store.saving_ok
    rig.alarm("raised", 30)  # an incident opens during the outage
    iid = rig.open_id("s1")
    rig.store.record_action(iid, "911_called", 31, "w")
    rig.feed(30, 40)
    rig.store.close_incident(iid, 40, "transported", by="w")  # kept, retried
    with pytest.raises(StoreUnavailable, match="not saved yet"):
        rig.store.sign_off(iid, "supervisor")  # a reviewer is told at once
    assert rig.store.failing and rig.store.backlog > 30
    failing["on"] = False
    rig.feed(40, 50)  # next retry (5 s) succeeds
    assert rig.records_alarm() == [True, False]
    assert not rig.store.failing and rig.store.backlog <= 2 and rig.store.saving_ok
    assert len(rig.store.readings("s1")) >= 48
    rec = rig.store.get_incident(iid)
    assert rec.status == "closed" and rec.outcome == ["transported"] and rec.called_911_ts
    assert rig.store.verify()[2] == []
    assert any(a["action"] == "records_saved_again" for a in rig.store.audit_entries())


def test_a_crashed_run_within_the_resume_gap_is_resumed_with_the_gap(db_url):
    a = Rig(db_url)
    a.feed(0, 30, spo2=95)
    a.alarm("raised", 30)
    iid = a.open_id("s1")
    a.feed(30, 45, spo2=80)
    last_saved = a.store._wall(44)
    a.crash()  # the process dies: no close(), the session is left open
    # The profile lets a run resume within 5 min; the next run's clock starts 5 s on.
    b = Rig(db_url, resume_gap_s=300, epoch=a.clock.wall() + timedelta(seconds=5))
    try:
        rec = incident(b.store, iid)
        assert rec.interrupted and rec.status == "open"
        assert rec.gaps[0]["start"] == pytest.approx(last_saved, abs=1.5)
        assert max(r["ts"] for r in trace(rec)) == pytest.approx(last_saved, abs=1.5)
        assert b.store.current_incident("s1") == iid
        b.clock.set(200)
        b.feed(200, 210, spo2=85)  # the station is back: the same episode goes on
        b.alarm("raised", 210)
        assert b.incidents("opened") == []
        rec = incident(b.store, iid)
        assert rec.gaps[0]["end"] == pytest.approx(b.store._wall(200), abs=0.01)
        assert max(r["ts"] for r in trace(rec)) >= b.store._wall(209)
        b.store.close_incident(iid, 220, "responsive", by="w")
        assert b.store.verify()[2] == []
    finally:
        b.close()


@pytest.mark.postgres
def test_postgres_connection_dropped_by_the_server_is_reopened(pg_url):
    rig = Rig(pg_url)
    try:
        rig.feed(0, 5)
        with rig.store.engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                              "datname = current_database() AND pid <> pg_backend_pid()"))
        rig.feed(5, 10)
        assert not rig.store.failing and len(rig.store.readings("s1")) >= 9
    finally:
        rig.close()


def test_a_restart_whose_clock_is_behind_the_records_dates_nothing_ahead_of_it(db_url):
    """The run after a crash starts with a clock behind the dead run's records (the clock
    stepped back, or an older oximon dated a --speed run ahead). It never resumes that
    incident (its rows would be dated ahead of its clock or slip in among the old ones):
    the incident is closed as interrupted at its last record, and every stamp the new run
    writes is its own clock's time (issue 14.9: an offset used to carry the dead run's
    future stamps into every later run)."""
    a = Rig(db_url)
    a.feed(0, 30, spo2=95)
    a.alarm("raised", 30)
    iid = a.open_id("s1")
    a.feed(30, 60, spo2=80)
    a.crash()
    b = Rig(db_url, resume_gap_s=300)  # its clock starts 60 s behind a's records
    try:
        b.feed(0, 20, spo2=85)
        rec = incident(b.store, iid)
        last_a = max(r["ts"] for r in trace(rec))
        assert rec.status == "closed" and rec.interrupted and rec.closed_ts == last_a
        ts = [r["ts"] for r in trace(rec)]
        assert ts == sorted(ts) and len(ts) == len(set(ts))
        wall_now = b.clock.wall().timestamp()
        assert last_a > wall_now + 30  # a's records really are ahead of b's clock
        with b.store.engine.connect() as conn:
            reason = conn.execute(text(
                "SELECT data FROM incident_events WHERE incident_id = :i AND kind = 'closed'"),
                {"i": iid}).scalar()
            started = conn.execute(text("SELECT started_ts FROM sessions WHERE id = :s"),
                                   {"s": b.store.session_id}).scalar()
        assert reason is not None and "behind" in reason
        assert started is not None and started <= wall_now  # no offset carries a's stamps
        assert b.store.verify()[2] == []
    finally:
        b.close()
