"""Runs the dashboard: Qt and the engine's asyncio loop in one thread through qasync.

(PySide6.QtAsyncio lacks add_reader/create_connection, which bleak and serial I/O need.)
The composition root (`oximon.cli.dashboard`) passes in the window's services
(`oximon.ui.services.DashboardServices`: the incident log, device discovery and opener,
the settings audit sink, supervisor mode...).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from oximon.engine import Engine

if TYPE_CHECKING:
    from PySide6.QtCore import QMessageLogContext, QtMsgType
    from PySide6.QtWidgets import QWidget

    from oximon.ui.dashboard import DashboardOptions, DashboardWindow
    from oximon.ui.services import DashboardServices

# Messages Qt prints that tell a user nothing to act on: the offscreen platform cannot
# size windows for a window manager it does not have, and with no sound server the
# multimedia backend says so (oximon itself raises "Sound unavailable" on screen).
QT_NOISE = ("This plugin does not support propagateSizeHints()",
            "PulseAudioService: pa_context_connect() failed")


def quiet_qt_messages() -> None:
    """Drop Qt's known noise (`QT_NOISE`); every other message still reaches stderr."""
    from PySide6.QtCore import qInstallMessageHandler

    def handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if message.startswith(QT_NOISE):
            return
        sys.stderr.write(message + "\n")

    qInstallMessageHandler(handler)


def place_on_screen(window: QWidget) -> None:
    """Centre a window on its screen's free area and never let it, its title bar and
    edges included, be larger than that area (a 1366x768 design opens in the middle of a
    1920x1080 wall, and fits a smaller laptop instead of spilling off it)."""
    from oximon.ui.dialog_fit import frame_margins

    free = window.screen().availableGeometry()  # the primary screen until it is shown
    m = frame_margins(window)
    fw, fh = m.left() + m.right(), m.top() + m.bottom()
    width = min(window.width(), free.width() - fw)
    height = min(window.height(), free.height() - fh)
    window.resize(width, height)
    window.move(free.x() + (free.width() - width - fw) // 2,
                free.y() + (free.height() - height - fh) // 2)


def build_window(engine: Engine, services: DashboardServices, title: str | None = None,
                 kiosk: bool = False, options: DashboardOptions | None = None
                 ) -> DashboardWindow:
    """The model and the window for an engine (no event loop started): the app and tests
    share this."""
    from oximon.ui.audio_keys import add_resume_key
    from oximon.ui.dashboard import DashboardWindow
    from oximon.ui.model import DashboardModel

    model = DashboardModel(engine)
    window = DashboardWindow(model, services, title=title, kiosk=kiosk, options=options)
    add_resume_key(window)
    return window


def run_dashboard(engine: Engine, services: DashboardServices, kiosk: bool = False,
                  title: str | None = None, duration: float | None = None,
                  on_start: Callable[[], None] | None = None,
                  options: DashboardOptions | None = None) -> int:
    """Show the dashboard and run the engine until the window closes (or `duration`
    engine seconds pass: benchmarks and smoke runs). `on_start` runs inside the loop once
    the window listens (alarm sound, watchdog)."""
    import qasync
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    quiet_qt_messages()
    running = QApplication.instance()
    app = running if isinstance(running, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("oximon")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = build_window(engine, services, title=title, kiosk=kiosk, options=options)
    if kiosk:
        window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        window.showFullScreen()
    else:  # a window with a title bar: maximised, the window manager fits it exactly
        place_on_screen(window)  # (its size when a person restores it)
        window.showMaximized()
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    app.lastWindowClosed.connect(closed.set)

    async def main() -> None:
        if on_start is not None:
            on_start()
        task = asyncio.create_task(engine.run(duration))
        done = asyncio.create_task(closed.wait())
        await asyncio.wait({task, done}, return_when=asyncio.FIRST_COMPLETED)
        await engine.stop()
        for t in (task, done):
            t.cancel()

    with loop:
        loop.run_until_complete(main())
    window.timer.stop()
    return 0
