"""One station's tile: big numbers, the pleth wave, the device state in words, the alarm.

A tile never shows a stale number: unless the device is streaming valid values the number
area shows words ("No reading — check on the person", "Lost device", "Searching").
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from oximon.engine import StationLive
from oximon.types import DeviceState
from ui.model import StationView
from ui.style import BAND_STYLE, PRIORITY_STYLE, band_for

pg.setConfigOptions(antialias=False, background="k", foreground="w")


class StationTile(QFrame):
    acknowledge_requested = Signal(str)

    def __init__(self, sid: str, label: str):
        super().__init__()
        self.sid = sid
        self.setObjectName("tile")
        self.setFrameShape(QFrame.Shape.Box)
        self.setLineWidth(4)
        self._flash_on = False
        self._last_pleth_version = -1

        self.name = QLabel(label)
        self.name.setObjectName("tileName")
        self.state = QLabel("")
        self.state.setObjectName("tileState")
        self.state.setWordWrap(True)
        self.spo2 = QLabel("--")
        self.spo2.setObjectName("spo2")
        self.spo2.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.spo2_unit = QLabel("SpO₂ %")
        self.pr = QLabel("--")
        self.pr.setObjectName("pr")
        self.pr.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.pr_unit = QLabel("pulse /min")
        self.band = QLabel("")
        self.band.setObjectName("band")
        self.alarm = QLabel("")
        self.alarm.setObjectName("alarm")
        self.alarm.setWordWrap(True)
        self.ack = QPushButton("Acknowledge")
        self.ack.setObjectName("ack")
        self.ack.clicked.connect(lambda: self.acknowledge_requested.emit(self.sid))
        self.ack.hide()

        self.plot = pg.PlotWidget()
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setYRange(0, 100, padding=0.05)
        self.plot.setMinimumHeight(50)
        self.curve = self.plot.plot(pen=pg.mkPen("#4fc3f7", width=2))

        head = QHBoxLayout()
        head.addWidget(self.name, 1)
        head.addWidget(self.band)
        numbers = QHBoxLayout()
        for value, unit in ((self.spo2, self.spo2_unit), (self.pr, self.pr_unit)):
            box = QVBoxLayout()
            box.addWidget(value)
            box.addWidget(unit, 0, Qt.AlignmentFlag.AlignRight)
            numbers.addLayout(box)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addLayout(numbers, 3)
        layout.addWidget(self.state)
        layout.addWidget(self.plot, 2)
        layout.addWidget(self.alarm)
        layout.addWidget(self.ack)
        self.set_font_scale(1.0)

    def set_font_scale(self, scale: float) -> None:
        big = QFont()
        big.setPointSizeF(max(18.0, 44.0 * scale))
        big.setBold(True)
        self.spo2.setFont(big)
        mid = QFont()
        mid.setPointSizeF(max(14.0, 30.0 * scale))
        mid.setBold(True)
        self.pr.setFont(mid)
        label = QFont()
        label.setPointSizeF(max(10.0, 14.0 * scale))
        label.setBold(True)
        for w in (self.name, self.state, self.alarm, self.band):
            w.setFont(label)

    def refresh(self, live: StationLive, view: StationView, flash_phase: bool) -> None:
        """Redraw from current state (called from the dashboard's timer)."""
        showing_numbers = live.state is DeviceState.STREAMING and not math.isnan(live.spo2)
        if showing_numbers:
            self.spo2.setText(f"{live.spo2:.0f}")
            self.pr.setText("--" if math.isnan(live.pr) else f"{live.pr:.0f}")
            band = band_for(live.spo2)
            words, colour, shape = BAND_STYLE[band]
            self.band.setText(f"{shape} {words}")
            self.band.setStyleSheet(f"color: {colour};")
            self.state.setText("")
        else:
            self.spo2.setText("--")
            self.pr.setText("--")
            self.band.setText("")
            detail = f" ({live.state_detail})" if live.state_detail else ""
            self.state.setText(live.state.words + detail)
        if view.pleth.version != self._last_pleth_version:
            self._last_pleth_version = view.pleth.version
            self.curve.setData(view.pleth.values(), connect="finite")

        top = view.top_alarm()
        if top is None:
            self.alarm.setText("")
            self.ack.hide()
            self.setStyleSheet("")
            return
        words, colour, shape, flashes = PRIORITY_STYLE[top.priority]
        was = f" (was {top.value:.0f} %)" if top.value is not None and "spo2" in top.condition \
            else ""
        state = " — acknowledged" if top.acknowledged else ""
        self.alarm.setText(f"{shape} {words}: {top.message or top.condition}{was}{state}")
        self.ack.setVisible(not top.acknowledged)
        lit = not top.acknowledged and (not flashes or flash_phase)
        border = colour if lit else "#555"
        self.setStyleSheet(f"#tile {{ border: 6px solid {border}; }}"
                           f"#alarm {{ color: {colour}; }}")
