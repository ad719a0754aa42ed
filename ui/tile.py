"""One station's tile: big numbers, the band, pleth, trend, device state in words, alarm.

A tile never shows a stale number: unless the device is streaming valid values the number
area is replaced by words ("No reading — check on the person", "Lost device",
"Looking for the device…"). Fonts follow the tile's size, so 1 tile or 24 fill the screen legibly.
A tap on a tile with an unacknowledged alarm acknowledges it; a double tap opens the
response panel for that station.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics, QPainter
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
from oximon.types import DeviceState
from oximon.ui.elide import ElidedLabel
from oximon.ui.model import StationView
from oximon.ui.plots import PausedBadge, StatusIcons, TrendView, WaveView
from oximon.ui.style import BAND_WORDS, DARK, Palette, band_for
from oximon.ui.tile_look import (
    DIGIT_FAMILY,
    MIN_TEXT_PX,
    TEXT_FAMILY,
    alarm_look,
    font,
    header_text,
    number_sizes,
    paint_tile,
    value_colour,
    words_px,
)


def _label(name: str, align: Qt.AlignmentFlag | None = None) -> QLabel:
    w = QLabel("")
    w.setObjectName(name)
    if align is not None:
        w.setAlignment(align)
    return w


MIN_TILE_W, MIN_TILE_H = 96, 72
HEAD_GAP = 3
ICON_EMS = 3.6  # the signal/battery icons' width, in text heights (with the percent)
ICON_MIN_EMS = 2.2  # bars and battery outline only
# The header's width in text heights besides the name: the band's shape and the icons.
HEAD_EMS = 1.0 + ICON_MIN_EMS
_NAME_EMS: list[float] = []


def _name_ems() -> float:
    """How many text heights "Booth 00" takes in bold condensed (the name every tile
    must show)."""
    if not _NAME_EMS:
        _NAME_EMS.append(QFontMetrics(font(100, family=TEXT_FAMILY))
                         .horizontalAdvance("Booth 00") / 100.0)
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


# The tile's height budget, read from 3 m away: the SpO2 digits first (at least
# DIGITS_OF_TILE of the tile's height), then the name and the alarm's words (TEXT_PX or
# more when there is room), then the reading's age, and the wave and trend last.
DIGITS_OF_TILE = 0.41
TEXT_PX = 24
MIN_GRAPH_H = 18


@dataclass(frozen=True)
class TilePlan:
    """How a tile of a given size shares its height (pixels)."""

    text: float  # the name and the alarm's words
    head: int
    middle: int
    since: int  # 0: not shown
    graphs: int  # 0: not shown
    alarm: int


ROW_GAP = 2  # between the rows `_place_rows` stacks


def plan_tile(w: int, h: int, margin: int, text_scale: float = 1.0) -> TilePlan:
    """Share a tile's height, digits first (see DIGITS_OF_TILE). The reading's age and
    the graphs are optional rows: each costs its gap only when it is shown."""
    inner = h - 2 * margin - 2 * ROW_GAP  # header, numbers, the alarm's row
    # The header's room, as `_place_rows` and `_fit_head` give it.
    by_width = (w - 2 * (margin + 2) - 2 * HEAD_GAP) / (_name_ems() + HEAD_EMS)
    text = min(max(float(TEXT_PX), h * 0.115) * text_scale, 40.0 * text_scale, by_width)
    middle = math.ceil(DIGITS_OF_TILE * h / 0.92)
    head_k, alarm_k = 1.15, 1.2  # a bold line's height is ~1.16 of its size
    if text * (head_k + alarm_k) + middle > inner:  # cramped: the text gives way first
        text = (inner - middle) / (head_k + alarm_k)
    text = max(float(MIN_TEXT_PX), text)
    head, alarm = math.ceil(text * head_k), math.ceil(text * alarm_k)
    rest = max(0, inner - head - alarm - middle)
    since_h = math.ceil(max(MIN_TEXT_PX, text * 0.5) * 1.3)
    # The trend before the age: the age only with room for the graphs too.
    since = since_h if rest >= since_h + MIN_GRAPH_H + 2 * ROW_GAP else 0
    rest -= since + (ROW_GAP if since else 0)
    graphs = rest - ROW_GAP if rest - ROW_GAP >= MIN_GRAPH_H else 0
    if graphs > 0.4 * h:  # a tall tile: the numbers take what the graphs do not need
        graphs = int(0.4 * h)
    middle += rest - graphs - (ROW_GAP if graphs else 0)
    return TilePlan(text, head, max(1, middle), since, graphs, alarm)


class StationTile(QFrame):
    acknowledge_requested = Signal(str)
    respond_requested = Signal(str)

    def __init__(self, sid: str, palette: Palette = DARK, text_scale: float = 1.0):
        super().__init__()
        self.sid = sid
        self.palette_ = palette
        self.text_scale = text_scale
        self._texts: dict[str, str] = {}
        self._look = alarm_look(palette, [], None, True, False)  # calm until refreshed
        self._alarm_unacked = False
        self.plan: TilePlan | None = None
        # What the last fit was for (a fit runs again only when these change).
        self._head_key: tuple[str, str, int, int] | None = None
        self._words_key: tuple[str, int, int, float] | None = None
        self._unit_px = 11.0
        # Every tile gets an equal share of the wall whatever its text asks for (unequal
        # rows are unreadable), and the wall never pushes the window past the screen.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setMinimumSize(MIN_TILE_W, MIN_TILE_H)
        # The tile paints its own background and border; its children stay see-through.
        self.setStyleSheet("QLabel, QWidget#numbers, QWidget#middle, QWidget#row "
                           "{ background: transparent; } "
                           "QPushButton { padding: 0px 8px; min-height: 0px; }")

        self.name = ElidedLabel("", Qt.TextElideMode.ElideMiddle)  # keeps "Booth 24"'s number
        self.name.setObjectName("tileName")
        self.band = _label("band", Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._band_full = ""  # the band's words; the label shows only the shape if cramped
        self.icons = StatusIcons()
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        self.spo2 = _label("spo2", right)
        self.spo2_unit = _label("unit", Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.spo2_unit.setText("%")
        self.pr = _label("pr", Qt.AlignmentFlag.AlignCenter)
        self.pr_unit = _label("unit", Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.pr_unit.setText("pulse")
        self.words = _label("tileState", Qt.AlignmentFlag.AlignCenter)
        self.words.setWordWrap(True)
        self.since = ElidedLabel("")
        self.since.setObjectName("since")
        self.wave = WaveView(palette.wave)
        self.trend = TrendView(palette.trend)
        self.alarm = ElidedLabel("")
        self.alarm.setObjectName("alarm")
        self._alarm_text = ""
        self._alarm_shorter: tuple[str, ...] = ()
        self.paused = PausedBadge()
        ignored = QSizePolicy.Policy.Ignored
        for lab in (self.spo2, self.pr, self.words, self.spo2_unit, self.pr_unit):
            lab.setSizePolicy(ignored, ignored)
        self.ack = QPushButton("Acknowledge")
        self.ack.setObjectName("primary")
        self.ack.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.ack.clicked.connect(lambda: self.acknowledge_requested.emit(self.sid))
        self.ack.hide()
        self.alarm.hide()

        self.band.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.head = QWidget()
        self.head.setObjectName("row")
        head = QHBoxLayout(self.head)
        head.setContentsMargins(0, 0, 0, 0)
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
        pulse = QVBoxLayout()  # the pulse beside, smaller, its word beneath
        pulse.setContentsMargins(0, 0, 0, 0)
        pulse.setSpacing(0)
        pulse.addWidget(self.pr, 3)
        pulse.addWidget(self.pr_unit, 1)
        row.addLayout(pulse)
        self._numbers_row = row
        self.middle = _Resizing(self._fit_middle)
        self.middle.setObjectName("middle")
        self.middle.setSizePolicy(ignored, QSizePolicy.Policy.Fixed)  # its height: the plan
        self.stack = QStackedLayout(self.middle)
        self.stack.addWidget(numbers)
        self.stack.addWidget(self.words)
        self.graphs = QWidget()
        self.graphs.setObjectName("row")
        graphs = QHBoxLayout(self.graphs)
        graphs.setContentsMargins(0, 0, 0, 0)
        graphs.setSpacing(6)
        graphs.addWidget(self.wave, 2)
        graphs.addWidget(self.trend, 3)
        # The alarm's row keeps its height with or without an alarm: nothing jumps.
        self.alarm_row = QWidget()
        self.alarm_row.setObjectName("row")
        alarm_row = QHBoxLayout(self.alarm_row)
        alarm_row.setContentsMargins(0, 0, 0, 0)
        alarm_row.addWidget(self.alarm, 1)
        alarm_row.addWidget(self.paused)
        alarm_row.addWidget(self.ack)
        # No layout manager for the rows: `_place_rows` puts them where the plan says, so
        # fitting the rows never feeds back into the wall's grid (tiles stay equal).
        for row_widget in (self.head, self.middle, self.since, self.graphs, self.alarm_row):
            row_widget.setParent(self)
        self.set_palette(palette)

    # -- look ------------------------------------------------------------------------------
    def set_palette(self, palette: Palette, text_scale: float | None = None) -> None:
        self.palette_ = palette
        if text_scale is not None:
            self.text_scale = text_scale
        self.plan = None  # fit again
        self.wave.set_colour(palette.wave)
        self.trend.set_colour(palette.trend)
        self.words.setStyleSheet(f"color: {palette.state}; background: transparent;")
        self._head_key = None
        self._texts.clear()
        self._fit_fonts()
        self.update()

    def margin(self) -> int:
        return self.palette_.alarm_px + 2

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_fonts()

    def small_px(self) -> float:
        """The tile's text size (name, alarm words): see `plan_tile`."""
        return plan_tile(self.width(), self.height(), self.margin(), self.text_scale).text

    def _fit_fonts(self) -> None:
        """Share the tile's height (`plan_tile`) and size the text to it."""
        plan = plan_tile(self.width(), self.height(), self.margin(), self.text_scale)
        self._place_rows(plan)
        if plan == self.plan:
            return
        self.plan = plan
        small = plan.text
        for lab in (self.name, self.band, self.alarm):
            lab.setFont(font(small, family=TEXT_FAMILY))
        self.since.setFont(font(max(MIN_TEXT_PX, small * 0.5), bold=False))
        self._unit_px = max(MIN_TEXT_PX, small * 0.6)
        self.icons.setFixedHeight(int(small))
        self.paused.setFixedHeight(int(small))
        self.paused.setFixedWidth(int(small * 3.4))
        self.ack.setFont(font(small * 0.8))
        self.ack.setFixedHeight(plan.alarm)
        # The alarm's words keep at least half the row: a short button when cramped.
        full = self.ack.fontMetrics().horizontalAdvance("Acknowledge") + 20
        self.ack.setText("Acknowledge" if full <= 0.4 * self.width() else "Ack")
        self._alarm_text = ""  # re-elide at the new width
        self._head_key = None
        self._fit_head()
        self._words_key = None
        self._fit_middle(self.middle.width(), self.middle.height())

    def _place_rows(self, plan: TilePlan) -> None:
        """Name, numbers, reading age, graphs and the alarm's row, top to bottom; an alarm
        border never covers them (the margin is wider than the thickest border)."""
        m = self.margin()
        x, w = m + 2, max(1, self.width() - 2 * (m + 2))
        y = m
        for widget, h in ((self.head, plan.head), (self.middle, plan.middle),
                          (self.since, plan.since), (self.graphs, plan.graphs)):
            if widget.isHidden() == (h > 0):
                widget.setVisible(h > 0)
            if h > 0:
                widget.setGeometry(x, y, w, h)
                y += h + ROW_GAP
        self.alarm_row.setGeometry(x, self.height() - m - plan.alarm, w, plan.alarm)

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
        m = self.margin()
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
            loud = not band.endswith("normal")  # "▼ LOW" keeps its word if it can
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
        """The numbers as large as the middle allows (`number_sizes`)."""
        sizes = number_sizes(w, h, self._unit_px)
        for unit in (self.spo2_unit, self.pr_unit):
            if unit.font().pixelSize() != int(sizes.unit_px):
                unit.setFont(font(sizes.unit_px, bold=False))
        self.spo2_unit.setFixedWidth(sizes.pct_w)
        self.pr.setFixedWidth(sizes.pr_w)
        self.pr_unit.setFixedWidth(sizes.pr_w)
        self.spo2.setFont(font(sizes.spo2_px, family=DIGIT_FAMILY))
        self.pr.setFont(font(sizes.pr_px, family=DIGIT_FAMILY))
        self._words_key = None
        self._fit_words()

    def _fit_words(self) -> None:
        """State words ("No reading — check on the person") as large as fit, wrapped."""
        text = self.words.text() or "No reading — check on the person"
        w, h = self.middle.width(), self.middle.height()
        key = (text, w, h, self.text_scale)
        if key != self._words_key:
            self._words_key = key
            self.words.setFont(font(words_px(text, w, h, self.text_scale)))

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
                bands: tuple[float, float], audio_left: str = "") -> None:
        """Redraw from current state (called from the dashboard's timer). `audio_left`:
        the audio pause's countdown ('' when audio is not paused)."""
        p = self.palette_
        if self.name.text() != live.station.label:
            self.name.setText(live.station.label)
        last = live.last_valid_t
        fresh = last is not None and now - last <= STALE_AFTER_S
        showing = live.state.has_numbers and not math.isnan(live.spo2) and fresh
        alarms = list(view.alarms.values())
        if showing:
            band = band_for(live.spo2, *bands)
            words, shape = BAND_WORDS[band]
            colour = p.bands[band]
            spo2_colour = value_colour(p, alarms, "spo2",
                                       colour if band != "normal" else p.spo2)
            self._set(self.spo2, "spo2", f"{live.spo2:.0f}",
                      f"color: {spo2_colour}; background: transparent;")
            self._set(self.pr, "pr", "--" if math.isnan(live.pr) else f"{live.pr:.0f}",
                      f"color: {value_colour(p, alarms, 'pr', p.pr)}; "
                      "background: transparent;")
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
        self.paused.set_left(audio_left, p.fg)

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
        self._refresh_alarm(live, view, flash_on, showing)

    def _refresh_alarm(self, live: StationLive, view: StationView, flash_on: bool,
                       showing: bool) -> None:
        """Apply `alarm_look`: border, header, the number's frame, the alarm's row."""
        p = self.palette_
        look = alarm_look(p, list(view.alarms.values()), live, flash_on, showing)
        if look != self._look:
            self._look = look
            self.update()
        ink = header_text(p, look)
        style = f"color: {ink}; background: transparent;"
        if self._texts.get("name:style") != style:
            self._texts["name:style"] = style
            self.name.setStyleSheet(style)
        if look.header is not None:
            self._set_band(self._band_full, style)
        self._set_alarm_text(look.text, look.shorter,
                             f"color: {look.colour}; background: transparent;")
        if self.alarm.isVisible() != bool(look.text):
            self.alarm.setVisible(bool(look.text))
        self._alarm_unacked = look.unacked
        if self.ack.isVisible() != look.unacked:
            self.ack.setVisible(look.unacked)
        self.icons.set_values(live.signal, live.battery, ink)
        self.icons.setToolTip(self.icons.describe())

    def _set_alarm_text(self, text: str, shorter: tuple[str, ...], style: str) -> None:
        """One line: the longest wording that fits, cut only when none does (the banner
        and tooltip carry the whole sentence)."""
        if text != self._alarm_text or shorter != self._alarm_shorter:
            self._alarm_text, self._alarm_shorter = text, shorter
            self.alarm.set_texts(text, *shorter)
        if self._texts.get("alarm:style") != style:
            self._texts["alarm:style"] = style
            self.alarm.setStyleSheet(style)

    @property
    def border(self) -> tuple[str, int]:
        return self._look.border

    @property
    def header_fill(self) -> str | None:
        """The header's alarm colour right now (None: not filled)."""
        return self._look.header

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        frame = self._look.frame
        label = None if frame is None else (self.spo2 if frame[0] == "spo2" else self.pr)
        paint_tile(p, self, self.palette_.tile_bg, self._look,
                   self.head.geometry().bottom(), label)
        p.end()

    # -- touch -----------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        if self._alarm_unacked and event.button() == Qt.MouseButton.LeftButton:
            self.acknowledge_requested.emit(self.sid)
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:
        self.respond_requested.emit(self.sid)
        super().mouseDoubleClickEvent(event)
