"""The response record on the dashboard: what a person enters is never thrown away (not even
when oximon closes the record by itself), several outcomes, who acted and who completed
it, naloxone dose and route, undo of the last tap, discarding an incident opened by
mistake, and timers that stay in sight when another booth's tab is in front."""

from __future__ import annotations

import pytest

from oximon.cli.wiring import build_engine
from oximon.profile import load_profile
from oximon.store import open_store
from oximon.types import DeviceInfo, DeviceState, StateChange, Station
from tests.test_dashboard_flows import Rig
from ui.app import build_window


class StoreRig(Rig):
    """Rig on a real SQLite incident store, wired as `oximon dashboard` wires it."""

    def __init__(self, qtbot, tmp_path, n: int = 2):
        from oximon.clock import ManualClock

        self.clock = ManualClock()
        self.store = open_store(f"sqlite:///{tmp_path / 'o.db'}", clock=self.clock,
                                writer=True)
        stations = [(Station(f"s{i + 1}", alias=f"Booth {i + 1}", booth=str(i + 1),
                             device=DeviceInfo(f"test:{i + 1}", "sim")), None)
                    for i in range(n)]
        self.engine = build_engine(self.clock, load_profile(None), stations, self.store)
        for i in range(n):
            self.engine.feed(f"s{i + 1}", StateChange(0.0, DeviceState.STREAMING, ""))
        self.log = self.store
        self.window = build_window(self.engine, incident_log=self.store)
        qtbot.addWidget(self.window)
        self.window.resize(1366, 768)
        self.window.show()
        qtbot.waitExposed(self.window)
        self.window.windowHandle().requestActivate()
        qtbot.waitUntil(self.window.isActiveWindow)
        self.model = self.window.model

    def record(self, iid: str):
        self.store.flush()
        return self.store.get_incident(iid, with_trace=False)


@pytest.fixture
def srig(qtbot, tmp_path):
    rig = StoreRig(qtbot, tmp_path)
    yield rig
    rig.window.timer.stop()
    rig.store.close()


def test_panel_with_entries_survives_oximon_closing_the_record(srig):
    rig, w = srig, srig.window
    rig.run(10.0)
    rig.run(40.0, {"s2": 82.0})
    w.acknowledge("s2")
    panel = w.panels["s2"]
    iid = panel.incident_id
    panel.outcomes["responsive"].click()
    panel.aftercare["advised_no_use_2h"].setChecked(True)
    panel.note.setPlainText("sat up, talking")
    rig.run(60.0 + 11 * 60, {"s2": 96.0}, step=1.0)  # quiet > 10 min: oximon closes it
    assert rig.store.current_incident("s2") is None and "s2" not in rig.model.incidents
    assert w.panels["s2"] is panel and w.response.isVisible()  # the entries are still here
    assert panel.warning.isVisible() and "oximon closed this record" in panel.warning.text()
    # R shows this record again rather than opening a new one.
    assert w.open_response("s2") == iid and rig.store.current_incident("s2") is None
    panel.tap("recovery_position")  # still recorded (late)
    panel.close_button.click()
    assert "s2" not in w.panels
    rec = rig.record(iid)
    assert rec.outcome == ["responsive"] and rec.aftercare == ["advised_no_use_2h"]
    assert rec.close_note == "sat up, talking" and not rec.auto_closed
    assert [a["action"] for a in rec.actions] == ["recovery_position"]


def test_untouched_panel_goes_when_oximon_closes_the_record(srig):
    rig, w = srig, srig.window
    rig.run(10.0)
    rig.run(40.0, {"s2": 82.0})
    w.acknowledge("s2")
    assert "s2" in w.panels
    rig.run(60.0 + 11 * 60, {"s2": 96.0}, step=1.0)
    assert "s2" not in w.panels and not w.response.isVisible()


def test_unfinished_record_stays_beside_a_new_incident_on_the_same_booth(srig):
    rig, w = srig, srig.window
    rig.run(10.0)
    rig.run(40.0, {"s2": 82.0})
    w.acknowledge("s2")
    old = w.panels["s2"]
    old.note.setPlainText("first episode")
    rig.run(60.0 + 11 * 60, {"s2": 96.0}, step=1.0)
    assert old.closed_by_system_t is not None
    rig.run(rig.clock.now() + 30.0, {"s2": 82.0})  # a new episode: a new incident
    new = w.panels["s2"]
    assert new is not old and new.incident_id != old.incident_id
    assert w.finishing[old.incident_id] is old and w.response.indexOf(old) >= 0
    assert "(closed)" in w.response.tabText(w.response.indexOf(old))
    old.outcomes["breathing_on_own"].click()
    old.close_button.click()
    assert old.incident_id not in w.finishing and w.panels["s2"] is new
    assert rig.record(old.incident_id).close_note == "first episode"
