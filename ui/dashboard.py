"""The main window: a wall of station tiles that fills the screen, and an alarm banner."""

from __future__ import annotations

import math
import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import QGridLayout, QLabel, QMainWindow, QVBoxLayout, QWidget

from alerts.watchdog import engine_stopped
from ui.model import DashboardModel
from ui.style import DARK_STYLESHEET, FLASH_HZ, PRIORITY_STYLE
from ui.tile import StationTile

REDRAW_HZ = 20


def grid_shape(n: int) -> tuple[int, int]:
    """Rows × columns for n tiles on a landscape screen (wider than tall)."""
    cols = max(1, math.ceil(math.sqrt(n * 16 / 9)))
    cols = min(cols, n)
    rows = math.ceil(n / cols)
    return rows, cols


class DashboardWindow(QMainWindow):
    def __init__(self, model: DashboardModel, title: str | None = None):
        super().__init__()
        self.model = model
        self.setWindowTitle(title or "oximon")
        self.setStyleSheet(DARK_STYLESHEET)
        central = QWidget()
        outer = QVBoxLayout(central)
        self.banner = QLabel("All stations: no alarms")
        self.banner.setObjectName("banner")
        font = QFont()
        font.setPointSize(20)
        font.setBold(True)
        self.banner.setFont(font)
        outer.addWidget(self.banner)
        grid = QGridLayout()
        outer.addLayout(grid, 1)
        self.tiles: dict[str, StationTile] = {}
        n = len(model.engine.stations)
        rows, cols = grid_shape(n)
        for i, (sid, live) in enumerate(model.engine.stations.items()):
            tile = StationTile(sid, live.station.label)
            tile.acknowledge_requested.connect(self._acknowledge)
            tile.set_font_scale(1.6 / max(1.0, rows * 0.6))
            grid.addWidget(tile, i // cols, i % cols)
            self.tiles[sid] = tile
        self.setCentralWidget(central)
        self.resize(1366, 768)
        QShortcut(QKeySequence("Space"), self, activated=self._acknowledge_top)
        self._t0 = time.monotonic()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.redraw)
        self.timer.start(int(1000 / REDRAW_HZ))

    def _acknowledge(self, sid: str) -> None:
        self.model.acknowledge(sid, by="dashboard")
        self.redraw()

    def _acknowledge_top(self) -> None:
        alarms = [a for a in self.model.all_alarms() if not a.acknowledged]
        if alarms:
            self._acknowledge(alarms[0].station)

    def redraw(self) -> None:
        elapsed = time.monotonic() - self._t0
        for sid, tile in self.tiles.items():
            view = self.model.views[sid]
            top = view.top_alarm()
            hz = FLASH_HZ.get(top.priority, 1.0) if top else 1.0
            tile.refresh(self.model.live(sid), view, flash_phase=(elapsed * hz) % 1.0 < 0.5)
        self._refresh_banner()

    def _refresh_banner(self) -> None:
        stopped = engine_stopped(self.model.engine)  # a dead engine cannot raise its alarm
        if stopped:
            self.banner.setText(f"■ {stopped.upper()}")
            self.banner.setStyleSheet("background: #ff1744; color: white;")
            return
        alarms = self.model.all_alarms()
        if not alarms:
            self.banner.setText("All stations: no alarms")
            self.banner.setStyleSheet("")
            return
        top = alarms[0]
        words, colour, shape, _ = PRIORITY_STYLE[top.priority]
        label = (self.model.live(top.station).station.label
                 if top.station in self.model.views else "All stations")
        more = f"   (+{len(alarms) - 1} more)" if len(alarms) > 1 else ""
        ack = " — acknowledged" if top.acknowledged else " — press Space or tap Acknowledge"
        self.banner.setText(f"{shape} {words} · {label}: {top.message or top.condition}"
                            f"{ack}{more}")
        fg = "black" if top.priority < 3 else "white"
        self.banner.setStyleSheet(f"background: {colour}; color: {fg};")

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and self.isFullScreen():
            self.showNormal()
        else:
            super().keyPressEvent(event)
