"""Readings, incidents, the episode rule, amendments and the audit log — on every backend."""

from __future__ import annotations

import math

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect

from oximon.events import AudioPaused, payload
from oximon.store import IncidentError, IncidentQuery, open_store
from oximon.store.schema import metadata
from oximon.types import Flags, Station
from tests.eventkit import alarm_event


def test_readings_are_written_in_batches_at_most_a_second_behind(rig):
    rig.feed(0, 1)  # first sample: batching starts
    assert rig.store.readings("s1") == []
    rig.feed(1, 2)  # one second later (engine and real time): written
    assert [r[0] for r in rig.store.readings("s1")] == pytest.approx(
        [rig.store._wall(0), rig.store._wall(1)])
    rig.feed(2, 10)
    assert len(rig.store.readings("s1")) >= 9  # never more than one second behind


def test_numerics_are_kept_at_one_per_second(rig):
    for t in (10.0, 10.3, 10.6, 11.1):
        rig.clock.set(t)
        from oximon.types import Sample
        rig.store.on_sample("s1", Sample(t=t, spo2=95, pr=70))
    rig.store.flush()
    assert len(rig.store.readings("s1")) == 2


def test_high_alarm_opens_one_incident_per_episode(rig):
    rig.feed(0, 100)
    got = rig.alarm("raised", 100)
    opened = [e for e in got if e.kind == "incident"]
    assert len(opened) == 1 and opened[0].state == "opened"
    iid = payload(opened[0])["id"]
    assert opened[0].station == "s1" and rig.store.current_incident("s1") == iid
    # Flapping: cleared and raised again, several times -> still the same incident.
    for k in range(3):
        rig.alarm("cleared", 110 + 20 * k)
        rig.feed(110 + 20 * k, 120 + 20 * k)
        rig.alarm("raised", 120 + 20 * k, condition="spo2_severe")
    assert len(rig.incidents("opened")) == 1
    rig.alarm("cleared", 170, condition="spo2_severe")
    # Quiet for 10 minutes (profile default) -> closed by oximon, outcome not recorded.
    rig.feed(170, 760)
    assert rig.incidents("closed") == []
    rig.feed(760, 775)
    closed = rig.incidents("closed")
    assert [payload(e)["id"] for e in closed] == [iid]
    rec = rig.store.get_incident(iid)
    assert rec.status == "closed" and rec.auto_closed and rec.outcome == ["not_recorded"]
    assert sum(1 for a in rec.alarms if a["state"] == "raised") == 4
    # A new episode after the close is a new incident.
    rig.alarm("raised", 800)
    assert len(rig.incidents("opened")) == 2
    assert rig.store.count_incidents() == 2


def test_quiet_close_waits_while_a_person_is_working_on_the_incident(rig):
    """No high alarm for 10 min is not enough to close an incident someone is recording:
    each action or acknowledgment restarts the 10 minutes."""
    rig.feed(0, 100)
    iid = payload(rig.alarm("raised", 100)[0])["id"]
    rig.alarm("acknowledged", 110)
    rig.alarm("cleared", 120)
    rig.feed(120, 600)
    rig.store.record_action(iid, "naloxone", 600.0, by="AB", details={"dose": 1})
    rig.feed(600, 1150)  # 17 min after the alarm cleared, 9 min after the last tap
    assert rig.incidents("closed") == [] and rig.store.current_incident("s1") == iid
    rig.feed(1150, 1210)
    assert [payload(e)["id"] for e in rig.incidents("closed")] == [iid]
    rec = rig.store.get_incident(iid)
    assert rec.auto_closed and rec.closed_ts == pytest.approx(rig.store._wall(1200.0))
    # Acknowledging alone also counts as someone on it.
    iid2 = payload(rig.alarm("raised", 1300)[0])["id"]
    rig.alarm("cleared", 1310)
    rig.alarm("acknowledged", 1800)
    rig.feed(1310, 2300)
    assert rig.store.current_incident("s1") == iid2
    rig.feed(2300, 2410)
    assert rig.store.current_incident("s1") is None


def test_medium_and_technical_alarms_open_nothing(rig):
    rig.feed(0, 5)
    rig.alarm("raised", 5, condition="spo2_drop", priority="medium")
    rig.alarm("raised", 6, condition="lost_device", priority="high", technical=True)
    assert rig.incidents("opened") == [] and rig.store.current_incident("s1") is None


