"""The response record on the dashboard: what a person enters is never thrown away (not even
when oximon closes the record by itself), several outcomes, who acted and who completed
it, naloxone dose and route, undo of the last tap, discarding an incident opened by
mistake, and timers that stay in sight when another booth's tab is in front."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import datetime

import pytest
from PySide6.QtWidgets import QWidget

from oximon.cli.wiring import build_engine
from oximon.ports import Source
from oximon.profile import load_profile
from oximon.store import open_store
from oximon.types import DeviceInfo, DeviceState, StateChange, Station
from tests.test_dashboard_flows import Rig
from tests.ui_fakes import build_window


class StoreRig(Rig):
    """Rig on a real SQLite incident store, wired as `oximon dashboard` wires it."""

    def __init__(self, qtbot, tmp_path, n: int = 2):
        from oximon.clock import ManualClock

        self.clock = ManualClock()
        self.store = open_store(f"sqlite:///{tmp_path / 'o.db'}", clock=self.clock,
                                writer=True)
        stations: list[tuple[Station, Source | None]] = [
            (Station(f"s{i + 1}", alias=f"Booth {i + 1}", booth=str(i + 1),
                     device=DeviceInfo(f"test:{i + 1}", "sim")), None)
            for i in range(n)]
        self.engine = build_engine(self.clock, load_profile(None), stations, self.store)
        for i in range(n):
            self.engine.feed(f"s{i + 1}", StateChange(0.0, DeviceState.STREAMING, ""))
        self.log = self.store
        self.asked: list[str] = []  # questions put to the person (answered yes)
        self.window = build_window(self.engine, incident_log=self.store,
                                   confirm=self._yes)
        qtbot.addWidget(self.window)
        self.window.resize(1366, 768)
        self.window.show()
        qtbot.waitExposed(self.window)
        self.window.windowHandle().requestActivate()
        qtbot.waitUntil(self.window.isActiveWindow)
        self.model = self.window.model

    def _yes(self, _parent, _title: str, text: str) -> bool:
        self.asked.append(text)
        return True

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


def alarm_and_panel(rig):
    rig.run(10.0)
    rig.run(40.0, {"s2": 82.0})
    rig.window.acknowledge("s2")
    return rig.window.panels["s2"]


def test_several_outcomes_responders_and_who_completed_the_record(srig):
    rig = srig
    panel = alarm_and_panel(rig)
    iid = panel.incident_id
    assert panel.by == "peer worker"
    panel.tap("stimulated")
    panel.set_responder("JD")  # initials, typed once ...
    panel.tap("airway")
    assert "JD" in rig.window.responders.names  # ... remembered for the shift
    panel.outcomes["responsive"].click()
    panel.outcomes["transported"].click()  # several outcomes apply
    assert panel.outcomes["responsive"].isChecked()
    panel.close_button.click()
    rec = rig.record(iid)
    assert sorted(rec.outcome) == ["responsive", "transported"]
    assert [(a["action"], a["by"]) for a in rec.actions] == [("stimulated", "peer worker"),
                                                             ("airway", "JD")]
    assert rec.responders == ["peer worker", "JD"] and rec.completed_by == "JD"
    assert rec.closed_by == "JD"
    # The next panel starts with the last responder and offers every name of the shift.
    rig.run(rig.clock.now() + 30.0, {"s1": 82.0})
    rig.window.acknowledge("s1")
    nxt = rig.window.panels["s1"]
    assert nxt.by == "JD"
    assert [nxt.responder.itemText(i) for i in range(nxt.responder.count())] == \
        ["peer worker", "JD"]


def test_naloxone_route_and_dose_are_recorded(srig):
    rig = srig
    panel = alarm_and_panel(rig)
    assert (panel.route.currentText(), panel.amount.currentText()) == ("IM", "0.4 mg (1 mL)")
    panel.tap_naloxone()
    panel.route.setCurrentText("IN")
    assert panel.amount.currentText() == "4 mg spray"
    rig.clock.set(rig.clock.now() + 1.0)
    panel.tap_naloxone()
    rec = rig.record(panel.incident_id)
    doses = [a["details"] for a in rec.naloxone]
    assert doses == [{"dose": 1, "amount_mg": 0.4, "amount_ml": 1.0, "route": "IM"},
                     {"dose": 2, "amount_mg": 4.0, "route": "IN"}]
    assert "naloxone dose 2 (4 mg IN)" in panel.timeline.item(0).text()


def test_undo_the_last_tap_within_10_s_is_a_void_never_a_deletion(srig):
    rig = srig
    panel = alarm_and_panel(rig)
    t0 = rig.clock.now()
    panel.tap_naloxone()
    rig.window.redraw()
    assert panel.undo_button.isVisible() and "(10 s)" in panel.undo_button.text()
    assert [m.short for m in rig.model.views["s2"].markers] == ["N1"]
    rig.clock.set(t0 + 4.0)
    assert panel.undo_last()
    assert panel.naloxone_doses == [] and panel.buttons["naloxone"].text() == "Naloxone dose 1"
    assert rig.model.views["s2"].markers == [] and not panel.undo_button.isVisible()
    assert panel.timeline.item(0).font().strikeOut()
    panel.tap("stimulated")
    rig.clock.set(rig.clock.now() + 11.0)
    rig.window.redraw()
    assert not panel.undo_button.isVisible() and not panel.undo_last()  # too late
    rec = rig.record(panel.incident_id)
    assert [(a["action"], bool(a.get("void"))) for a in rec.actions] == [
        ("naloxone", True), ("stimulated", False)]  # kept, struck out
    assert rec.naloxone == [] and rec.amendments[0]["changes"]["void_action"] > 0
    assert "undone" in rec.amendments[0]["reason"]


def test_undo_a_toggle_and_a_sign_puts_the_screen_back(qtbot):
    from oximon.ui.response import RESCUE
    from tests.ui_fakes import FakeIncidentLog

    log = FakeIncidentLog()
    rig = Rig(qtbot, 1, log=log)
    rig.window.open_response("s1")
    panel = rig.window.panels["s1"]
    panel.tap_toggle(RESCUE)
    assert panel.undo_last() and panel.toggles[RESCUE.key] is None
    assert panel.buttons[RESCUE.key].text() == RESCUE.on_label
    panel.signs["tiny_pupils"].setChecked(True)
    assert panel.undo_last() and not panel.signs["tiny_pupils"].isChecked()
    assert [c[2] for c in log.calls if c[0] == "void"] == ["rescue_breaths_started", "sign"]
    assert len(log.actions()) == 2  # what was tapped stays recorded


def test_an_incident_opened_by_mistake_is_discarded_and_not_counted(srig):
    from oximon.report import build_report
    from oximon.review import IncidentFilter
    from oximon.review_store import StoreReview

    rig = srig
    rig.run(5.0)
    answers: list[str] = []

    def confirm(_parent: QWidget, _title: str, text: str) -> bool:
        answers.append(text)
        return True

    rig.window.services = replace(rig.window.services, confirm=confirm)
    iid = rig.window.open_response("s1")  # R on the wrong booth
    panel = rig.window.panels["s1"]
    assert panel.confirm is rig.window.services.confirm
    assert panel.discard()
    assert "not counted" in answers[0] and "s1" not in rig.window.panels
    rec = rig.record(iid)
    assert rec.status == "closed" and rec.outcome == ["opened_in_error"]
    incidents = StoreReview(rig.store).list_incidents(IncidentFilter())
    assert [i.id for i in incidents] == [iid]
    when = datetime.fromtimestamp(incidents[0].opened_ts)
    assert build_report(incidents, when.year, when.month).total.incidents == 0
    counted = [dataclasses.replace(incidents[0], outcome=("responsive",))]
    assert build_report(counted, when.year, when.month).total.incidents == 1


def test_second_dose_prompt_in_the_banner_and_timers_of_booths_behind_the_tab(qtbot):
    from oximon.ui.response import RESCUE

    rig = Rig(qtbot, 3)
    w = rig.window
    rig.run(2.0)
    w.open_response("s1")
    w.panels["s1"].tap_naloxone()  # booth 1: countdown to the second-dose check
    rig.clock.set(10.0)
    w.open_response("s3")  # booth 3's tab comes to the front
    w.panels["s3"].tap_toggle(RESCUE)
    rig.clock.set(100.0)
    w.redraw()
    assert w.response.currentWidget() is w.panels["s3"]
    assert w.timers.isVisible()
    assert "Booth 1" in w.timers.text() and "second-dose check in 3:22" in w.timers.text()
    assert "Booth 3" not in w.timers.text()  # its own tab shows its pacer
    w.response.setCurrentWidget(w.panels["s1"])
    rig.clock.set(101.0)
    w.redraw()
    assert "Booth 3" in w.timers.text() and "next breath in" in w.timers.text()
    w.response.setCurrentWidget(w.panels["s3"])
    rig.clock.set(303.0)  # 5 min since booth 1's dose
    w.redraw()
    assert w.banner.prompt.isVisible() and w.banner.prompt.fits()
    assert "Booth 1: 5 minutes since naloxone dose 1" in w.banner.prompt.text()
    assert "GIVE NALOXONE DOSE 2?" in w.timers.text()
    assert "no alarms" in w.banner.text() and "Booth 1: 5 minutes" in w.banner.text()
    height = w.banner.height()
    w.panels["s1"].tap_naloxone()
    w.redraw()
    assert "naloxone" not in w.banner.prompt.text().lower()  # its line is free again
    assert w.banner.height() == height  # and the banner kept its height
