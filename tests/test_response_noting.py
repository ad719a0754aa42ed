"""A response action logged on screen holds back the alarm's reminder (issue 12): the
dashboard's incident log tells the engine, for incidents it opened and for those the store
opened on a high alarm (learnt from the IncidentOpened event)."""

from __future__ import annotations

from oximon.alerts import AlarmManager
from oximon.clock import ManualClock
from oximon.engine import Engine
from oximon.events import IncidentOpened
from oximon.incident_log import ResponseNoting
from oximon.profile import Profile
from oximon.types import ConditionChange, DeviceState, Priority, StateChange, Station
from tests.ui_fakes import FakeIncidentLog


def _rig() -> tuple[Engine, ManualClock, list[str]]:
    clock = ManualClock()
    engine = Engine(clock, Profile.default(), AlarmManager)
    engine.add_station(Station("b1"))
    engine.feed("b1", StateChange(0.0, DeviceState.STREAMING))
    states: list[str] = []
    engine.subscribe(lambda e: states.append(e.state) if e.kind == "alarm" else None)
    engine.report([ConditionChange("b1", "spo2_low", True, 10.0, Priority.HIGH, value=84.0)])
    clock.set(20.0)
    engine.acknowledge("b1", by="peer")
    return engine, clock, states


def test_an_action_on_an_incident_the_store_opened_holds_the_reminder_back() -> None:
    engine, clock, states = _rig()
    log = ResponseNoting(FakeIncidentLog(), engine)
    engine._publish([IncidentOpened(t=10.0, station="b1", id="inc-9")])  # the store's
    clock.set(130.0)
    log.record_action("inc-9", "stimulated", 130.0, by="peer")
    engine.tick(145.0)  # 125 s after the acknowledge: no reminder, someone is working
    assert "reminder" not in states
    engine.tick(260.0)  # 130 s after the last action logged
    assert states.count("reminder") == 1


def test_without_actions_the_reminder_comes() -> None:
    engine, _clock, states = _rig()
    ResponseNoting(FakeIncidentLog(), engine)
    engine.tick(145.0)
    assert states.count("reminder") == 1
