"""Leaving the dashboard: in kiosk mode only a supervisor may leave full screen or quit;
outside kiosk mode, quitting while stations are monitored asks first. And a supervisor's
applied settings outlive a restart."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QCloseEvent

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
