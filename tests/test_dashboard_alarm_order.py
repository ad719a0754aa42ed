"""Who needs me first: a person's vital-sign alarm outranks a technical one, even an
escalated one; the escalation overlay names every booth waiting and comes to the front;
a silent device never leaves old numbers on its tile."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt

from oximon.alarms import AlarmView
from oximon.types import DeviceState, Priority, SourceEvent, StateChange
from tests.test_dashboard_flows import Rig


def test_vital_high_alarm_outranks_an_escalated_lost_device(qtbot):
    rig = Rig(qtbot, 3)
    w = rig.window
    rig.run(10.0)
    rig.engine.feed("s1", StateChange(10.0, DeviceState.LOST, "link dropped"))
    rig.run(80.0)
    lost = rig.model.views["s1"].alarms["lost_device"]
    assert lost.escalated and w.overlay.isVisible() and w.overlay.station == "s1"
    rig.run(100.0, {"s2": 78.0})  # severe low oxygen on booth 2, not yet escalated
    top = rig.model.all_alarms()[0]
    assert (top.station, top.technical) == ("s2", False)
    assert w.banner.station == "s2" and "Booth 2" in w.banner.detail.text()
    assert w.overlay.isVisible() and "Booth 2" in w.overlay.title.text()
    assert w.overlay.others.text() == "Also waiting:\n■ Booth 1 — escalated, SpO₂ no reading"
    assert "Booth 1: Lost device" in w.overlay.others.toolTip()
    assert w.overlay.spo2.text() == "SpO₂ 78\u00a0%"  # its live number, on its own line
    rig.run(101.0, {"s2": 78.0})  # Booth 2 on screen for a second before Space counts
    qtbot.keyClick(w, Qt.Key.Key_Space)  # acknowledges the person first
    w.redraw()
    assert rig.model.views["s2"].alarms["spo2_severe"].acknowledged
    assert not lost.acknowledged
    assert w.overlay.isVisible() and "Booth 1" in w.overlay.title.text()
    assert "s2" in w.panels


def test_sort_key_orders_by_priority_then_vital_then_escalated():
    def alarm(station: str, priority: Priority = Priority.HIGH, technical: bool = False,
              escalated: bool = False, acknowledged: bool = False,
              raised_t: float = 0.0) -> AlarmView:
        return AlarmView(station, "c", priority, technical, "", raised_t, True, None, None,
                         None, 1.0 if acknowledged else None, "", 1.0 if escalated else None)

    escalated_tech = alarm(station="a", technical=True, escalated=True, raised_t=1.0)
    vital = alarm(station="b", raised_t=5.0)
    escalated_vital = alarm(station="c", escalated=True, raised_t=9.0)
    medium = alarm(station="d", priority=Priority.MEDIUM, escalated=True)
    acked = alarm(station="e", acknowledged=True)
    ordered = sorted([acked, medium, escalated_tech, vital, escalated_vital],
                     key=AlarmView.sort_key)
    assert [a.station for a in ordered] == ["c", "b", "a", "d", "e"]
    assert math.isfinite(ordered[0].raised_t)


def test_a_silent_device_never_leaves_old_numbers_or_a_frozen_wave(qtbot, monkeypatch):
    """No state change, no samples: after 3 s the tile says so instead of the last value."""
    rig = Rig(qtbot, 2)
    w = rig.window
    rig.run(10.0)
    tile = w.tiles["s1"]
    assert tile.stack.currentIndex() == 0 and tile.spo2.text() == "97"
    assert tile.wave._path.elementCount() > 0
    silent_from = rig.clock.now()
    rig.engine.stations["s1"].state = DeviceState.STREAMING  # nothing says it stopped
    feed = rig.engine.feed

    def feed_all_but_s1(sid: str, item: SourceEvent) -> None:
        if sid != "s1":
            feed(sid, item)
    monkeypatch.setattr(rig.engine, "feed", feed_all_but_s1)
    try:
        rig.run(silent_from + 2.5)
        assert tile.stack.currentIndex() == 0  # under 3 s: still a current reading
        rig.run(silent_from + 4.0)
        assert rig.engine.stations["s1"].state is DeviceState.STREAMING
        assert tile.stack.currentIndex() == 1
        assert tile.words.text() == "No reading — check on the person"
        assert tile.since.text() == "last valid reading 4 s ago"
        assert tile.wave._path.elementCount() == 0  # no frozen pleth
        assert w.tiles["s2"].stack.currentIndex() == 0
    finally:
        monkeypatch.undo()
    rig.run(silent_from + 5.0)
    assert tile.stack.currentIndex() == 0 and tile.wave._path.elementCount() > 0


def test_escalation_comes_to_the_front_over_a_dialog_and_space_reaches_it(qtbot):
    rig = Rig(qtbot, 3)
    w = rig.window
    rig.run(5.0)
    dialog = w.open_devices()
    qtbot.addWidget(dialog)
    dialog.windowHandle().requestActivate()
    qtbot.waitUntil(dialog.isActiveWindow)
    rig.run(50.0, {"s2": 80.0})  # severe low, escalated after 30 s unacknowledged
    assert w.overlay.isVisible() and "Booth 2" in w.overlay.title.text()
    assert not dialog.isVisible()  # stepped aside
    qtbot.waitUntil(w.isActiveWindow)
    # Even with the keyboard in another oximon window, Space acknowledges the overlay.
    dialog.show()
    dialog.windowHandle().requestActivate()
    qtbot.waitUntil(dialog.isActiveWindow)
    rig.run(51.0, {"s2": 80.0})  # on screen for a second: now Space may acknowledge it
    qtbot.keyClick(dialog, Qt.Key.Key_Space)
    w.redraw()
    assert rig.model.views["s2"].alarms["spo2_severe"].acknowledged
    assert not w.overlay.isVisible() and dialog.isVisible()
    dialog.close()
