"""Runs the dashboard: Qt and the engine's asyncio loop in one thread through qasync.

(PySide6.QtAsyncio lacks add_reader/create_connection, which bleak and serial I/O need.)
The composition root (`oximon.cli.dashboard`) passes in what the window's seams need: the
incident store, device discovery and opener, the settings audit sink.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from oximon.engine import Engine

if TYPE_CHECKING:  # imported where used: the window pulls in all of Qt
    from oximon.ui.dashboard import DashboardWindow


def build_window(engine: Engine, title: str | None = None, kiosk: bool = False,
                 **seams: Any) -> DashboardWindow:
    """The model and the window for an engine (no event loop started): the app and tests
    share this."""
    from oximon.ui.dashboard import DashboardWindow
    from oximon.ui.model import DashboardModel

    model = DashboardModel(engine)
    return DashboardWindow(model, title=title, kiosk=kiosk, **seams)


def run_dashboard(engine: Engine, kiosk: bool = False, title: str | None = None,
                  duration: float | None = None,
                  on_start: Callable[[], None] | None = None, **seams: Any) -> int:
    """Show the dashboard and run the engine until the window closes (or `duration`
    engine seconds pass: benchmarks and smoke runs). `on_start` runs inside the loop once
    the window listens (alarm sound, watchdog)."""
    import qasync
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)  # the window needs widgets, not a core app
    app.setApplicationName("oximon")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = build_window(engine, title=title, kiosk=kiosk, **seams)
    if kiosk:
        window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        window.showFullScreen()
    else:
        window.show()
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
