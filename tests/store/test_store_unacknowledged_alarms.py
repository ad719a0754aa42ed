"""The store gives back the unacknowledged high alarms of an interrupted incident, so a
restarted monitor brings them back latched (issue 12)."""

from __future__ import annotations

from oximon.store import open_store
from tests.store.storerig import Rig


def test_unacknowledged_high_alarms_of_open_incidents(rig: Rig) -> None:
    rig.feed(0, 5)
    rig.alarm("raised", 5.0, "s1", "spo2_low")  # opens an incident on s1
    rig.alarm("escalated", 35.0, "s1", "spo2_low")
    rig.alarm("raised", 6.0, "s2", "spo2_low")  # s2: acknowledged, so not brought back
    rig.alarm("acknowledged", 8.0, "s2", "spo2_low")
    rig.alarm("raised", 9.0, "s2", "no_reading", "medium", technical=True)
    rig.store.flush()
    rig.store.settle()
    got = rig.store.unacknowledged_high_alarms()
    assert got == [{"station": "s1", "condition": "spo2_low", "priority": "high",
                    "message": "", "value": None, "worst": None, "escalated": True}]
    rig.alarm("acknowledged", 40.0, "s1", "spo2_low")
    rig.store.flush()
    assert rig.store.unacknowledged_high_alarms() == []


def test_a_closed_incident_brings_nothing_back(rig: Rig) -> None:
    rig.alarm("raised", 5.0, "s1", "spo2_low")
    iid = rig.store.current_incident("s1")
    assert iid is not None
    rig.store.close_incident(iid, 20.0, ["responsive"], [], "peer", "")
    rig.store.flush()
    with open_store(rig.url) as again:
        assert again.unacknowledged_high_alarms() == []
