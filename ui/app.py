"""Runs the dashboard: Qt and the engine's asyncio loop in one thread through qasync.

(PySide6.QtAsyncio lacks add_reader/create_connection, which bleak and serial I/O need.)
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from oximon.engine import Engine


def run_dashboard(engine: Engine, kiosk: bool = False, title: str | None = None,
                  on_start: Callable[[], None] | None = None) -> int:
    """`on_start` runs inside the loop once the window listens (sound, watchdog)."""
    import qasync
    from PySide6.QtWidgets import QApplication

    from ui.dashboard import DashboardWindow
    from ui.model import DashboardModel

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("oximon")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    model = DashboardModel(engine)
    window = DashboardWindow(model, title=title)
    if kiosk:
        window.showFullScreen()
    else:
        window.show()
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)

    async def main() -> None:
        if on_start is not None:
            on_start()
        task = asyncio.create_task(engine.run())
        await closed.wait()
        await engine.stop()
        task.cancel()

    with loop:
        loop.run_until_complete(main())
    return 0
