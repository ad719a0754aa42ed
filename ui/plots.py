"""Small painted views for the tiles: the pleth wave, the 10-minute trend, signal/battery.

Why not one pyqtgraph PlotWidget per curve: 24 tiles × 2 plots of QGraphicsView scenes cost
far more CPU than a plain QWidget painting one path. These widgets build their path only
when their data's version changed (pyqtgraph's fast `arrayToQPath` does the numpy → path
step) and otherwise never repaint, so plots draw only what changed.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QTransform,
)
from PySide6.QtWidgets import QSizePolicy, QWidget


class _PathView(QWidget):
    """A widget that paints one path in data coordinates, scaled to its size."""

    def __init__(self, colour: str, width: float = 2.0):
        super().__init__()
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._pen = QPen(QColor(colour), width)
        self._pen.setCosmetic(True)
        self._path = QPainterPath()
        self._xspan = (0.0, 1.0)
        self._yspan = (0.0, 1.0)
        self._version = -1
        self.paints = 0  # how often it repainted (tests check nothing repaints needlessly)

    def set_colour(self, colour: str) -> None:
        if self._pen.color() != QColor(colour):
            self._pen.setColor(QColor(colour))
            self.update()

    def minimumSizeHint(self) -> QSize:
        return QSize(40, 16)

    def _transform(self) -> QTransform:
        x0, x1 = self._xspan
        y0, y1 = self._yspan
        w, h = max(1, self.width()), max(1, self.height())
        sx = w / (x1 - x0 or 1.0)
        sy = -(h - 4) / (y1 - y0 or 1.0)
        return QTransform(sx, 0, 0, sy, -x0 * sx, h - 2 - y0 * sy)


class WaveView(_PathView):
    """The pleth waveform, scrolling, auto-scaled to its own recent amplitude."""

    def set_wave(self, values: np.ndarray, version: int) -> bool:
        if version == self._version:
            return False
        self._version = version
        finite = values[np.isfinite(values)]
        if len(finite):
            lo, hi = float(finite.min()), float(finite.max())
            if hi - lo < 10.0:  # a flat line stays flat, not noise blown up
                mid = (hi + lo) / 2
                lo, hi = mid - 5.0, mid + 5.0
            self._yspan = (lo, hi)
        self._xspan = (0.0, float(len(values) - 1))
        self._path = pg.arrayToQPath(np.arange(len(values), dtype=float), values,
                                     connect="finite")
        self.update()
        return True

    def paintEvent(self, _event: QPaintEvent) -> None:
        self.paints += 1
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setTransform(self._transform())
        p.setPen(self._pen)
        p.drawPath(self._path)
        p.end()


class TrendView(_PathView):
    """SpO2 over the last 10 minutes, with the watch and low bands shaded and the response
    actions marked where they happened (one point per second; gaps stay gaps)."""

    Y_LOW = 80.0

    def __init__(self, colour: str):
        super().__init__(colour, 2.0)
        self._yspan = (self.Y_LOW, 100.0)
        self._bands = (90.0, 95.0)
        self._band_colours = ("#ff5252", "#ffca28")
        self._markers: list[tuple[float, str]] = []
        self._marker_key: object = None
        self._label_colour = QColor("#b0bec5")

    def set_bands(self, low: float, watch: float, colours: tuple[str, str]) -> None:
        if (low, watch) != self._bands or colours != self._band_colours:
            self._bands, self._band_colours = (low, watch), colours
            self.update()

    def set_trend(self, values: np.ndarray, version: int,
                  markers: list[tuple[float, str]], marker_key: object) -> bool:
        """`markers` are (x index, short text); redraws only when data or markers changed."""
        if version == self._version and marker_key == self._marker_key:
            return False
        self._version, self._marker_key = version, marker_key
        self._markers = markers
        y = np.clip(values, self.Y_LOW, 100.0)
        self._xspan = (0.0, float(len(values) - 1))
        self._path = pg.arrayToQPath(np.arange(len(values), dtype=float), y, connect="finite")
        self.update()
        return True

    def paintEvent(self, _event: QPaintEvent) -> None:
        self.paints += 1
        p = QPainter(self)
        t = self._transform()
        low, watch = self._bands
        for level, colour in ((low, self._band_colours[0]), (watch, self._band_colours[1])):
            y = t.map(QPointF(0, level)).y()
            p.setPen(QPen(QColor(colour), 1, Qt.PenStyle.DashLine))
            p.drawLine(QPointF(0, y), QPointF(self.width(), y))
        p.setTransform(t)
        p.setPen(self._pen)
        p.drawPath(self._path)
        p.resetTransform()
        if self._markers:
            font = QFont()
            font.setPixelSize(max(9, min(13, self.height() // 4)))
            font.setBold(True)
            p.setFont(font)
            pen = QPen(QColor("#ffffff"), 1, Qt.PenStyle.DashLine)
            metrics = p.fontMetrics()
            free_from = -1e9  # labels that would overlap the previous one are left out
            for x, text in self._markers:
                px = t.map(QPointF(x, self.Y_LOW)).x()
                p.setPen(pen)
                p.drawLine(QPointF(px, 0), QPointF(px, self.height()))
                if px >= free_from:
                    p.setPen(QColor("#ffffff"))
                    p.drawText(QPointF(px + 2, font.pixelSize()), text)
                    free_from = px + metrics.horizontalAdvance(text) + 6
        p.setPen(self._label_colour)
        small = QFont()
        small.setPixelSize(max(9, min(12, self.height() // 4)))
        p.setFont(small)
        p.drawText(QPointF(2, self.height() - 3), "10 min")
        p.end()


class StatusIcons(QWidget):
    """Signal strength (four bars) and battery (a filled outline and its percent)."""

    def __init__(self) -> None:
        super().__init__()
        self._signal: float | None = None
        self._battery: float | None = None
        self._colour = QColor("#eceff1")
        self.setMinimumSize(30, 10)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:
        return QSize(max(70, self.height() * 4), 20)

    def set_values(self, signal: float | None, battery: float | None, colour: str) -> None:
        sig = None if signal is None else round(signal * 4) / 4
        bat = None if battery is None else round(battery)
        if (sig, bat, colour) != (self._signal, self._battery, self._colour.name()):
            self._signal, self._battery, self._colour = sig, bat, QColor(colour)
            self.update()

    def describe(self) -> str:
        """The same facts in words (tooltips, tests)."""
        sig = "signal unknown" if self._signal is None else f"signal {self._signal * 4:.0f}/4"
        bat = "battery unknown" if self._battery is None else f"battery {self._battery:.0f}%"
        return f"{sig}, {bat}"

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        h = self.height()
        bar_w = max(3, h // 5)
        bars = 0 if self._signal is None else math.ceil(self._signal * 4 - 1e-9)
        for i in range(4):
            bh = (i + 1) * (h - 2) / 4
            r = QRectF(i * (bar_w + 2), h - 1 - bh, bar_w, bh)
            if i < bars:
                p.fillRect(r, self._colour)
            else:
                p.setPen(QPen(QColor("#607d8b"), 1))
                p.drawRect(r)
        x = 4 * (bar_w + 2) + 6
        # The outline keeps to the width it was given (its nub included).
        bw, bh = max(8, min(max(16, h), self.width() - x - 4)), max(8, h * 0.55)
        body = QRectF(x, (h - bh) / 2, bw, bh)
        p.setPen(QPen(self._colour, 1.5))
        p.drawRect(body)
        p.fillRect(QRectF(body.right() + 1, h / 2 - bh / 5, 2, bh * 0.4), self._colour)
        if self._battery is not None:
            fill = body.adjusted(2, 2, -2, -2)
            fill.setWidth(fill.width() * max(0.0, min(1.0, self._battery / 100.0)))
            p.fillRect(fill, QColor("#ff5252") if self._battery < 20 else self._colour)
            font = QFont()
            font.setPixelSize(max(9, int(h * 0.7)))
            text = f"{self._battery:.0f}%"
            if body.right() + 5 + QFontMetrics(font).horizontalAdvance(text) <= self.width():
                p.setFont(font)  # the percent only where it fits (the outline shows it too)
                p.setPen(self._colour)
                p.drawText(QPointF(body.right() + 5, h / 2 + font.pixelSize() / 2.6), text)
        p.end()


def draw_crossed_bell(p: QPainter, r: QRectF, colour: QColor) -> None:
    """A bell with a stroke through it ("audio paused"), drawn rather than taken from a
    font: the bundled fonts have no such glyph and an empty box says nothing."""
    s = min(r.width(), r.height())
    x, y = r.center().x() - s / 2, r.center().y() - s / 2
    body = QPainterPath()
    body.moveTo(x + 0.2 * s, y + 0.75 * s)
    body.quadTo(x + 0.25 * s, y + 0.2 * s, x + 0.5 * s, y + 0.15 * s)
    body.quadTo(x + 0.75 * s, y + 0.2 * s, x + 0.8 * s, y + 0.75 * s)
    body.closeSubpath()
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setPen(QPen(colour, max(1.5, s / 12)))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(body)
    p.drawEllipse(QPointF(x + 0.5 * s, y + 0.85 * s), s * 0.08, s * 0.08)
    p.setPen(QPen(colour, max(2.0, s / 9)))
    p.drawLine(QPointF(x + 0.1 * s, y + 0.92 * s), QPointF(x + 0.9 * s, y + 0.08 * s))
    p.restore()


class PausedBadge(QWidget):
    """A crossed bell and the time left while audio is paused (shown on every tile)."""

    def __init__(self) -> None:
        super().__init__()
        self._text = ""
        self._colour = QColor("#ffffff")
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.hide()

    @property
    def text(self) -> str:
        return self._text

    def set_left(self, text: str, colour: str) -> None:
        """`text` the countdown ("1:32"); '' hides the badge."""
        if (text, colour) != (self._text, self._colour.name()):
            self._text, self._colour = text, QColor(colour)
            self.setToolTip(f"Audio paused — sounds again in {text}" if text else "")
            self.update()
        if self.isVisible() != bool(text):
            self.setVisible(bool(text))

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        h = self.height()
        draw_crossed_bell(p, QRectF(0, 0, h, h), self._colour)
        font = QFont()
        font.setPixelSize(max(9, int(h * 0.75)))
        font.setBold(True)
        p.setFont(font)
        p.setPen(self._colour)
        p.drawText(QRectF(h + 3, 0, self.width() - h - 3, h),
                   int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), self._text)
        p.end()
