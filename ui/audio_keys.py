"""Shift+P on the wall: sound again before an audio pause runs out (P pauses).

On a site of several computers this resumes every hub too, as pausing does (the screen's
alarm system forwards both), and every screen shows who resumed. Kept beside the window
(added by `oximon.ui.app.build_window`) so the wall's own module stays as it is.
"""

from __future__ import annotations

from PySide6.QtGui import QKeySequence, QShortcut

from oximon.ui.dashboard import DashboardWindow


def add_resume_key(window: DashboardWindow) -> QShortcut:
    def resume() -> None:
        window.model.resume_audio(by=window.options.by)
        window.redraw()

    shortcut = QShortcut(QKeySequence("Shift+P"), window)
    shortcut.activated.connect(resume)
    window.shortcuts.append(shortcut)
    return shortcut