def test_trace_from_five_minutes_before_with_gaps_kept_as_gaps(rig):
    rig.feed(0, 400, spo2=96)
    rig.feed(400, 420, spo2=math.nan, flags=Flags.FINGER_OUT)  # probe off: NaN rows
    rig.feed(420, 440, spo2=84)
    rig.alarm("raised", 440)
    iid = rig.open_id("s1")
    rig.feed(440, 460, spo2=80)
    rig.feed(490, 500, spo2=88)  # 30 s with no sample at all (device lost)
    rig.store.close_incident(iid, 500, "responsive", by="worker A")
    rec = rig.store.get_incident(iid)
    ts = [r["ts"] for r in rec.trace]
    opened = rec.opened_ts
    assert min(ts) == pytest.approx(opened - 300, abs=1.0)
    assert max(ts) <= rec.closed_ts
    probe_off = [r for r in rec.trace if r["flags"] & Flags.FINGER_OUT]
    assert len(probe_off) == 20 and all(r["spo2"] is None for r in probe_off)
    assert sum(1 for r in rec.trace if r.get("gap_before")) == 1
    assert not any(opened + 20 < r["ts"] < opened + 50 for r in rec.trace)
    assert rec.nadir == 80 and rec.below90_s == 20 + 20 + 10 and rec.below85_s == 40


def test_purge_never_touches_an_incidents_trace(make_rig):
    rig = make_rig(retention_days=1.0)
    rig.feed(0, 30)
    rig.alarm("raised", 30)
    iid = rig.open_id("s1")
    rig.feed(30, 60)
    rig.store.close_incident(iid, 60, ["transported"], by="w")
    rig.feed(60, 90, station="s2")
    before = len(rig.store.get_incident(iid).trace)
    removed = rig.store.purge(now_ts=rig.store._wall(90) + 2 * 86400)
    assert removed == 90 + 0 and rig.store.readings("s1") == []
    assert len(rig.store.get_incident(iid).trace) == before == 60
    assert any(a["action"] == "readings_purged" for a in rig.store.audit_entries())


def test_manual_record_with_every_field(rig):
    rig.feed(0, 60, spo2=93)
    iid = rig.store.open_incident("s1", 60, by="peer 1")
    assert rig.incidents("opened") == [] and rig.store.current_incident("s1") == iid
    rig.out += rig.store.tick(60)
    assert [payload(e)["id"] for e in rig.incidents("opened")] == [iid]
    assert rig.store.open_incident("s1", 61) == iid  # one at a time per station
    s = rig.store
    s.record_action(iid, "sign", 61, "peer 1", {"sign": "unresponsive"})
    s.record_action(iid, "stimulated", 62, "peer 1")
    s.record_action(iid, "rescue_breaths_started", 65, "peer 2")
    s.record_action(iid, "naloxone", 70, "peer 1", {"dose": "1 mL", "route": "IM"})
    s.record_action(iid, "911_called", 72, "peer 2")
    s.record_action(iid, "naloxone", 370, "peer 1", {"dose": "1 mL", "route": "IM"})
    s.record_action(iid, "ehs_arrived", 500, "peer 2")
    s.record_details(iid, "peer 1", substance="fentanyl", route="smoked",
                     responders=["peer 1", "peer 2"], completed_by="peer 1",
                     debrief_offered=True)
    with pytest.raises(IncidentError, match="unknown action"):
        s.record_action(iid, "dance", 80)
    with pytest.raises(IncidentError, match="outcome 'fine'"):
        s.close_incident(iid, 600, "fine")
    s.close_incident(iid, 600, "breathing_on_own,transported",
                     aftercare=["advised_no_use_2h"], by="peer 1")
    with pytest.raises(IncidentError, match="already closed"):
        s.close_incident(iid, 601, "responsive")
    rec = s.get_incident(iid)
    assert rec.alias == "Booth 1" and rec.station == "s1" and rec.opened_by == "peer 1"
    assert [d["details"]["route"] for d in rec.naloxone] == ["IM", "IM"]
    assert rec.called_911_ts == pytest.approx(rec.opened_ts + 12)
    assert rec.ehs_arrived_ts == pytest.approx(rec.opened_ts + 440)
    assert rec.outcome == ["breathing_on_own", "transported"]
    assert rec.aftercare == ["advised_no_use_2h"] and rec.signs == ["unresponsive"]
    assert rec.substance == "fentanyl" and rec.responders == ["peer 1", "peer 2"]
    row = s.list_incidents()[0]
    assert (row.naloxone_doses, row.status, row.outcome) == (2, "closed",
                                                            "breathing_on_own,transported")


