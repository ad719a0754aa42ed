"""One station's tile: big numbers, the band, pleth, trend, device state in words, alarm.

A tile never shows a stale number: unless the device is streaming valid values the number
area is replaced by words ("No reading — check on the person", "Lost device",
"Looking for the device…"). Fonts follow the tile's size, so 1 tile or 24 fill the screen legibly.
A tap on a tile with an unacknowledged alarm acknowledges it; a double tap opens the
response panel for that station.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from oximon.engine import StationLive
from oximon.types import DeviceState, Priority
from oximon.ui.elide import ElidedLabel
from oximon.ui.model import StationView
from oximon.ui.plots import StatusIcons, TrendView, WaveView
from oximon.ui.style import BAND_WORDS, DARK, PRIORITY_WORDS, Palette, band_for


def _label(name: str, align: Qt.AlignmentFlag | None = None) -> QLabel:
    w = QLabel("")
    w.setObjectName(name)
    if align is not None:
        w.setAlignment(align)
    return w


MIN_TILE_W, MIN_TILE_H = 96, 72
UNITS_LONG = ("SpO₂\n%", "pulse\n/min")
UNITS_SHORT = ("%", "/min")
MIN_TEXT_PX = 10  # nothing on a tile is drawn smaller
HEAD_GAP = 4
ICON_EMS = 3.6  # the signal/battery icons' width, in text heights (with the percent)
ICON_MIN_EMS = 2.2  # bars and battery outline only
# The header's width in text heights besides the name: the band's shape and the icons.
HEAD_EMS = 1.3 + ICON_MIN_EMS
_NAME_EMS: list[float] = []


def _name_ems() -> float:
    """How many text heights "Booth 00" takes in bold (the name every tile must show)."""
    if not _NAME_EMS:
        font = QFont()
        font.setPixelSize(100)
        font.setBold(True)
        _NAME_EMS.append(QFontMetrics(font).horizontalAdvance("Booth 00") / 100.0)
    return _NAME_EMS[0]

# A number older than this is not shown (a device can go silent without saying so).
STALE_AFTER_S = 3.0
_NO_WAVE = np.full(2, np.nan)


def format_age(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{seconds / 3600:.1f} h"


class _Resizing(QWidget):
    """A container that reports its size, so fonts can fill the space the layout gave."""

    def __init__(self, on_resize):
        super().__init__()
        self._on_resize = on_resize

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._on_resize(self.width(), self.height())


class StationTile(QFrame):
    acknowledge_requested = Signal(str)
    respond_requested = Signal(str)

    def __init__(self, sid: str, palette: Palette = DARK, text_scale: float = 1.0):
        super().__init__()
        self.sid = sid
        self.palette_ = palette
        self.text_scale = text_scale
        self._texts: dict[str, str] = {}
        self._border: tuple[str, int] = (palette.border, palette.border_px)
        self._alarm_unacked = False
        # What the last fit was for (a fit runs again only when these change).
        self._head_key: tuple[str, str, int, int] | None = None
        self._words_key: tuple[str, int, int, float] | None = None
        self._unit_px = 11.0
        # Every tile gets an equal share of the wall whatever its text asks for (unequal
        # rows are unreadable), and the wall never pushes the window past the screen.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setMinimumSize(MIN_TILE_W, MIN_TILE_H)
        # The tile paints its own background and border; its children stay see-through.
        self.setStyleSheet("QLabel, QWidget#numbers, QWidget#middle "
                           "{ background: transparent; } "
                           "QPushButton { padding: 0px 8px; min-height: 0px; }")

        self.name = ElidedLabel("", Qt.TextElideMode.ElideMiddle)  # keeps "Booth 24"'s number
        self.name.setObjectName("tileName")
        self.band = _label("band", Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._band_full = ""  # the band's words; the label shows only the shape if cramped
        self.icons = StatusIcons()
        self.spo2 = _label("spo2", Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.spo2_unit = _label("unit")
        self.spo2_unit.setText("SpO₂\n%")
        self.pr = _label("pr", Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.pr_unit = _label("unit")
        self.pr_unit.setText("pulse\n/min")
        self.words = _label("tileState", Qt.AlignmentFlag.AlignCenter)
        self.words.setWordWrap(True)
        self.since = ElidedLabel("")
        self.since.setObjectName("since")
        self.wave = WaveView(palette.wave)
        self.trend = TrendView(palette.trend)
        self.alarm = ElidedLabel("")
        self.alarm.setObjectName("alarm")
        self._alarm_text = ""
        ignored = QSizePolicy.Policy.Ignored
        for lab in (self.spo2, self.pr, self.words):
            lab.setSizePolicy(ignored, ignored)
        self.ack = QPushButton("Acknowledge")
        self.ack.setObjectName("primary")
        self.ack.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.ack.clicked.connect(lambda: self.acknowledge_requested.emit(self.sid))
        self.ack.hide()
        self.alarm.hide()

        self.band.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        head = QHBoxLayout()
        head.setSpacing(HEAD_GAP)
        head.addWidget(self.name, 1)
        head.addWidget(self.band)
        head.addWidget(self.icons)
        numbers = QWidget()
        numbers.setObjectName("numbers")
        row = QHBoxLayout(numbers)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(self.spo2, 100)
        row.addWidget(self.spo2_unit)
        row.addSpacing(8)
        row.addWidget(self.pr, 62)
        row.addWidget(self.pr_unit)
        self.middle = _Resizing(self._fit_middle)
        self.middle.setObjectName("middle")
        self.middle.setSizePolicy(ignored, ignored)
        self.stack = QStackedLayout(self.middle)
        self.stack.setContentsMargins(0, 0, 0, 0)
        self.stack.addWidget(numbers)
        self.stack.addWidget(self.words)
        alarm_row = QHBoxLayout()
        alarm_row.addWidget(self.alarm, 1)
        alarm_row.addWidget(self.ack)
        layout = QVBoxLayout(self)
        layout.setSpacing(2)
        self._layout = layout
        layout.addLayout(head)
        layout.addWidget(self.middle, 5)
        layout.addWidget(self.since)
        layout.addWidget(self.wave, 2)
        layout.addWidget(self.trend, 3)
        layout.addLayout(alarm_row)
        self.set_palette(palette)

    # -- look ------------------------------------------------------------------------------
    def set_palette(self, palette: Palette, text_scale: float | None = None) -> None:
        self.palette_ = palette
        if text_scale is not None:
            self.text_scale = text_scale
        self.wave.set_colour(palette.wave)
        self.trend.set_colour(palette.trend)
        self.spo2.setStyleSheet(f"color: {palette.spo2}; background: transparent;")
        self.pr.setStyleSheet(f"color: {palette.pr}; background: transparent;")
        self.words.setStyleSheet(f"color: {palette.state}; background: transparent;")
        m = palette.alarm_px + 2  # an alarm border never covers the name or the numbers
        self._layout.setContentsMargins(m + 2, m, m + 2, m)
        self._head_key = None
        self._texts.clear()
        self._fit_fonts()
        self.update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_fonts()

    @staticmethod
    def _font(px: float, bold: bool = True) -> QFont:
        f = QFont()
        f.setPixelSize(max(9, int(px)))
        f.setBold(bold)
        return f

    def small_px(self) -> float:
        """The tile's text size: follows its height and the text scale, but never more
        than its rows and its header (a name, the band's shape, the icons) leave room for,
        and never below MIN_TEXT_PX."""
        m = self.palette_.alarm_px + 2
        w, h = max(1, self.width() - 2 * m - 4), max(1, self.height() - 2 * m)
        want = min(max(11.0, self.height() * 0.075), 30.0) * self.text_scale
        by_height = h * 0.12  # name, 'since', alarm rows stay under about half the tile
        by_width = (w - 2 * HEAD_GAP - 4) / (_name_ems() + HEAD_EMS)
        return max(MIN_TEXT_PX, min(want, by_height, by_width))

    def _fit_fonts(self) -> None:
        """Small text follows the tile's size (and the text scale); see small_px."""
        small = self.small_px()
        for lab in (self.name, self.band, self.alarm):
            lab.setFont(self._font(small))
        self.since.setFont(self._font(max(MIN_TEXT_PX, small * 0.75), bold=False))
        self._unit_px = max(MIN_TEXT_PX, small * 0.8)
        for unit in (self.spo2_unit, self.pr_unit):
            unit.setFont(self._font(self._unit_px, bold=False))
        self.icons.setFixedHeight(int(small))
        self.ack.setFont(self._font(small * 0.9))
        self.ack.setFixedHeight(int(small * 1.7))
        # The alarm's words keep at least half the row: a short button when cramped.
        full = self.ack.fontMetrics().horizontalAdvance("Acknowledge") + 20
        self.ack.setText("Acknowledge" if full <= 0.45 * self.width() else "Ack")
        self._alarm_text = ""  # re-elide at the new width
        self._head_key = None
        self._fit_head()
        self._words_key = None
        self._fit_middle(self.middle.width(), self.middle.height())

    def _fit_head(self) -> None:
        """Name and band share the header: the name keeps at least its first 8 letters
        (all of "Booth 24"); the band drops to its shape (colour and shape still say it)
        before the name is cut; a longer alias is cut in the middle."""
        band = self._band_full
        key = (self.name.text(), band, self.width(), self.name.font().pixelSize())
        if key == self._head_key:
            return
        self._head_key = key
        fm = self.name.fontMetrics()
        small = self.name.font().pixelSize()
        m = self.palette_.alarm_px + 2
        room = self.width() - 2 * (m + 2) - 2 * HEAD_GAP  # name + band + icons
        name = self.name.text()
        name_w = fm.horizontalAdvance(name)
        name_min = min(name_w, fm.horizontalAdvance(name[:8])) + 4  # a little slack
        typical = max(name_w, fm.horizontalAdvance("Booth 00"))  # same choice on every tile
        band_fm = self.band.fontMetrics()
        icons = int(small * ICON_EMS)
        shown = band
        if band and typical + band_fm.horizontalAdvance(band) + icons > room:
            shape = band.split(" ")[0]
            loud = not band.endswith("normal")  # "■ LOW" keeps its word if it can
            icons_min = int(small * ICON_MIN_EMS)
            if not (loud and name_min + band_fm.horizontalAdvance(band) + icons_min <= room):
                shown = shape
        band_w = band_fm.horizontalAdvance(shown) + 2 if shown else 0
        # The icons give way (the percent goes first) before the name is cut.
        icons = max(int(small * ICON_MIN_EMS), min(icons, room - band_w - name_min))
        if self.icons.width() != icons:
            self.icons.setFixedWidth(icons)
        if self.band.text() != shown:
            self.band.setText(shown)
        self.band.setFixedWidth(band_w)

    def _fit_middle(self, w: int, h: int) -> None:
        """The numbers fill the middle's height (or its width, whichever binds first); the
        unit labels give way to the digits, never the other way round."""
        per_px = QFontMetrics(self._font(100)).horizontalAdvance("100") / 100.0
        unit_px = self._unit_px
        units = UNITS_LONG
        for _ in range(3):
            fm = QFontMetrics(self._font(unit_px, bold=False))
            room = sum(max(fm.horizontalAdvance(line) for line in u.split("\n"))
                       for u in units)
            digits = max(1.0, w - room - 24)  # the row's spacing and a little slack
            big = max(MIN_TEXT_PX, min(h * 0.92, 0.95 * digits * (100 / 162) / per_px))
            if unit_px <= big * 0.45:
                break
            if units is UNITS_LONG:  # cramped: "%" and "/min" say it in less room
                units = UNITS_SHORT
            else:
                unit_px = max(MIN_TEXT_PX, big * 0.4)
        for unit, text in zip((self.spo2_unit, self.pr_unit), units, strict=True):
            if unit.font().pixelSize() != int(unit_px):
                unit.setFont(self._font(unit_px, bold=False))
            if unit.text() != text:
                unit.setText(text)
        self.spo2.setFont(self._font(big))
        self.pr.setFont(self._font(big * 0.62))
        self._words_key = None
        self._fit_words()

    def _fit_words(self) -> None:
        """State words ("No reading — check on the person") as large as fit, wrapped."""
        text = self.words.text() or "No reading — check on the person"
        w, h = self.middle.width(), self.middle.height()
        key = (text, w, h, self.text_scale)
        if key == self._words_key:
            return
        self._words_key = key
        hi = int(max(MIN_TEXT_PX, min(44.0 * self.text_scale, h * 0.45)))
        lo = MIN_TEXT_PX
        rect = QRect(0, 0, max(1, w - 4), 10_000)
        flags = int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap)
        while lo < hi:  # the largest size whose wrapped text fits the middle
            mid = (lo + hi + 1) // 2
            box = QFontMetrics(self._font(mid)).boundingRect(rect, flags, text)
            if box.height() <= h and box.width() <= w - 4:
                lo = mid
            else:
                hi = mid - 1
        self.words.setFont(self._font(lo))

    def _set_band(self, text: str, style: str | None) -> None:
        self._band_full = text
        if style is not None and self._texts.get("band:style") != style:
            self._texts["band:style"] = style
            self.band.setStyleSheet(style)

    @property
    def band_text(self) -> str:
        """The band in words and shape (the label may show only the shape when cramped)."""
        return self._band_full

    def _set(self, widget: QLabel, key: str, text: str, style: str | None = None) -> None:
        """setText/setStyleSheet only when changed (each is a relayout)."""
        if self._texts.get(key) != text:
            self._texts[key] = text
            widget.setText(text)
        if style is not None and self._texts.get(key + ":style") != style:
            self._texts[key + ":style"] = style
            widget.setStyleSheet(style)

    # -- content ---------------------------------------------------------------------------
    def refresh(self, live: StationLive, view: StationView, now: float, flash_on: bool,
                bands: tuple[float, float]) -> None:
        """Redraw from current state (called from the dashboard's timer)."""
        p = self.palette_
        if self.name.text() != live.station.label:
            self.name.setText(live.station.label)
        last = live.last_valid_t
        fresh = last is not None and now - last <= STALE_AFTER_S
        showing = live.state.has_numbers and not math.isnan(live.spo2) and fresh
        if showing:
            band = band_for(live.spo2, *bands)
            words, shape = BAND_WORDS[band]
            colour = p.bands[band]
            self._set(self.spo2, "spo2", f"{live.spo2:.0f}",
                      f"color: {colour if band != 'normal' else p.spo2}; background: transparent;")
            self._set(self.pr, "pr", "--" if math.isnan(live.pr) else f"{live.pr:.0f}")
            self._set_band(f"{shape} {words}", f"color: {colour}; background: transparent;")
            if self.stack.currentIndex() != 0:
                self.stack.setCurrentIndex(0)
        else:
            if live.state.has_numbers:  # streaming, but nothing valid for a while
                words = DeviceState.NO_SIGNAL.words
            else:
                detail = f" ({live.state_detail})" if live.state_detail else ""
                words = live.state.words + detail
            self._set(self.words, "words", words)
            self._fit_words()
            self._set_band("", None)
            if self.stack.currentIndex() != 1:
                self.stack.setCurrentIndex(1)
        if last is None:
            since = "no valid reading yet"
        elif showing:
            since = f"reading {format_age(max(0.0, now - last))} ago"
            if live.pi is not None:
                since += f" · PI {live.pi:.1f}"
        else:
            since = f"last valid reading {format_age(max(0.0, now - last))} ago"
        if live.booth:  # issue 12: the booth's own limits, or "Standby"
            since = f"{live.booth} · {since}"
        self.since.setText(since)
        self._fit_head()
        self.icons.set_values(live.signal, live.battery, p.fg)
        self.icons.setToolTip(self.icons.describe())

        heard = live.last_sample_t
        if heard is not None and now - heard <= STALE_AFTER_S:
            self.wave.set_wave(view.pleth.values(), view.pleth.version)
        else:  # a silent device: no wave rather than a frozen one
            self.wave.set_wave(_NO_WAVE, -2)
        self.trend.set_bands(*bands, (p.bands["low"], p.bands["watch"]))
        if view.trend_last_s is not None and view.markers:
            end = view.trend_last_s - 1
            n = len(view.trend_spo2)
            markers: list[tuple[float, str]] = [
                (n - 1 - (end - math.floor(m.t)), m.short) for m in view.markers
                if 0 <= end - math.floor(m.t) < n]
        else:
            markers = []
        self.trend.set_trend(view.trend_spo2.values(), view.trend_spo2.version, markers,
                             (view.markers_version, view.trend_last_s if markers else None))
        self._refresh_alarm(live, view, flash_on)

    def _refresh_alarm(self, live: StationLive, view: StationView, flash_on: bool) -> None:
        p = self.palette_
        top = view.top_alarm()
        if top is None:
            if self._alarm_text:
                self._alarm_text = ""
                self.alarm.setText("")
            if self.alarm.isVisible():
                self.alarm.hide()
            self._alarm_unacked = False
            if self.ack.isVisible():
                self.ack.hide()
            self._set_border(p.border, p.border_px)
            return
        words, shape, flashes = PRIORITY_WORDS[top.priority]
        colour = p.priority[top.priority]
        short = (top.message or top.condition).split(" — ")[0]
        parts = [f"{shape} {words.split()[0]}: {short}"]
        happened = top.what_happened(live)
        if happened:
            parts.append(happened)
        if top.latched:
            parts.append("ended, latched")
        if top.acknowledged:
            parts.append("acknowledged")
        more = len(view.alarms) - 1
        if more:
            parts.append(f"+{more} more")
        self._set_alarm_text(" — ".join(parts), f"color: {colour}; background: transparent;")
        if not self.alarm.isVisible():
            self.alarm.show()
        self._alarm_unacked = not top.acknowledged
        if self.ack.isVisible() != self._alarm_unacked:
            self.ack.setVisible(self._alarm_unacked)
        lit = not top.acknowledged and (not flashes or flash_on)
        width = (p.alarm_px if top.priority >= Priority.MEDIUM else
                 (p.alarm_px + p.border_px) // 2) if not top.acknowledged else p.border_px
        self._set_border(colour if lit or top.acknowledged else p.border, width)

    def _set_alarm_text(self, text: str, style: str) -> None:
        """One line, elided to fit (the banner and tooltip carry the whole sentence)."""
        if text != self._alarm_text:
            self._alarm_text = text
            self.alarm.setText(text)
        if self._texts.get("alarm:style") != style:
            self._texts["alarm:style"] = style
            self.alarm.setStyleSheet(style)

    def _set_border(self, colour: str, width: int) -> None:
        if self._border != (colour, width):
            self._border = (colour, width)
            self.update()

    @property
    def border(self) -> tuple[str, int]:
        return self._border

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        colour, width = self._border
        r = QRectF(self.rect()).adjusted(width / 2, width / 2, -width / 2, -width / 2)
        p.setBrush(QColor(self.palette_.tile_bg))
        p.setPen(QPen(QColor(colour), width))
        p.drawRoundedRect(r, 8, 8)
        p.end()

    # -- touch -----------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        if self._alarm_unacked and event.button() == Qt.MouseButton.LeftButton:
            self.acknowledge_requested.emit(self.sid)
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:
        self.respond_requested.emit(self.sid)
        super().mouseDoubleClickEvent(event)
