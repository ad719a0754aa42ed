"""What `verify` must catch beyond an edited incident record: the trace of an open or
interrupted incident, the newest records removed with the head rewound, everything
removed, the audit and alarm logs edited; and an incident id can never be used twice."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.store.storerig import Rig, incident, trace


def _sql(rig: Rig, statement: str, **params) -> None:
    with rig.store.engine.begin() as conn:
        conn.execute(text(statement), params)


def _messages(rig: Rig) -> list[str]:
    return [p.message for p in rig.store.verify()[2]]


def _open_incident(rig: Rig) -> str:
    rig.feed(0, 30, spo2=95)
    rig.alarm("raised", 30)
    iid = rig.open_id("s1")
    rig.feed(30, 60, spo2=82)  # still open: its trace is sealed as it goes
    assert rig.store.verify()[2] == []
    return iid


def test_an_open_incidents_trace_edited_or_deleted_is_caught(rig):
    iid = _open_incident(rig)
    _sql(rig, "UPDATE incident_trace SET spo2 = 97 WHERE incident_id = :i AND spo2 < 90",
         i=iid)
    msgs = _messages(rig)
    assert any(m.startswith(f"incident {iid}: its SpO2/pulse trace was changed") for m in msgs)


def test_an_open_incidents_trace_rows_deleted_are_caught(rig):
    iid = _open_incident(rig)
    _sql(rig, "DELETE FROM incident_trace WHERE incident_id = :i", i=iid)
    assert any(f"incident {iid}: its SpO2/pulse trace was changed" in m
               for m in _messages(rig))


def test_an_interrupted_incidents_trace_is_sealed_up_to_the_crash(db_url):
    a = Rig(db_url)
    a.feed(0, 30, spo2=95)
    a.alarm("raised", 30)
    iid = a.open_id("s1")
    a.feed(30, 43, spo2=80)  # the newest rows are not sealed yet when the run dies
    a.crash()
    b = Rig(db_url)  # marks it interrupted, sealing what the dead run left
    try:
        rec = incident(b.store, iid)
        assert rec.interrupted and b.store.verify()[2] == []
        last = max(r["ts"] for r in trace(rec))
        _sql(b, "DELETE FROM incident_trace WHERE incident_id = :i AND ts = :t", i=iid, t=last)
        assert any(f"incident {iid}: its SpO2/pulse trace was changed" in m
                   for m in _messages(b))
    finally:
        b.close()


def test_newest_record_deleted_and_head_rewound_is_caught(rig):
    _open_incident(rig)
    with rig.store.engine.begin() as conn:
        last = conn.execute(text("SELECT max(seq) FROM incident_events")).scalar()
        prev = conn.execute(text("SELECT hash FROM incident_events WHERE seq = :s"),
                            {"s": last - 1}).scalar()
        conn.execute(text("DELETE FROM incident_events WHERE seq = :s"), {"s": last})
        conn.execute(text("UPDATE chain_head SET last_seq = :s, last_hash = :h WHERE id = 1"),
                     {"s": last - 1, "h": prev})
    msgs = _messages(rig)
    assert any("newest incident records are missing" in m and "head rewound" in m
               for m in msgs), msgs


def test_every_record_deleted_and_head_reset_is_caught(rig):
    _open_incident(rig)
    for table in ("incident_events", "incident_trace", "incidents", "audit_log", "alarm_log"):
        _sql(rig, f"DELETE FROM {table}")
    _sql(rig, "UPDATE chain_head SET last_seq = 0, last_hash = :h", h="0" * 64)
    msgs = _messages(rig)
    for chain in ("incident", "audit", "alarm"):
        assert any(f"newest {chain} records are missing" in m for m in msgs), (chain, msgs)


def test_an_edited_audit_entry_is_caught(rig):
    _open_incident(rig)
    _sql(rig, "UPDATE audit_log SET actor = 'someone else' WHERE action = 'incident_opened'")
    msgs = _messages(rig)
    assert any(m.startswith("audit record #") and "incident_opened" in m and
               "was edited after it was recorded" in m for m in msgs), msgs


def test_a_deleted_alarm_log_entry_is_caught(rig):
    _open_incident(rig)
    rig.alarm("cleared", 61)
    _sql(rig, "DELETE FROM alarm_log WHERE seq = 1")
    assert any(m.startswith("alarm record #1 is missing") for m in _messages(rig))


def test_an_incident_id_can_be_opened_only_once(rig):
    iid = _open_incident(rig)
    assert len(iid.rsplit("-", 1)[1]) == 12  # 48 random bits after the second
    with pytest.raises(IntegrityError), rig.store.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO incident_events (seq, incident_id, kind, ts, actor, data, "
            "recorded_ts, prev_hash, hash) VALUES (100000, :i, 'opened', 0, 'x', '{}', 0, "
            "'', '')"), {"i": iid})


def test_a_head_rewound_under_a_running_monitor_stays_caught(rig):
    """The monitor's next heartbeats must not copy the rewound head over what it saw."""
    test_newest_record_deleted_and_head_rewound_is_caught(rig)
    rig.feed(60, 70, spo2=82)  # monitoring goes on, writing more records
    assert any("chain was rewritten" in m or "newest incident records are missing" in m
               for m in _messages(rig))
