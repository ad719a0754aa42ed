"""The wall comes to the front for an alarm that needs a person: review and settings never
hide an active high alarm (on one screen the wall comes forward; a non-modal dialog steps
aside and comes back once the alarm is acknowledged; the review window goes behind)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget


class AlarmFront:
    def __init__(self, window: QWidget, dialog: Callable[[], QWidget | None],
                 review: Callable[[], QWidget | None]):
        self.window = window
        self._dialog = dialog  # the open Devices/Settings dialog, if any
        self._review = review  # the review window, if opened
        self._hidden: QWidget | None = None
        self.up = False

    def set(self, up: bool) -> None:
        """`up`: an unacknowledged high alarm (or an escalation) is on the wall."""
        if up == self.up:
            return
        self.up = up
        if not up:
            dialog, self._hidden = self._hidden, None
            if dialog is not None and dialog is self._dialog():
                dialog.show()
            return
        dialog = self._dialog()
        if dialog is not None and dialog.isVisible() and not dialog.isModal():
            dialog.hide()
            self._hidden = dialog
        review = self._review()
        if review is not None and review.isVisible():
            review.lower()
        w = self.window
        if w.isMinimized():
            w.setWindowState(w.windowState() & ~Qt.WindowState.WindowMinimized)
        w.raise_()
        w.activateWindow()
        handle = w.windowHandle()
        if handle is not None:
            handle.requestActivate()
