"""An incident's SpO2 and pulse trace with its alarms, acknowledgements and actions marked,
and a replay cursor that walks through it.

Two plots share one time axis (minutes:seconds from the first alarm, which is what a
debrief talks about: "90 s after the alarm we gave naloxone"). Gaps in the trace (no
reading) are drawn as gaps, never joined across. The markers' labels sit in lanes of their
own above the SpO2 plot, so no label ever hides the curve (least of all near the alarm).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QVBoxLayout, QWidget

from oximon.review import Incident, first_alarm, timeline

MARKER_STYLE = {  # kind -> (colour, Qt pen style); labels go in the lanes above the plots
    "alarm": ("#d50000", Qt.PenStyle.SolidLine),
    "acknowledged": ("#ff8f00", Qt.PenStyle.DashLine),
    "action": ("#1565c0", Qt.PenStyle.DotLine),
}
SPO2_COLOUR = "#263238"
PR_COLOUR = "#00838f"
AXIS_WIDTH = 56  # px: the same left axis width on every row keeps their times aligned
MAX_LANES = 6  # label lanes; a label with no room is left out (its line and the
#                timeline still show it, and the replay readout names it)
LABEL_ORDER = {"action": 0, "alarm": 1, "acknowledged": 2}  # who gets a lane first


def rel_words(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    s = abs(round(seconds))
    return f"{sign}{s // 60}:{s % 60:02d}"


class _RelAxis(pg.AxisItem):
    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [rel_words(v) for v in values]


class TracePlot(QWidget):
    """Set an incident with `set_incident`; move the replay cursor with `set_cursor`."""

    cursor_moved = Signal(float)  # seconds from the reference time

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.layout_ = pg.GraphicsLayoutWidget()
        self.layout_.setBackground("w")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.layout_)
        self.label_plot = self.layout_.addPlot(row=0, col=0)
        self.spo2_plot = self.layout_.addPlot(row=1, col=0,
                                              axisItems={"bottom": _RelAxis("bottom")})
        self.pr_plot = self.layout_.addPlot(row=2, col=0,
                                            axisItems={"bottom": _RelAxis("bottom")})
        self.layout_.ci.layout.setRowStretchFactor(1, 3)
        self.layout_.ci.layout.setRowStretchFactor(2, 2)
        self.pr_plot.setXLink(self.spo2_plot)
        self.label_plot.setXLink(self.spo2_plot)
        lp = self.label_plot
        lp.hideAxis("bottom")
        lp.getAxis("left").setStyle(showValues=False)
        lp.getAxis("left").setPen(pg.mkPen(None))
        lp.setMouseEnabled(x=False, y=False)
        lp.hideButtons()
        lp.setMenuEnabled(False)
        for plot in (lp, self.spo2_plot, self.pr_plot):
            plot.getAxis("left").setWidth(AXIS_WIDTH)
        for plot, label, colour in ((self.spo2_plot, "SpO₂ %", SPO2_COLOUR),
                                    (self.pr_plot, "Pulse /min", PR_COLOUR)):
            plot.setLabel("left", label, color=colour)
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setMouseEnabled(x=True, y=False)
            for side in ("left", "bottom"):
                plot.getAxis(side).setPen("#455a64")
                plot.getAxis(side).setTextPen("#263238")
        self.pr_plot.setLabel("bottom", "time from first alarm (min:s)", color="#263238")
        self.spo2_plot.setYRange(60, 100, padding=0.02)
        for level, colour in ((90, "#ef6c00"), (85, "#c62828")):
            line = pg.InfiniteLine(level, angle=0, pen=pg.mkPen(colour, width=1,
                                                                 style=Qt.PenStyle.DashLine))
            self.spo2_plot.addItem(line)
            text = pg.TextItem(f"{level} %", color=colour, anchor=(0, 1))
            text.setPos(0, level)
            self.spo2_plot.addItem(text)
            setattr(self, f"_level_text_{level}", text)
        self.spo2_curve = self.spo2_plot.plot(pen=pg.mkPen(SPO2_COLOUR, width=2),
                                              connect="finite")
        self.pr_curve = self.pr_plot.plot(pen=pg.mkPen(PR_COLOUR, width=2), connect="finite")
        self._markers: list[tuple[pg.GraphicsObject, pg.PlotItem]] = []
        self.marker_positions: list[tuple[str, float, str]] = []  # (kind, x, words)
        self.cursor_line = pg.InfiniteLine(0, angle=90, movable=True,
                                      pen=pg.mkPen("#6a1b9a", width=2))
        self.cursor_pr = pg.InfiniteLine(0, angle=90, pen=pg.mkPen("#6a1b9a", width=2))
        self.spo2_plot.addItem(self.cursor_line)
        self.pr_plot.addItem(self.cursor_pr)
        self.cursor_line.sigPositionChanged.connect(self._cursor_dragged)
        self.reference_ts = 0.0
        self.label_pt = 8
        self.xs = np.array([])
        self.spo2 = np.array([])
        self.pr = np.array([])

    def set_incident(self, incident: Incident) -> None:
        alarm = first_alarm(incident)
        self.reference_ts = alarm.raised_ts if alarm else incident.opened_ts
        tr = incident.trace
        self.xs = np.asarray(tr.ts, dtype=float) - self.reference_ts
        self.spo2 = np.asarray(tr.spo2, dtype=float)
        self.pr = np.asarray(tr.pr, dtype=float)
        self.spo2_curve.setData(self.xs, self.spo2)
        self.pr_curve.setData(self.xs, self.pr)
        finite = self.spo2[np.isfinite(self.spo2)]
        low = min(80.0, float(finite.min()) - 3) if finite.size else 80.0
        self.spo2_plot.setYRange(max(0.0, low), 100.5, padding=0.0)
        prs = self.pr[np.isfinite(self.pr)]
        if prs.size:
            self.pr_plot.setYRange(max(0.0, float(prs.min()) - 10), float(prs.max()) + 10,
                                   padding=0.0)
        self._draw_markers(incident)
        if self.xs.size:
            self.spo2_plot.setXRange(float(self.xs[0]), float(self.xs[-1]), padding=0.02)
            for level in (90, 85):
                getattr(self, f"_level_text_{level}").setPos(float(self.xs[0]), level)
        self.set_cursor(0.0)

    def _draw_markers(self, incident: Incident) -> None:
        for item, plot in self._markers:
            plot.removeItem(item)
        self._markers = []
        self.marker_positions = []
        font = QFont()
        font.setPointSize(self.label_pt)
        lo, hi = (float(self.xs[0]), float(self.xs[-1])) if self.xs.size else (0.0, 1.0)
        # (before the first layout the widget's width is a guess: assume a typical page)
        px_per_s = max(900.0, self.width() * 0.9) / max(1.0, hi - lo)
        wanted: list[tuple[int, float, str, str, float, float]] = []
        for entry in timeline(incident):
            if entry.kind not in MARKER_STYLE:
                continue
            colour, style = MARKER_STYLE[entry.kind]
            x = entry.ts - self.reference_ts
            self.marker_positions.append((entry.kind, x, entry.words))
            for plot in (self.label_plot, self.spo2_plot, self.pr_plot):
                line = pg.InfiniteLine(x, angle=90, pen=pg.mkPen(colour, width=1.5, style=style))
                plot.addItem(line)
                self._markers.append((line, plot))
            text = _short(entry.words)
            width_s = (len(text) * self.label_pt * 0.9 + 10) / px_per_s
            # near the right edge the label goes to the left of its line
            start = x - width_s if x > lo + 0.8 * (hi - lo) and x + width_s > hi else x
            wanted.append((LABEL_ORDER[entry.kind], x, text, colour, start, start + width_s))
        # Labels take lanes above the plots: what was done first, then the alarms, then
        # acknowledgements; each in the top-most lane where it runs into no other label.
        lanes: list[list[tuple[float, float]]] = []
        placed: list[tuple[pg.TextItem, float, int]] = []
        for _order, x, text, colour, a, b in sorted(wanted, key=lambda w: (w[0], w[1])):
            lane = next((i for i, used in enumerate(lanes)
                         if all(b <= u0 or a >= u1 for u0, u1 in used)), len(lanes))
            if lane >= MAX_LANES:
                continue
            if lane == len(lanes):
                lanes.append([])
            lanes[lane].append((a, b))
            label = pg.TextItem(text, color=QColor(colour), anchor=(1 if a < x else 0, 0.5),
                                fill=(255, 255, 255, 230))
            label.setFont(font)
            self.label_plot.addItem(label)
            self._markers.append((label, self.label_plot))
            placed.append((label, x, lane))
        n = max(1, len(lanes))
        for label, x, lane in placed:  # lane 0 at the top
            label.setPos(x, n - lane - 0.5)
        self.label_plot.setYRange(0, n, padding=0.0)
        # each lane as tall as a line of label text (points -> pixels at 96 dpi, + margin)
        self.layout_.ci.layout.setRowFixedHeight(0, n * (self.label_pt * 1.33 + 8) + 4)

    # -- replay -----------------------------------------------------------------------------
    @property
    def span(self) -> tuple[float, float]:
        if not self.xs.size:
            return 0.0, 0.0
        return float(self.xs[0]), float(self.xs[-1])

    def set_cursor(self, x: float) -> None:
        lo, hi = self.span
        x = min(max(x, lo), hi)
        self.cursor_line.blockSignals(True)
        self.cursor_line.setValue(x)
        self.cursor_line.blockSignals(False)
        self.cursor_pr.setValue(x)
        self.cursor_moved.emit(x)

    def _cursor_dragged(self) -> None:
        self.set_cursor(float(self.cursor_line.value()))

    def value_at(self, x: float) -> tuple[float, float]:
        """SpO2 and PR at (or just before) x; NaN in a gap."""
        if not self.xs.size:
            return math.nan, math.nan
        i = int(np.searchsorted(self.xs, x, side="right")) - 1
        if i < 0:
            return math.nan, math.nan
        return float(self.spo2[i]), float(self.pr[i])


def _short(words: str) -> str:
    words = words.replace("Acknowledged: ", "Ack ").replace(" alarm: ", ": ")
    return words if len(words) <= 22 else words[:21] + "…"
