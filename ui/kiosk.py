"""The kiosk guard: who may quit the dashboard or leave full screen.

In kiosk mode only a supervisor may (the password is asked for, and it is audited);
otherwise quitting while stations are monitored asks first, since no alarm sounds for
anyone until oximon is started again.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import QMainWindow

from oximon.types import DeviceState
from oximon.ui.model import DashboardModel
from oximon.ui.services import DashboardServices


class KioskGuard:
    def __init__(self, window: QMainWindow, model: DashboardModel,
                 services: Callable[[], DashboardServices], kiosk: bool,
                 say: Callable[[str], None]):
        self.window = window
        self.model = model
        self._services = services
        self.kiosk = kiosk
        self._say = say  # the status line
        self.quit_ok = False  # a quit already allowed (Ctrl+Q): the close is not asked again

    def monitored(self) -> int:
        """How many stations have a device that monitoring would stop for."""
        idle = {DeviceState.UNASSIGNED, DeviceState.ENDED}
        return sum(1 for sid in self.model.station_ids()
                   if self.model.live(sid).state not in idle)

    def supervisor_allows(self, what: str) -> bool:
        """Kiosk mode: only a supervisor may `what` (asks for the password; audited)."""
        services = self._services()
        session = services.session
        if not services.login(session, self.window):
            self._say(f"Kiosk mode: only a supervisor can {what}.")
            return False
        session.audit(f"dashboard.{what.replace(' ', '_')}", session.user, {"kiosk": True})
        return True

    def may_quit(self) -> bool:
        """Kiosk: a supervisor only. Otherwise, with stations monitored, after a yes."""
        if self.kiosk:
            return self.supervisor_allows("quit")
        n = self.monitored()
        if n == 0:
            return True
        return self._services().confirm(
            self.window, "Quit oximon?",
            f"Monitoring stops for {n} station(s): no alarm will sound for anyone until "
            "oximon is started again.")

    def request_quit(self) -> None:
        """Ctrl+Q: quit after the same check as closing the window."""
        if self.may_quit():
            self.quit_ok = True
            self.window.close()

    def allows_close(self, event: QCloseEvent) -> bool:
        """A close from the window system (the title bar, Alt+F4) is a person's: check it.
        (Closes by the program itself — the app ending, tests — are not asked about.)"""
        return not event.spontaneous() or self.quit_ok or self.may_quit()

    def toggle_full_screen(self) -> None:
        if self.window.isFullScreen():
            if self.kiosk and not self.supervisor_allows("leave full screen"):
                return
            self.window.showNormal()
        else:
            self.window.showFullScreen()

    def escape(self, event: QKeyEvent) -> bool:
        """Escape leaves full screen, except in kiosk mode. True if it did."""
        if event.key() == Qt.Key.Key_Escape and self.window.isFullScreen() and not self.kiosk:
            self.window.showNormal()
            return True
        return False