def test_amendments_add_and_never_overwrite(rig):
    rig.feed(0, 10)
    iid = rig.store.open_incident("s1", 10, by="w")
    rig.store.record_action(iid, "naloxone", 20, "w", {"dose": "1 mL"})
    rig.store.close_incident(iid, 30, "responsive", by="w")
    dose_seq = rig.store.get_incident(iid).naloxone[0]["seq"]
    with pytest.raises(IncidentError, match="who made it and why"):
        rig.store.amend(iid, {"outcome": "transported"}, reason="", by="sup")
    rig.store.amend(iid, {"outcome": "transported", "void_action": dose_seq},
                    reason="tapped by mistake; EHS took them", by="supervisor S")
    rig.store.sign_off(iid, "supervisor S", note="ok", debrief=True)
    rec = rig.store.get_incident(iid)
    assert rec.outcome == ["transported"] and rec.naloxone == []
    voided = [a for a in rec.actions if a["action"] == "naloxone"]
    assert voided and voided[0]["void"]  # still there, marked
    assert rec.amendments[0]["by"] == "supervisor S" and rec.reviewed and rec.debrief
    closes = [a for a in rig.store.get_incident(iid).to_dict()["amendments"]]
    assert closes[0]["changes"]["outcome"] == ["transported"]
    row = rig.store.list_incidents(reviewed=True)[0]
    assert row.reviewed_by == "supervisor S" and row.amendments == 1
    audit = [(a["actor"], a["action"]) for a in rig.store.audit_entries(target=iid)]
    assert ("supervisor S", "amended") in audit and ("supervisor S", "signed_off") in audit
    assert ("w", "incident_opened") in audit
    assert rig.store.verify()[2] == []


def test_query_filters(rig):
    ids = []
    for k in range(6):
        t = 100.0 * k
        rig.feed(t, t + 2, station="s1" if k % 2 else "s2")
        iid = rig.store.open_incident("s1" if k % 2 else "s2", t + 2, by="w")
        if k % 3 == 0:
            rig.store.record_action(iid, "naloxone", t + 3, "w")
        if k == 4:
            rig.store.record_action(iid, "911_called", t + 3, "w")
        rig.store.close_incident(iid, t + 5, "transported" if k == 1 else "responsive")
        ids.append(iid)
    s = rig.store
    assert [r.id for r in s.list_incidents()] == ids[::-1]
    assert {r.id for r in s.list_incidents(station="s1")} == {ids[1], ids[3], ids[5]}
    assert {r.id for r in s.list_incidents(naloxone=True)} == {ids[0], ids[3]}
    assert {r.id for r in s.list_incidents(called_911=True)} == {ids[4]}
    assert {r.id for r in s.list_incidents(outcome="transported")} == {ids[1]}
    s.sign_off(ids[2], "sup")
    assert {r.id for r in s.list_incidents(reviewed=True)} == {ids[2]}
    assert s.count_incidents(reviewed=False) == 5
    opened = [s.get_incident(i, with_trace=False).opened_ts for i in ids]
    q = IncidentQuery(since_ts=opened[2], until_ts=opened[4])
    assert [r.id for r in s.list_incidents(q)] == [ids[3], ids[2]]
    assert len(s.list_incidents(limit=2, offset=1)) == 2
    assert s.resolve_id(ids[0][:-2]) in (ids[0], None)


def test_schema_matches_the_migrations(db_url: str):
    store = open_store(db_url, create=True)
    try:
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
            assert diff == []
            assert "alembic_version" in inspect(conn).get_table_names()
    finally:
        store.close()


def test_two_writers_share_one_chain(make_rig):
    a, b = make_rig(), make_rig()
    a.feed(0, 3)
    b.feed(0, 3, station="s2")
    ia = a.store.open_incident("s1", 3, by="a")
    ib = b.store.open_incident("s2", 3, by="b")
    for k in range(5):
        a.store.record_action(ia, "note", 4 + k, "a", {"text": str(k)})
        b.store.record_action(ib, "note", 4 + k, "b", {"text": str(k)})
    b.store.settle()  # another process: its writer has written
    _events, n, problems = a.store.verify()
    assert problems == [] and n == 2
    ids = [e["target"] for e in a.store.audit_entries() if e["action"] == "action_recorded"]
    assert sorted(ids) == sorted([ia] * 5 + [ib] * 5)  # one audit chain, both writers


