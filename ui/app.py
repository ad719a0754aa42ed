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
    from oximon.ui.dashboard import DashboardOptions, DashboardWindow
    from oximon.ui.services import DashboardServices


def build_window(engine: Engine, services: DashboardServices, title: str | None = None,
                 kiosk: bool = False, options: DashboardOptions | None = None
                 ) -> DashboardWindow:
    """The model and the window for an engine (no event loop started): the app and tests
    share this."""
    from oximon.ui.dashboard import DashboardWindow
    from oximon.ui.model import DashboardModel

    model = DashboardModel(engine)
    return DashboardWindow(model, services, title=title, kiosk=kiosk, options=options)


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

    running = QApplication.instance()
    app = running if isinstance(running, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("oximon")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = build_window(engine, services, title=title, kiosk=kiosk, options=options)
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
