"""The dashboard wired to the rest of oximon: supervisor mode (one session, settings editable
only while it is unlocked, every change in the store's audit log, the new profile in force
on every station), the review window on the same store and session, device discovery on
the drivers' scan code, and station changes saved to the site file."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from oximon.cli.dashboard import seams
from oximon.cli.discovery import hardware_discovery
from oximon.cli.wiring import build_engine, configured_stations, demo_specs, open_sources
from oximon.clock import ManualClock
from oximon.config import SiteConfig, StationConfig, load_config, save_config
from oximon.drivers import ble, open_source
from oximon.drivers.serial_port import PortInfo
from oximon.events import EngineEvent, payload
from oximon.profile import load_profile
from oximon.review_store import StoreReview
from oximon.station_book import StationBook
from oximon.store import open_store
from oximon.supervisor import PasswordFile, SupervisorSession
from oximon.types import Sample
from oximon.ui.devices import Discovery, FoundDevice, Scan, ScanResult, simulated_discovery
from oximon.ui.qtdates import to_qdate
from oximon.ui.response import AFTERCARE, CPR, OUTCOMES, OXYGEN, RESCUE, SIGNS, SINGLE
from oximon.ui.review.login import LoginDialog
from oximon.ui.review.window import ReviewWindow
from oximon.ui.settings import StoreAuditSink
from tests.ui_fakes import build_window

PASSWORD = "night-shift-42"


class FakeMono:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def wired(qtbot, tmp_path):
    """A two-station dashboard on a real SQLite store, with its session and review."""
    clock = ManualClock()
    store = open_store(f"sqlite:///{tmp_path / 'oximon.db'}", clock=clock, writer=True)
    profile = load_profile(None)
    engine = build_engine(clock, profile, list(open_sources(demo_specs(2))), store)
    review = StoreReview(store)
    mono = FakeMono()
    session = SupervisorSession(PasswordFile(tmp_path / "cfg" / "supervisor.json"),
                                clock=mono, lock_after_s=60, audit=review.audit, kdf_n=2**10)
    window = build_window(engine, incident_log=store, session=session, review=review,
                          audit=StoreAuditSink(store))
    qtbot.addWidget(window)
    window.show()
    yield window, engine, store, session, mono, clock
    if window.review_window is not None:
        window.review_window.lock_timer.stop()
        window.review_window.close()
    window.timer.stop()
    store.close()


def answer_login(password: str, who: str = "sup-1") -> None:
    """Fill the password dialog once it is shown (it runs modally)."""
    def fill() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, LoginDialog):
            QTimer.singleShot(10, fill)
            return
        dialog.who.setText(who)
        dialog.password.setText(password)
        dialog.repeat.setText(password)
        dialog.try_accept()
        if dialog.isVisible():  # refused: give up so the test sees it
            dialog.reject()
    QTimer.singleShot(0, fill)


def actions(store, prefix: str) -> list[dict]:
    return [e for e in store.audit_entries() if e["action"].startswith(prefix)]


def test_settings_are_read_only_until_a_supervisor_unlocks(qtbot, wired):
    window, engine, store, session, mono, _clock = wired
    dialog = window.open_settings()
    qtbot.addWidget(dialog)
    spin = dialog.editors["spo2_low.threshold"]
    assert not spin.isEnabled() and not dialog.apply_button.isEnabled()
    assert "Read-only" in dialog.mode_note.text()
    spin.setValue(92.0)  # a peer worker cannot get a change through, even by code
    assert not dialog.apply_changes()
    assert "needs supervisor mode" in dialog.status.text()
    assert not actions(store, "settings.")

    # First use: the unlock button asks for a new password, which unlocks.
    answer_login(PASSWORD)
    dialog.lock_button.click()
    assert session.unlocked and session.user == "sup-1"
    assert spin.isEnabled() and dialog.apply_button.isEnabled()
    assert "Supervisor mode (sup-1)" in dialog.mode_note.text()
    window.redraw()
    assert "supervisor mode (locks after 1:00 idle)" in window.status.text()

    spin.setValue(92.0)
    dialog.editors["alarms.escalate_after_s"].setValue(20.0)
    assert dialog.apply_changes()
    assert "all 2 station(s)" in dialog.status.text()
    changed = actions(store, "settings.profile_changed")
    assert [(e["target"], e["detail"]["old"], e["detail"]["new"], e["actor"])
            for e in changed] == [("spo2_low.threshold", 90.0, 92.0, "sup-1"),
                                  ("alarms.escalate_after_s", 30.0, 20.0, "sup-1")]
    (applied,) = actions(store, "settings.profile_applied")
    assert applied["detail"]["changes"] == 2
    assert [e["action"] for e in actions(store, "supervisor.")] == [
        "supervisor.password_set", "supervisor.unlocked"]
    # In force on the running engine: alarm manager and every station's detectors.
    assert engine.profile.get("spo2_low.threshold") == 92.0
    assert engine.alarms.escalate_after_s == 20.0
    for sid in engine.stations:
        assert engine._pipelines[sid].pipeline.profile is engine.profile

    # Idle past the lock time: back to read-only at the next look.
    mono.t += 61
    dialog.refresh_mode()
    assert not session.unlocked and not spin.isEnabled()
    spin.setValue(93.0)
    assert not dialog.apply_changes()
    assert engine.profile.get("spo2_low.threshold") == 92.0
    (locked,) = actions(store, "supervisor.locked")
    assert locked["detail"] == {"reason": "inactivity"}

    # A wrong password is refused and stays read-only; the right one unlocks again.
    answer_login("not-the-password")
    dialog.lock_button.click()
    assert not session.unlocked and not spin.isEnabled()
    assert actions(store, "supervisor.unlock_refused")
    assert all("not-the-password" not in str(e) for e in store.audit_entries())
    answer_login(PASSWORD)
    dialog.lock_button.click()
    assert spin.isEnabled()
    # Locking from elsewhere (the review window) turns the editors off at once.
    session.lock()
    assert not spin.isEnabled()
    dialog.close()


def test_lowered_threshold_from_settings_changes_alarms_now(qtbot, wired):
    window, engine, _store, session, _mono, clock = wired
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    # The site's limit is 94 % (the safety floors allow 90-94); 92 % on both booths
    engine.apply_profile(engine.profile.with_overrides({"spo2_low.threshold": 94.0}))
    for i in range(40):  # 92 % on both booths: below 94, above 90 → no alarm at 90
        clock.set(float(i))
        for sid in engine.stations:
            engine.feed(sid, Sample(float(i), 92.0, 70.0))
        engine.tick(float(i))
    lows = [e for e in events if e.kind == "alarm" and e.state == "raised"
            and payload(e)["condition"] == "spo2_low"]
    assert len(lows) == 2
    session.set_password(PASSWORD, by="sup-1")
    dialog = window.open_settings()
    qtbot.addWidget(dialog)
    dialog.editors["spo2_low.threshold"].setValue(90.0)
    assert dialog.apply_changes()
    for a in engine.alarms.active_alarms():
        if a.condition == "spo2_low":
            assert not a.condition_active  # ended by the new threshold (latched until seen)
    dialog.close()


def test_review_window_opens_on_the_same_store_and_session(qtbot, wired):
    window, _engine, store, session, _mono, clock = wired
    iid = store.open_incident("sim-1", clock.now(), "manual", by="peer worker")
    store.flush()
    review = window.open_review()
    assert isinstance(review, ReviewWindow)
    assert isinstance(review.backend, StoreReview)
    assert review.session is session and review.backend.store is store
    review.browser.since.setDate(to_qdate(date(2025, 12, 1)))  # ManualClock's wall: 2026-01-01
    assert iid in review.browser.row_ids()
    assert "Peer view" in review.lock_bar.text()
    session.set_password(PASSWORD, by="sup-2")  # first use unlocks
    review.refresh_lock()
    assert "Supervisor mode (sup-2)" in review.lock_bar.text()
    assert window.open_review() is review  # one review window per app
    window.close()
    assert not review.isVisible()


def test_review_button_is_off_without_a_store(qtbot):
    clock = ManualClock()
    from oximon.alerts import AlarmManager
    from oximon.engine import Engine

    engine = Engine(clock, load_profile(None), AlarmManager)
    window = build_window(engine, session=SupervisorSession(PasswordFile(Path(os.devnull))))
    qtbot.addWidget(window)
    assert not window.buttons["Review incidents…"].isEnabled()
    assert window.open_review() is None
    window.timer.stop()


# -- discovery --------------------------------------------------------------------------
def run_discovery(discover: Discovery) -> ScanResult:
    async def main() -> Scan:
        found = discover()
        return found if isinstance(found, list | ScanResult) else await found

    result = asyncio.run(main())
    assert isinstance(result, ScanResult)
    return result


def test_discovery_lists_ble_oximeters_and_serial_ports(qtbot, wired):
    window, engine, *_ = wired

    async def scan(timeout: float) -> list[ble.Found]:
        assert timeout == 5.0
        return [ble.Found("AA:BB:CC:DD:EE:01", "BerryMed", -60, "berrymed"),
                ble.Found("AA:BB:CC:DD:EE:02", "Headphones", -50, ""),
                ble.Found("AA:BB:CC:DD:EE:03", "O2Ring", -70, "viatom")]

    ports = [PortInfo("/dev/ttyUSB0", "CP2102 USB to UART", "0001")]
    discover = hardware_discovery(engine, scan=scan, list_ports=lambda: ports)
    result = run_discovery(discover)
    assert [(d.spec, d.transport) for d in result.devices] == [
        ("ble:AA:BB:CC:DD:EE:01:berrymed", "ble"), ("ble:AA:BB:CC:DD:EE:03:viatom", "ble"),
        ("serial:/dev/ttyUSB0", "serial")]
    assert result.notes == ["1 other Bluetooth device (not oximeters oximon knows) not "
                            "listed."]
    dialog = window.open_devices()
    qtbot.addWidget(dialog)
    dialog._scan_done(result, None)
    assert dialog.found_table.rowCount() == 3
    assert dialog.found_table.item(0, 2).text() == "berrymed, -60 dBm"
    assert "1 other Bluetooth device" in dialog.status.text()
    dialog.close()


def test_no_bluetooth_says_so_and_still_lists_serial_and_simulated(qtbot, wired):
    window, engine, *_ = wired

    async def no_dbus(timeout: float):
        raise FileNotFoundError(2, "No such file or directory")

    ports = [PortInfo("/dev/ttyUSB3", "CP2102", None)]
    discover = hardware_discovery(engine, scan=no_dbus, list_ports=lambda: ports,
                                  also=simulated_discovery(engine, count=2))
    window.services = replace(window.services, discover=discover)
    dialog = window.open_devices()
    qtbot.addWidget(dialog)
    asyncio.set_event_loop(asyncio.new_event_loop())
    loop = asyncio.get_event_loop()
    try:
        dialog.scan()  # the awaitable runs on the loop the dashboard shares with Qt
        assert not dialog.scan_button.isEnabled()
        loop.run_until_complete(dialog._scan_task)
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    text = dialog.status.text()
    assert text.startswith("Bluetooth is not available on this computer (no system D-Bus).")
    assert "Found 3 device(s)" in text
    kinds = [dialog.found[i].transport for i in range(3)]
    assert kinds == ["serial", "sim", "sim"]
    # A device already feeding a station is not offered again.
    in_use = {live.station.device.address for live in engine.stations.values()}
    assert not {d.spec for d in dialog.found} & in_use
    dialog.close()


# -- the site file ----------------------------------------------------------------------
def site(tmp_path) -> SiteConfig:
    cfg = SiteConfig(name="Test OPS", stations=[
        StationConfig("booth-1", alias="Window", booth="1", source="sim:normal:1"),
        StationConfig("booth-2", alias="Door", booth="2", source="sim:normal:2"),
        StationConfig("booth-3", alias="Back", booth="3"),  # no device yet
    ])
    save_config(cfg, tmp_path / "site.toml")
    return load_config(tmp_path / "site.toml")


def test_pair_rename_swap_remove_are_saved_to_the_site_file(qtbot, tmp_path):
    cfg = site(tmp_path)
    clock = ManualClock()
    engine = build_engine(clock, load_profile(None), configured_stations(cfg))
    window = build_window(engine, station_book=StationBook(cfg),
                          session=SupervisorSession(PasswordFile(tmp_path / "pw.json")),
                          discover=lambda: [FoundDevice("sim:motion:9", "Sim 9", "sim"),
                                            FoundDevice("sim:normal:8", "Sim 8", "sim")],
                          open_source=open_source)
    qtbot.addWidget(window)
    path = tmp_path / "site.toml"
    dialog = window.open_devices()
    qtbot.addWidget(dialog)
    # Booth 3 is waiting for a device: it is suggested first and keeps its station id.
    assert (dialog.booth.text(), dialog.alias.text()) == ("3", "Back")
    dialog.scan()
    dialog.pair_selected()
    assert "Paired" in dialog.status.text()
    assert load_config(path).station("booth-3").source == "sim:motion:9"
    # A new booth.
    dialog.booth.setText("4")
    dialog.alias.setText("Blue chair")
    dialog.found_table.selectRow(0)
    dialog.pair_selected()
    saved = load_config(path)
    (new,) = [s for s in saved.stations if s.booth == "4"]
    assert (new.id, new.alias, new.source) == ("sim-1", "Blue chair", "sim:normal:8")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # Rename booth 1, swap booths 1 and 2, remove booth 3.
    dialog.stations_table.clearSelection()
    dialog.stations_table.selectRow(0)
    dialog.new_alias.setText("Corner")
    dialog.rename_selected()
    dialog.stations_table.clearSelection()
    dialog.stations_table.selectRow(0)
    dialog.stations_table.selectRow(1)
    dialog.swap_selected()
    dialog.stations_table.clearSelection()
    dialog.stations_table.selectRow(2)
    dialog.remove_selected()
    dialog.remove_selected()
    assert "Removed" in dialog.status.text()
    saved = load_config(path)
    assert [(s.id, s.booth, s.alias, s.source) for s in saved.stations] == [
        ("booth-2", "1", "Corner", "sim:normal:2"),
        ("booth-1", "2", "Door", "sim:normal:1"),
        ("sim-1", "4", "Blue chair", "sim:normal:8")]
    assert saved.name == "Test OPS"
    dialog.close()
    window.timer.stop()

    # A restart from the file: the same booths, aliases and devices.
    again = configured_stations(load_config(path))
    assert [(st.id, st.booth, st.alias, src and src.info.address) for st, src in again] == [
        ("booth-2", "1", "Corner", "sim:normal:2"), ("booth-1", "2", "Door", "sim:normal:1"),
        ("sim-1", "4", "Blue chair", "sim:normal:8")]


def test_demo_and_command_line_sources_do_not_touch_the_site_file(tmp_path):
    cfg = site(tmp_path)
    before = (tmp_path / "site.toml").read_bytes()
    clock = ManualClock()
    store = open_store(f"sqlite:///{tmp_path / 'o.db'}", clock=clock, writer=True)
    try:
        engine = build_engine(clock, load_profile(None), list(open_sources(demo_specs(1))), store)
        assert seams(engine, store, engine.profile, cfg, demo=True,
                     from_config=False)["station_book"] is None
        assert seams(engine, store, engine.profile, cfg, demo=False,
                     from_config=False)["station_book"] is None
        book = seams(engine, store, engine.profile, cfg, demo=False,
                     from_config=True)["station_book"]
        assert isinstance(book, StationBook)
    finally:
        store.close()
    assert (tmp_path / "site.toml").read_bytes() == before


def test_cli_empty_site_file_opens_an_empty_wall_and_the_old_flag_is_gone(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text('[site]\nname = "New site"\n')
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "c"))
    ok = subprocess.run([sys.executable, "-m", "oximon", "dashboard", "--config", str(path),
                         "--db", f"sqlite:///{tmp_path / 'o.db'}", "--duration", "0.5"],
                        capture_output=True, text=True, timeout=60, env=env, cwd=root)
    assert ok.returncode == 0, ok.stderr
    old = subprocess.run([sys.executable, "-m", "oximon", "dashboard", "--demo",
                          "--allow-supervisor-mode"], capture_output=True, text=True,
                         timeout=60, env=env, cwd=root)
    assert old.returncode == 2 and "Traceback" not in old.stderr


def test_scan_result_without_devices_says_so(qtbot, wired):
    window, *_ = wired
    dialog = window.open_devices()
    qtbot.addWidget(dialog)
    dialog._scan_done(ScanResult([], ["Bluetooth is not available on this computer (x)."]),
                      None)
    assert dialog.status.text() == ("Bluetooth is not available on this computer (x). "
                                    "No devices found.")
    dialog.close()


# -- the response panel on the real store ---------------------------------------------------
@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_every_tap_sign_outcome_and_aftercare_is_accepted_by_the_store(qtbot, wired,
                                                                       outcome):
    window, _engine, store, _session, _mono, clock = wired
    clock.set(10.0)
    iid = window.open_response("sim-1")
    panel = window.panels["sim-1"]
    for action in SINGLE:
        panel.tap(action)
    for toggle in (RESCUE, OXYGEN, CPR):
        panel.tap_toggle(toggle)
    panel.tap_naloxone()
    for box in panel.signs.values():
        box.setChecked(True)
    panel.outcomes[outcome].click()
    for box in panel.aftercare.values():
        box.setChecked(True)
    clock.set(60.0)
    panel.close_incident()
    assert panel.warning.isHidden(), panel.warning.text()
    rec = store.get_incident(iid, with_trace=False)
    assert rec.status == "closed" and rec.outcome == [outcome]
    assert set(rec.signs) == set(SIGNS) and set(rec.aftercare) == set(AFTERCARE)
    done = {a["action"] for a in rec.actions}
    assert set(SINGLE) | {"naloxone", "sign", "cpr_started", "cpr_stopped"} <= done