def test_every_alarm_change_is_kept_with_or_without_an_incident(rig):
    rig.feed(0, 5)
    rig.alarm("raised", 5, condition="spo2_drop", priority="medium")  # opens no incident
    rig.clock.set(6)
    rig.store.on_event(alarm_event("acknowledged", 6, "s1", "spo2_drop", "medium",
                                   by="peer A", raised_t=5))
    rig.alarm("cleared", 7, condition="spo2_drop", priority="medium")
    rig.alarm("raised", 8, station="system", condition="monitoring_stopped", technical=True)
    rig.clock.set(9)
    rig.store.on_event(AudioPaused(t=9, by="peer B", until=129.0, duration_s=120.0))
    rig.alarm("escalated", 10, station="s2", condition="lost_device", technical=True)
    rig.store.settle()
    got = [(h["station"], h["condition"], h["state"], h["priority"], h["technical"], h["by"])
           for h in rig.store.alarm_history()]
    assert got == [
        ("s1", "spo2_drop", "raised", "medium", False, ""),
        ("s1", "spo2_drop", "acknowledged", "medium", False, "peer A"),
        ("s1", "spo2_drop", "cleared", "medium", False, ""),
        ("system", "monitoring_stopped", "raised", "high", True, ""),
        (None, None, "paused", None, False, "peer B"),
        ("s2", "lost_device", "escalated", "high", True, ""),
    ]
    assert rig.store.current_incident("s1") is None
    assert [h["ts"] for h in rig.store.alarm_history(stations=["s2"])] == [
        rig.store._wall(10)]
    assert rig.store.verify()[2] == []


def test_purge_runs_in_small_batches(make_rig):
    rig = make_rig(retention_days=1.0, purge_batch=7)
    rig.feed(0, 30)
    rig.feed(0, 30, station="s2")
    rig.store.flush()
    commits = []
    event.listen(rig.store.engine, "commit", lambda conn: commits.append(1))
    removed = rig.store.purge(now_ts=rig.store._wall(20) + 86400)
    assert removed == 40 and len(commits) >= 40 // 7  # many short transactions, not one
    assert rig.store.readings("s1")[0][0] == rig.store._wall(20)
    rig.feed(30, 35)  # the audit entry is written with the next batch
    purged = [e for e in rig.store.audit_entries() if e["action"] == "readings_purged"]
    assert purged[-1]["detail"]["rows"] == 40


def test_an_amendment_keeps_the_original_and_asks_for_a_new_review(rig):
    from oximon.review import timeline
    from oximon.review_store import to_incident
    from oximon.store.export import record_text

    rig.feed(0, 10)
    iid = rig.store.open_incident("s1", 10, by="w")
    rig.store.close_incident(iid, 30, "transported", by="w")
    rig.store.sign_off(iid, "sup S", note="fine")
    assert rig.store.get_incident(iid).reviewed
    rig.store.amend(iid, {"outcome": "responsive"}, reason="they walked out", by="sup T")
    rec = rig.store.get_incident(iid)
    assert rec.outcome == ["responsive"] and rec.amendments[0]["was"] == {
        "outcome": ["transported"]}
    assert rec.amended_after_sign_off and not rec.reviewed
    assert rig.store.list_incidents(reviewed=False)[0].id == iid
    text = record_text(rec)
    assert "outcome: transported → responsive" in text and "needs review again" in text
    inc = to_incident(rec)
    words = [e.words for e in timeline(inc)]
    assert "Closed — outcome: transported (as first recorded; amended below)" in words
    assert any(w.startswith("Amendment after sign-off: outcome: transported → responsive")
               for w in words)
    rig.store.sign_off(iid, "sup S", note="amendment checked")  # a new sign-off is allowed
    rec = rig.store.get_incident(iid)
    assert rec.reviewed and len(rec.sign_offs) == 2
    assert rig.store.list_incidents(reviewed=True)[0].id == iid
    assert rig.store.verify()[2] == []


def test_review_names_a_station_by_its_newest_alias(rig):
    from oximon.review_store import StoreReview

    rig.feed(0, 2)
    rig.store.add_station(Station("s1", alias="Window seat", booth="1"))
    first = rig.store.open_incident("s1", 2, by="w")
    rig.store.close_incident(first, 5, "responsive", by="w")
    rig.store.add_station(Station("s1", alias="Booth 1", booth="1"))  # renamed later
    second = rig.store.open_incident("s1", 50, by="w")
    rig.store.close_incident(second, 55, "responsive", by="w")
    assert StoreReview(rig.store).stations() == [("s1", "Booth 1")]
