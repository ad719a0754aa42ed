"""The dashboard's flows, offscreen, on a ManualClock: alarm → acknowledge → incident →
actions → close; audio pause countdown; escalation; latching; lost device; no reading."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import Qt

from oximon.alerts import AlarmManager
from oximon.clock import ManualClock
from oximon.engine import Engine
from oximon.events import AlarmRaised, EngineEvent, IncidentClosed, IncidentOpened
from oximon.profile import load_profile
from oximon.types import (
    ConditionChange,
    DeviceInfo,
    DeviceState,
    Flags,
    Priority,
    Sample,
    StateChange,
    Station,
)
from oximon.ui.response import OXYGEN, RESCUE
from tests.eventkit import feed_as_source
from tests.ui_fakes import FakeIncidentLog, build_window

PLETH = tuple(float(50 + 30 * math.sin(i / 3)) for i in range(5))


class Rig:
    """An engine with n stations on a ManualClock, its window, and ways to feed it."""

    def __init__(self, qtbot, n: int = 2, alarms=AlarmManager, log=None, **seams):
        self.clock = ManualClock()
        self.engine = Engine(self.clock, load_profile(None), alarms)
        for i in range(n):
            self.engine.add_station(Station(f"s{i + 1}", alias=f"Booth {i + 1}",
                                            booth=str(i + 1),
                                            device=DeviceInfo(f"test:{i + 1}", "sim")))
            self.engine.feed(f"s{i + 1}", StateChange(0.0, DeviceState.STREAMING, ""))
        self.log = log
        self.window = build_window(self.engine, incident_log=log, **seams)
        qtbot.addWidget(self.window)
        self.window.resize(1366, 768)
        self.window.show()
        qtbot.waitExposed(self.window)
        self.window.windowHandle().requestActivate()  # offscreen windows start inactive
        qtbot.waitUntil(self.window.isActiveWindow)  # and shortcuts need an active one
        self.model = self.window.model

    def run(self, until: float, spo2: dict[str, float] | None = None, pr: float = 80.0,
            step: float = 0.5, flags: Flags = Flags.NONE) -> None:
        """Feed every station one sample per step up to `until` (spo2 per station, NaN
        for no reading) and tick the engine, as the source tasks and run() would."""
        t = self.clock.now()
        while t < until - 1e-9:
            t = round(t + step, 6)
            self.clock.set(t)
            for sid, live in self.engine.stations.items():
                if live.state in (DeviceState.LOST, DeviceState.RECONNECTING):
                    continue
                value = (spo2 or {}).get(sid, 97.0)
                pulse = math.nan if math.isnan(value) else pr
                feed_as_source(self.engine, sid, Sample(
                    t, value, pulse, pleth=PLETH, pleth_rate=10.0, flags=flags, signal=0.9,
                    battery=80.0))
            self.engine.tick(t)
        self.window.redraw()

    def advance(self, seconds: float) -> None:
        self.run(self.clock.now() + seconds)


def test_alarm_acknowledge_incident_actions_close(qtbot):
    log = FakeIncidentLog()
    asked: list[str] = []

    def confirm(_parent, _title: str, text: str) -> bool:
        asked.append(text)
        return True
    rig = Rig(qtbot, 3, log=log, confirm=confirm)
    w = rig.window
    rig.run(10.0)
    assert "no alarms" in w.banner.detail.text()
    rig.run(39.0, {"s2": 82.0})  # below 90 % for 15 s: high alarm on booth 2
    rig.run(40.0, {"s2": 82.0})  # on screen a second (Space's deliberate gate)
    assert w.banner.headline.text() == "■ HIGH ALARM"
    assert "Booth 2" in w.banner.detail.text()
    assert "low oxygen" in w.banner.detail.text().lower()
    assert "lowest 82 %" in w.banner.detail.text()
    tile = w.tiles["s2"]
    assert tile.ack.isVisible() and tile.border[1] > w.palette_.border_px
    assert not w.panels

    qtbot.keyClick(w, Qt.Key.Key_Space)  # acknowledge by key
    assert all(a.acknowledged for a in rig.model.views["s2"].alarms.values())  # one alarm
    assert not tile.ack.isVisible()
    assert log.calls[0][:4] == ("open", "s2", 40.0, "alarm")
    panel = w.panels["s2"]
    assert w.response.isVisible() and not panel.warning.isVisible()  # records are saved

    rig.clock.set(41.0)
    qtbot.mouseClick(panel.buttons["stimulated"], Qt.MouseButton.LeftButton)
    rig.clock.set(43.0)
    qtbot.mouseClick(panel.buttons["911_called"], Qt.MouseButton.LeftButton)
    rig.clock.set(45.0)
    qtbot.mouseClick(panel.buttons[RESCUE.key], Qt.MouseButton.LeftButton)
    assert panel.buttons[RESCUE.key].text() == RESCUE.off_label
    rig.clock.set(50.0)
    qtbot.mouseClick(panel.buttons["naloxone"], Qt.MouseButton.LeftButton)
    assert panel.buttons["naloxone"].text() == "Naloxone dose 2"
    qtbot.mouseClick(panel.buttons[OXYGEN.key], Qt.MouseButton.LeftButton)
    panel.signs["unresponsive"].setChecked(True)

    actions = log.actions()
    assert [(a, t) for a, t, _ in actions] == [
        ("stimulated", 41.0), ("911_called", 43.0), ("rescue_breaths_started", 45.0),
        ("naloxone", 50.0), ("oxygen_on", 50.0), ("sign", 50.0)]
    assert actions[3][2] == {"dose": 1, "amount_mg": 0.4, "amount_ml": 1.0, "route": "IM"}
    assert actions[5][2] == {"sign": "unresponsive", "present": True}
    assert panel.timeline.count() == 6
    assert "naloxone dose 1" in panel.timeline.item(2).text()  # newest first
    assert "(+0:01)   stimulated" in panel.timeline.item(5).text()
    marks = [m.short for m in rig.model.views["s2"].markers]
    assert marks == ["S", "911", "RB▶", "N1", "O₂+"]

    # Closing needs an outcome; running actions are stopped and recorded first.
    assert not panel.close_button.isEnabled()
    qtbot.mouseClick(panel.outcomes["breathing_on_own"], Qt.MouseButton.LeftButton)
    panel.aftercare["advised_no_use_2h"].setChecked(True)
    panel.note.setPlainText("came round after one dose")
    rig.clock.set(200.0)
    qtbot.mouseClick(panel.close_button, Qt.MouseButton.LeftButton)
    # SpO2 still reads 82 % and the alarm is active: the close is asked about first.
    assert len(asked) == 1 and "82 %" in asked[0] and "high alarm" in asked[0]
    closes = [c for c in log.calls if c[0] == "close"]
    assert closes == [("close", "inc-1", 200.0, "breathing_on_own",
                       ["advised_no_use_2h"], "came round after one dose")]
    assert ("rescue_breaths_stopped", 200.0) in [(a, t) for a, t, _ in log.actions()]
    assert ("oxygen_off", 200.0) in [(a, t) for a, t, _ in log.actions()]
    assert "s2" not in w.panels and "s2" not in rig.model.incidents
    assert not w.response.isVisible()


def test_pacer_and_naloxone_countdown_follow_the_engine_clock(qtbot):
    rig = Rig(qtbot, 1)
    rig.run(2.0)
    w = rig.window
    w.open_response("s1")
    panel = w.panels["s1"]
    assert panel.warning.isVisible()  # no store: says records are not being saved
    assert "not saved" in panel.warning.text().lower()
    rig.clock.set(10.0)
    panel.tap_toggle(RESCUE)
    for t, words in ((10.2, "● BREATHE NOW ●"), (12.0, "next breath in 3 s"),
                     (14.9, "next breath in 1 s"), (15.1, "● BREATHE NOW ●")):
        rig.clock.set(t)  # the engine's clock
        w.redraw()
        assert panel.pacer.text() == words
    rig.clock.set(20.0)
    panel.tap_naloxone()
    rig.clock.set(20.0 + 252.0)
    w.redraw()
    assert "second-dose check in 0:48" in panel.naloxone.text()
    assert panel.naloxone.objectName() == "dim"
    rig.clock.set(320.0)
    w.redraw()
    assert panel.naloxone.objectName() == "prompt"
    assert "not awake? Give dose 2" in panel.naloxone.text()
    panel.tap_naloxone()  # the second dose restarts the countdown
    w.redraw()
    assert "second-dose check in 5:00" in panel.naloxone.text()
    # Memory log kept everything although nothing is saved.
    assert [a for _, a, _ in panel.entries] == ["rescue_breaths_started", "naloxone",
                                               "naloxone"]


def test_failing_store_keeps_the_tap_and_says_so(qtbot):
    log = FakeIncidentLog(fail_actions=True)
    rig = Rig(qtbot, 1, log=log)
    rig.window.open_response("s1")
    panel = rig.window.panels["s1"]
    panel.tap("airway")
    assert panel.entries[-1][1] == "airway"
    assert panel.warning.isVisible() and "disk full" in panel.warning.text()


def test_audio_pause_countdown_from_alarm_events(qtbot):
    rig = Rig(qtbot, 2)
    w = rig.window
    rig.run(30.0, {"s1": 80.0})
    assert w.banner.pause.isEnabled()
    qtbot.keyClick(w, Qt.Key.Key_P)
    assert w.banner.pause.text() == "Audio paused 2:00"
    rig.advance(30.0)
    assert w.banner.pause.text() == "Audio paused 1:30"
    rig.advance(89.5)
    assert w.banner.pause.text() == "Audio paused 0:01"
    rig.advance(1.0)  # the alarm system resumes audio at 2:00
    assert w.model.audio_pause_left() is None
    assert w.banner.pause.text() == "Pause audio  [P]"


def test_audio_pause_without_alarm_support_counts_down_locally(qtbot):
    rig = Rig(qtbot, 1)  # the minimal manager has no pause_audio
    w = rig.window
    rig.run(30.0, {"s1": 80.0})
    qtbot.mouseClick(w.banner.pause, Qt.MouseButton.LeftButton)
    assert w.banner.pause.text() == "Audio paused 2:00"
    rig.advance(60.0)
    assert w.banner.pause.text() == "Audio paused 1:00"
    rig.advance(61.0)
    assert w.banner.pause.text() == "Pause audio  [P]"


def test_escalated_alarm_takes_the_screen_until_acknowledged(qtbot):
    rig = Rig(qtbot, 4)
    w = rig.window
    rig.run(30.0, {"s3": 80.0})
    assert not w.overlay.isVisible()  # severe (< 85 for 5 s) raised at ~5 s, not escalated
    rig.run(40.0, {"s3": 80.0})
    assert w.overlay.isVisible()
    central = w.centralWidget()
    assert central is not None and w.overlay.geometry() == central.rect()
    assert "Booth 3" in w.overlay.title.text()
    assert "not acknowledged" in w.overlay.subtitle.text()
    assert not w.overlay.ack.isEnabled()  # just shown: not yet
    rig.run(41.0, {"s3": 80.0})
    qtbot.mouseClick(w.overlay.ack, Qt.MouseButton.LeftButton)  # by touch/click
    w.redraw()
    assert not w.overlay.isVisible()
    assert "s3" in w.panels  # a high alarm on a person opens the response


def test_latched_alarm_shows_what_happened(qtbot):
    rig = Rig(qtbot, 1)
    w = rig.window
    rig.run(25.0, {"s1": 84.0})
    rig.run(31.0, {"s1": 83.0})  # longer than the 4 s averaging window
    rig.run(45.0, {"s1": 95.0})  # recovered before anyone acknowledged
    alarm = rig.model.views["s1"].alarms["spo2_low"]
    assert alarm.latched
    assert "was 83 %, now 95 %" in w.tiles["s1"].alarm.toolTip()
    assert "was 83 %, now 95 %" in w.banner.detail.text()
    assert "still needs acknowledging" in w.banner.detail.text()
    w.tiles["s1"].ack.click()
    w.redraw()
    assert not rig.model.views["s1"].alarms
    assert "no alarms" in w.banner.detail.text()


def test_lost_device_shows_words_never_numbers(qtbot):
    rig = Rig(qtbot, 2)
    w = rig.window
    rig.run(10.0, {"s1": 96.0})
    tile = w.tiles["s1"]
    assert tile.stack.currentIndex() == 0 and tile.spo2.text() == "96"
    rig.engine.feed("s1", StateChange(10.0, DeviceState.LOST, "link dropped"))
    rig.run(17.0)
    assert tile.stack.currentIndex() == 1  # the numbers page is gone
    assert tile.words.text() == "Lost device (link dropped)"
    assert tile.since.text() == "last valid reading 7 s ago"
    assert not tile.band.text()
    assert "Lost device" in w.banner.detail.text()
    assert rig.model.views["s1"].health.drops == 1
    # The trend has a gap for the lost seconds, not a frozen line.
    trend = rig.model.views["s1"].trend_spo2.values()
    assert math.isnan(trend[-1]) and trend[-12] == 96.0
    # Back: numbers return only with a valid reading.
    rig.engine.feed("s1", StateChange(17.0, DeviceState.STREAMING, "reconnected"))
    rig.run(18.0, {"s1": 95.0})
    assert tile.stack.currentIndex() == 0 and tile.spo2.text() == "95"
    # Devices view counts the drop.
    dialog = w.open_devices()
    qtbot.addWidget(dialog)
    row = dict(zip(dialog.COLUMNS, dialog.health_rows()[0], strict=True))
    assert row["Drops this shift"] == "1" and row["Battery"] == "80 %"
    dialog.close()


def test_no_reading_prompts_a_look_at_the_person(qtbot):
    rig = Rig(qtbot, 1)
    rig.run(5.0)
    rig.run(20.0, {"s1": math.nan}, flags=Flags.FINGER_OUT)
    tile = rig.window.tiles["s1"]
    assert tile.words.text() == "No reading — check on the person (finger out)"
    assert tile.stack.currentIndex() == 1
    assert "No reading" in rig.window.banner.detail.text()


@pytest.mark.parametrize("low,words,shape", [(97.0, "normal", "●"), (92.0, "watch", "◆"),
                                             (87.0, "LOW", "▼")])
def test_band_in_words_shape_and_colour(qtbot, low, words, shape):
    rig = Rig(qtbot, 1)
    rig.run(3.0, {"s1": low})
    tile = rig.window.tiles["s1"]
    assert tile.band.text() == f"{shape} {words}"
    band = {"●": "normal", "◆": "watch", "▼": "low"}[shape]
    from oximon.alerts.visual import ALARM_VISUALS
    alarm_shapes = {v.shape for p, v in ALARM_VISUALS.items() if p >= Priority.MEDIUM}
    assert shape not in alarm_shapes  # an alarm's shape means only that alarm
    assert rig.window.palette_.bands[band] in tile.band.styleSheet()


class OpensOnHighAlarm:
    """A RecordSink like the store's (issue 6): a high alarm opens an incident and the
    engine publishes the store's "incident opened" event."""

    def __init__(self, log: FakeIncidentLog):
        self.log = log

    def on_sample(self, station: str, sample: Sample) -> None:
        pass

    def on_event(self, event: EngineEvent) -> list[EngineEvent | ConditionChange]:
        if isinstance(event, AlarmRaised) and event.priority is Priority.HIGH:
            if self.log.current_incident(event.station):  # one incident per episode
                return []
            iid = self.log.open_incident(event.station, event.t, "alarm")
            return [IncidentOpened(t=event.t, station=event.station, id=iid)]
        return []

    def flush(self) -> list[EngineEvent | ConditionChange]:
        return []

    def tick(self, now: float) -> list[EngineEvent | ConditionChange]:
        return []

    def apply_profile(self, profile) -> None:
        pass

    def close(self) -> None:
        pass


def test_store_opened_incident_shows_the_panel_and_acknowledge_reuses_it(qtbot):
    log = FakeIncidentLog()
    rig = Rig(qtbot, 2, log=log)
    rig.engine.records = OpensOnHighAlarm(log)
    rig.run(30.0, {"s1": 80.0})
    assert rig.window.panels["s1"].incident_id == "inc-1"  # opened with the alarm
    rig.window.acknowledge("s1")
    assert [c[0] for c in log.calls] == ["open"]  # acknowledging did not open another
    rig.engine._publish([IncidentClosed(t=31.0, station="s1", id="inc-1")])
    assert "s1" not in rig.window.panels
