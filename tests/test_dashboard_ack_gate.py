"""Space from the banner (no escalation overlay) has the overlay's deliberate gate: the
booth it acknowledges must have been on screen, with the same waiting alarms, for a second;
a second press or key repeat within that second is ignored (engine time, ManualClock)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from oximon.types import DeviceState, StateChange
from oximon.ui.alarm_views import ACK_AFTER_S
from tests.test_dashboard_flows import Rig


def unacked(rig: Rig, sid: str) -> bool:
    return any(not a.acknowledged for a in rig.model.views[sid].alarms.values())


def test_space_on_the_banner_waits_a_second_and_ignores_a_second_press(qtbot):
    rig = Rig(qtbot, 3)
    w = rig.window
    rig.run(10.0)
    rig.run(40.0, {"s1": 82.0, "s2": 83.0})  # two high alarms, neither escalated yet
    assert not w.overlay.isVisible()
    first = w.banner.station
    other = "s2" if first == "s1" else "s1"
    qtbot.keyClick(w, Qt.Key.Key_Space)  # shown for less than a second: ignored
    assert unacked(rig, first) and "after a second" in w.status.text()
    assert not w.banner.ack.isEnabled()
    rig.clock.set(40.0 + ACK_AFTER_S)
    w.redraw()
    assert w.banner.ack.isEnabled()
    qtbot.keyClick(w, Qt.Key.Key_Space)  # on screen a second: acknowledged
    assert not unacked(rig, first)
    assert w.banner.station == other
    for dt in (0.25, 0.9):  # the double press, and a press just under a second later
        rig.clock.set(40.0 + ACK_AFTER_S + dt)
        w.redraw()
        qtbot.keyClick(w, Qt.Key.Key_Space)
        assert unacked(rig, other), dt
        w.banner.ack.click()  # the button has the same gate
        assert unacked(rig, other), dt
    rig.clock.set(40.0 + 2 * ACK_AFTER_S)
    w.redraw()
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert not unacked(rig, other)
    assert all(not sc.autoRepeat() for sc in w.shortcuts[:3])


def test_a_more_urgent_booth_taking_the_front_just_before_space_is_not_acknowledged(qtbot):
    rig = Rig(qtbot, 2)
    w = rig.window
    rig.run(10.0)
    rig.engine.feed("s1", StateChange(10.0, DeviceState.LOST, "link dropped"))
    while w.banner.station != "s1":
        rig.advance(0.5)
        assert rig.clock.now() < 60.0
    rig.advance(2.0)
    assert w.banner.station == "s1" and w.banner.ready()  # the lost device, for a while
    t = rig.clock.now()
    while w.banner.station == "s1":  # a person's low oxygen on booth 2 outranks it
        rig.run(t + 0.5, {"s2": 70.0})
        t = rig.clock.now()
        assert t < 60.0
    assert not w.overlay.isVisible()
    qtbot.keyClick(w, Qt.Key.Key_Space)  # meant for booth 1, pressed as booth 2 came
    assert unacked(rig, "s2") and unacked(rig, "s1")
    rig.run(t + ACK_AFTER_S, {"s2": 70.0})
    assert not w.overlay.isVisible()
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert not unacked(rig, "s2") and unacked(rig, "s1")
