"""Leaving the dashboard: in kiosk mode only a supervisor may leave full screen or quit;
outside kiosk mode, quitting while stations are monitored asks first. And a supervisor's
applied settings outlive a restart."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDoubleSpinBox

from tests.test_dashboard_flows import Rig


class Answers:
    """A login / confirm stand-in that records what it was asked and answers as told."""

    def __init__(self, answer: bool):
        self.answer = answer
        self.asked: list[tuple] = []

    def login(self, session, parent) -> bool:
        self.asked.append(("login",))
        if self.answer:
            session.user = "sup-1"
        return self.answer

    def confirm(self, parent, title: str, text: str) -> bool:
        self.asked.append(("confirm", title, text))
        return self.answer


class WindowSystemClose(QCloseEvent):
    """A close as the window system sends it (title bar, Alt+F4): spontaneous."""

    def spontaneous(self) -> bool:
        return True


def test_kiosk_full_screen_and_quit_need_supervisor_mode(qtbot):
    answers = Answers(False)
    audit: list[tuple] = []
    rig = Rig(qtbot, 2, kiosk=True, login=answers.login, confirm=answers.confirm)
    w = rig.window
    w.session.audit = lambda action, by, details: audit.append((action, by))
    w.showFullScreen()
    qtbot.waitUntil(w.isFullScreen)
    w.windowHandle().requestActivate()
    qtbot.waitUntil(w.isActiveWindow)
    qtbot.keyClick(w, Qt.Key.Key_F11)
    assert w.isFullScreen() and answers.asked == [("login",)]
    assert "only a supervisor" in w.status.text()
    qtbot.keyClick(w, Qt.Key.Key_Escape)
    assert w.isFullScreen()
    qtbot.keyClick(w, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert w.isVisible() and answers.asked[-1] == ("login",)
    close = WindowSystemClose()
    w.closeEvent(close)  # the title bar / Alt+F4 is asked about the same way
    assert not close.isAccepted() and w.isVisible()
    assert audit == []
    answers.answer = True  # a supervisor unlocks
    qtbot.keyClick(w, Qt.Key.Key_F11)
    qtbot.waitUntil(lambda: not w.isFullScreen())
    qtbot.keyClick(w, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not w.isVisible()
    assert audit == [("dashboard.leave_full_screen", "sup-1"), ("dashboard.quit", "sup-1")]
    assert all(a == ("login",) for a in answers.asked)  # never a mere yes/no in kiosk


def test_quitting_while_monitoring_asks_first(qtbot):
    answers = Answers(False)
    rig = Rig(qtbot, 3, login=answers.login, confirm=answers.confirm)
    w = rig.window
    rig.run(3.0)
    qtbot.keyClick(w, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert w.isVisible()
    assert answers.asked[0][0] == "confirm" and "3 station(s)" in answers.asked[0][2]
    close = WindowSystemClose()
    w.closeEvent(close)  # the title bar / Alt+F4 is asked about the same way
    assert not close.isAccepted() and len(answers.asked) == 2
    event = QCloseEvent()
    QCoreApplication.sendEvent(w, event)  # a close the program makes is not asked about
    assert len(answers.asked) == 2
    w.show()
    qtbot.waitExposed(w)
    w.windowHandle().requestActivate()
    qtbot.waitUntil(w.isActiveWindow)
    answers.answer = True
    qtbot.keyClick(w, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not w.isVisible() and len(answers.asked) == 3


def test_applied_settings_are_saved_for_the_next_start_and_audited(qtbot, tmp_path):
    import os
    import stat
    import subprocess
    import sys

    from oximon.cli.dashboard import seams
    from oximon.cli.wiring import build_engine, demo_specs, open_sources
    from oximon.clock import ManualClock
    from oximon.config import load_config
    from oximon.profile import load_profile
    from oximon.store import open_store
    from oximon.supervisor import PasswordFile, SupervisorSession
    from tests.ui_fakes import build_window

    site = tmp_path / "site.toml"
    site.write_text('[site]\nname = "Main St"\n')
    config = load_config(site)
    clock = ManualClock()
    store = open_store(f"sqlite:///{tmp_path / 'o.db'}", clock=clock, writer=True)
    engine = build_engine(clock, load_profile(None), list(open_sources(demo_specs(1))), store)
    wiring = seams(engine, store, engine.profile, config, demo=False, from_config=True)
    session = SupervisorSession(PasswordFile(tmp_path / "sup.json"), kdf_n=2**10)
    session.set_password("night-shift-42", by="sup-1")
    audit: list[dict] = []
    window = build_window(engine, incident_log=store, session=session, audit=audit.append,
                          save_profile=wiring["save_profile"])
    qtbot.addWidget(window)
    try:
        dialog = window.open_settings()
        qtbot.addWidget(dialog)
        threshold = dialog.editors["spo2_low.threshold"]
        assert isinstance(threshold, QDoubleSpinBox)
        threshold.setValue(92.0)
        assert dialog.apply_changes()
        assert "Saved for the next start" in dialog.status.text()
        dialog.close()
    finally:
        window.timer.stop()
        store.close()
    saved = tmp_path / "site-profile.toml"
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600
    assert [a["action"] for a in audit] == ["profile_changed", "profile_applied",
                                            "profile_saved"]
    assert audit[-1]["path"] == str(saved)
    again = load_config(site)  # the site file names it: the next start loads it
    assert again.profile == str(saved) and again.name == "Main St"
    assert load_profile(again.profile).get("spo2_low.threshold") == 92.0
    # A real start on that site file loads it, and says so in the audit log.
    db = tmp_path / "o.db"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "c"))
    run = subprocess.run([sys.executable, "-m", "oximon", "dashboard", "--config", str(site),
                          "--db", f"sqlite:///{db}", "--duration", "0.3"],
                         capture_output=True, text=True, timeout=60, env=env,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert run.returncode == 0, run.stderr
    reader = open_store(f"sqlite:///{db}")
    try:
        loaded = [e for e in reader.audit_entries() if e["action"] == "settings.profile_loaded"]
    finally:
        reader.close()
    assert loaded and str(saved) in str(loaded[-1]["detail"])


def test_demo_settings_say_they_are_not_kept(qtbot, tmp_path):
    from oximon.supervisor import PasswordFile, SupervisorSession

    rig = Rig(qtbot, 1, session=SupervisorSession(PasswordFile(tmp_path / "s.json"),
                                                  kdf_n=2**10))
    rig.window.session.set_password("night-shift-42", by="sup-1")
    dialog = rig.window.open_settings()
    qtbot.addWidget(dialog)
    threshold = dialog.editors["spo2_low.threshold"]
    assert isinstance(threshold, QDoubleSpinBox)
    threshold.setValue(92.0)
    assert dialog.apply_changes()
    assert "Not saved" in dialog.status.text()
    dialog.close()
