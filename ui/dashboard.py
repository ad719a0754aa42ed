"""The main window: the alarm banner, the tile wall that fills the screen, the response
column while incidents are open, the escalation overlay and the bottom bar.

It is put together from parts with one job each: `TileWall` (ui/wall.py), the
`ResponseColumn` (ui/response_column.py), the `KioskGuard` (ui/kiosk.py); what it works
with besides its model is a `DashboardServices` (ui/services.py) the composition root
builds (`oximon.cli.dashboard_services`). Everything redraws from one timer (at most
`redraw_hz`), never per sample.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QFont, QKeyEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from oximon.alerts.manager import SYSTEM_STATION
from oximon.alerts.watchdog import engine_stopped
from oximon.station_book import StationBook
from oximon.types import Priority, Station
from oximon.ui.alarm_views import AlarmBanner, EscalationOverlay, format_countdown
from oximon.ui.booth_settings import BoothSettingsDialog  # issue 12
from oximon.ui.bottom_bar import bottom_bar, fit_bottom_bar
from oximon.ui.devices import DevicesDialog
from oximon.ui.front import AlarmFront
from oximon.ui.kiosk import KioskGuard
from oximon.ui.model import DashboardModel
from oximon.ui.response import ResponsePanel
from oximon.ui.response_column import ResponseColumn
from oximon.ui.services import DashboardServices
from oximon.ui.settings import SettingsDialog
from oximon.ui.style import DARK, FLASH_HZ, HIGH_CONTRAST, stylesheet
from oximon.ui.tile import StationTile
from oximon.ui.wall import TileWall, grid_shape

if TYPE_CHECKING:  # imported when first opened: review pulls in the plots
    from oximon.ui.review.window import ReviewWindow

__all__ = ["DashboardOptions", "DashboardWindow", "grid_shape"]

BASE_SIZE = (1366, 768)  # the laptop screen every size is designed for first
MAX_SIZE_FACTOR = 3.0

@dataclass
class DashboardOptions:
    by: str = "peer worker"  # who acts, as the records show it (no real names)
    site: str = ""  # the site's name on printed reports
    high_contrast: bool = False
    text_scale: float = 1.0
    redraw_hz: float = 20.0  # the cap is about 30


class DashboardWindow(QMainWindow):
    def __init__(self, model: DashboardModel, services: DashboardServices, *,
                 options: DashboardOptions | None = None, title: str | None = None,
                 kiosk: bool = False):
        super().__init__()
        self.model = model
        self.services = services  # read at each use: a test may hand in others
        self.options = options or DashboardOptions()
        self.review_window: ReviewWindow | None = None  # opened on first use
        self.guard = KioskGuard(self, model, lambda: self.services, kiosk, self._say)
        self.services.session.on_change(self._supervisor_changed)
        self.palette_ = HIGH_CONTRAST if self.options.high_contrast else DARK
        self.dialog: DevicesDialog | SettingsDialog | None = None
        self._look: tuple[str, float] | None = None
        self.front = AlarmFront(self, lambda: self.dialog, lambda: self.review_window)
        self.setWindowTitle(title or "oximon")

        central = QWidget()
        self._central = central
        outer = QVBoxLayout(central)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(6)
        self.banner = AlarmBanner(self.palette_)
        self.banner.acknowledge_requested.connect(self.acknowledge)
        self.banner.respond_requested.connect(self.open_response)
        self.banner.pause_requested.connect(self.pause_audio)
        outer.addWidget(self.banner)
        body = QHBoxLayout()
        self.wall = TileWall(model.station_ids, self._wall_area)
        self.wall.acknowledge_requested.connect(self.acknowledge)
        self.wall.respond_requested.connect(self.open_response)
        self.grid = self.wall.grid
        self.tiles: dict[str, StationTile] = self.wall.tiles
        body.addWidget(self.wall, 1)
        # The response column lies over the wall's right side rather than squeezing it:
        # the tiles keep their size and place whether a panel is open or not.
        self.response_column = ResponseColumn(
            model, lambda: self.services, self.options.by, lambda: self.palette_,
            self._place_column, self._column_room)
        self.response_column.setParent(central)
        self.response = self.response_column.tabs
        self.timers = self.response_column.timers
        self.panels = self.response_column.panels
        self.finishing = self.response_column.finishing
        self.responders = self.response_column.responders
        outer.addLayout(body, 1)
        outer.addLayout(self._bottom_bar())
        self.setCentralWidget(central)
        self.overlay = EscalationOverlay(central, self.palette_)
        self.overlay.acknowledge_requested.connect(self.acknowledge)
        self.overlay.respond_requested.connect(self.respond_to)

        model.stations_changed.connect(self.rebuild_tiles)
        model.stations_changed.connect(self._save_stations)
        model.incident_opened.connect(self.response_column.show_panel)
        model.incident_closed.connect(self.response_column.incident_closed)
        self._shortcuts()
        self.apply_look()
        self.rebuild_tiles()
        self.resize(1366, 768)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.redraw)
        self.timer.start(max(1, int(1000 / min(30.0, self.options.redraw_hz))))

    @property
    def session(self):
        return self.services.session

    @property
    def kiosk(self) -> bool:
        return self.guard.kiosk

    # -- building --------------------------------------------------------------------------
    def _bottom_bar(self) -> QHBoxLayout:
        bar, self.status, self.buttons = bottom_bar({
            "Devices": self.open_devices, "Settings": self.open_settings,
            "Review incidents…": self.open_review, "High contrast": self.toggle_contrast,
            "A+": lambda: self.scale_text(1.15), "A−": lambda: self.scale_text(1 / 1.15),
            "Full screen": self.guard.toggle_full_screen})
        review = self.buttons["Review incidents…"]
        review.setEnabled(self.services.review is not None)
        if self.services.review is None:
            review.setToolTip("No incident store: nothing to review")
        return bar

    def _shortcuts(self) -> None:
        keys: list[tuple[str, Callable[[], object]]] = [
            ("Space", self.acknowledge_top), ("Return", self.acknowledge_top),
            ("Enter", self.acknowledge_top), ("P", self.pause_audio),
            ("R", self.respond_top), ("D", self.open_devices), ("S", self.open_settings),
            ("V", self.open_review),
            ("B", self.open_booth_settings),  # issue 12: per-booth limits and standby
            ("H", self.toggle_contrast), ("F11", self.guard.toggle_full_screen),
            ("Ctrl++", lambda: self.scale_text(1.15)), ("Ctrl+=", lambda: self.scale_text(1.15)),
            ("Ctrl+-", lambda: self.scale_text(1 / 1.15)), ("Ctrl+Q", self.request_quit),
        ]
        self.shortcuts = []
        for key, slot in keys:
            sc = QShortcut(QKeySequence(key), self)
            sc.setAutoRepeat(False)  # a held key acknowledges nothing twice
            sc.activated.connect(slot)
            self.shortcuts.append(sc)
        # While an escalated alarm covers the screen, Space/Enter acknowledge it from any
        # oximon window (a dialog or the review window may have the keyboard); otherwise
        # those keys belong to the main window only.
        self._ack_keys = self.shortcuts[:3]
        self._overlay_keys = []
        for key in ("Space", "Return", "Enter"):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.ApplicationShortcut)
            sc.setAutoRepeat(False)
            sc.setEnabled(False)
            sc.activated.connect(self.acknowledge_top)
            self._overlay_keys.append(sc)

    def size_factor(self) -> float:
        """How much larger than a 1366×768 laptop this window is (1 to 3): a wall screen
        gets a banner, buttons and panel to match, not laptop-sized ones."""
        f = min(self.width() / BASE_SIZE[0], self.height() / BASE_SIZE[1])
        return round(min(MAX_SIZE_FACTOR, max(1.0, f)), 2)

    def ui_scale(self) -> float:
        """Everything outside the tiles: the window's size times the chosen text scale."""
        return self.size_factor() * self.options.text_scale

    def apply_look(self) -> None:
        p, u = self.palette_, self.ui_scale()
        self._look = (p.name, u)
        self.setStyleSheet(stylesheet(p, u))
        font = self.font()
        font.setPixelSize(round(15 * u))
        self.setFont(font)
        self.banner.palette_ = p
        self.banner.set_text_scale(u)
        self.banner._style = ""  # force its colours to be set again
        self.overlay.palette_ = p
        # Already full-screen sized: it follows the window, and large text only a little.
        self.overlay.set_scale(self.size_factor() * min(1.15, self.options.text_scale))
        status = QFont(self.font())
        status.setPixelSize(max(11, round(13 * u)))
        self.status.setFont(status)
        self.wall.set_palette(p, self.options.text_scale)
        self.response_column.set_panel_scale(None)  # restyle the panels at the next fit
        self.response_column.fit()
        self._fit_bottom_bar()

    def _fit_bottom_bar(self) -> None:
        fit_bottom_bar(self.buttons, self.font(), round(15 * self.ui_scale()),
                       self.width() * 0.8)

    def rebuild_tiles(self) -> None:
        self.wall.rebuild(self.palette_, self.options.text_scale)
        self.redraw()

    def _wall_area(self) -> tuple[int, int]:
        """The area the grid's shape is chosen for: the whole wall (the response column
        lies over it), so opening or closing a panel never moves or shrinks a booth."""
        body = self._central.width() - 12
        w = body if body > 50 else self.width() - 20
        h = self.wall.height() if self.wall.height() > 50 else self.height() - 140
        return max(1, w), max(1, h)

    def _column_room(self) -> tuple[float, int, int]:
        """(text scale, window width, height left) the response column is sized for."""
        h = self.wall.height() if self.wall.height() > 50 else \
            self.height() - self.banner.height() - 60
        return self.ui_scale(), self.width(), h

    def _place_column(self) -> None:
        """The response column over the wall's right edge, its full height; the
        escalation overlay stays above it."""
        column = self.response_column
        wall = self.wall.geometry()
        width = min(column.width(), wall.width())
        rect = QRect(wall.right() + 1 - width, wall.top(), width, wall.height())
        if column.geometry() != rect:
            column.setGeometry(rect)
        if column.isVisible():
            column.raise_()
            if self.overlay.isVisible():
                self.overlay.raise_()
        self.wall.lay_out()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.overlay.setGeometry(self._central.rect())
        QTimer.singleShot(0, self, self._place_column)
        if self._look != (self.palette_.name, self.ui_scale()):
            self.apply_look()  # a different screen size: rescale the chrome
        else:
            self.response_column.fit()
            self._fit_bottom_bar()

    # -- the timer -------------------------------------------------------------------------
    def redraw(self) -> None:
        now = self.model.now()
        self.model.advance(now)
        bands = self.model.band_limits()
        flash = {pr: (now * hz) % 1.0 < 0.5 for pr, hz in FLASH_HZ.items()}
        left = self.model.audio_pause_left(now)
        paused = "" if left is None else format_countdown(left)
        for sid, tile in self.tiles.items():
            view = self.model.views.get(sid)
            if view is None:
                continue
            top = view.top_alarm()
            on = flash.get(top.priority, True) if top else True
            tile.refresh(self.model.live(sid), view, now, on, bands, paused)
        alarms = self.model.all_alarms()
        on = flash.get(alarms[0].priority, True) if alarms else True
        stopped = engine_stopped(self.model.engine)
        self.banner.refresh(self.model, now, flash[Priority.HIGH] if stopped else on, stopped)
        was_up = self.overlay.isVisible()
        self.overlay.refresh(self.model, flash[Priority.HIGH])
        if self.overlay.isVisible() != was_up:
            self._overlay_changed(self.overlay.isVisible())
        self.front.set(self.overlay.isVisible() or any(
            a.priority >= Priority.HIGH and not a.acknowledged for a in alarms))
        self.banner.set_prompts(self.response_column.refresh(now))
        self._refresh_status(now)

    def _overlay_changed(self, up: bool) -> None:
        """While an escalation covers the screen, Space/Enter reach it from any window."""
        for sc in self._ack_keys:
            sc.setEnabled(not up)
        for sc in self._overlay_keys:
            sc.setEnabled(up)

    def _refresh_status(self, now: float) -> None:
        wall = self.model.clock.wall().astimezone().strftime("%H:%M:%S")
        if not self.services.saving:
            records = "records NOT saved (no incident store)"
        elif self.services.incident_log.saving_ok:
            records = "records saved"
        else:
            records = "records NOT being saved — see the alarm"
        left = self.services.session.seconds_until_lock()  # looking also locks it on time
        supervisor = "" if left is None else \
            f" · supervisor mode (locks after {int(left) // 60}:{int(left) % 60:02d} idle)"
        text = (f"{wall} · {len(self.tiles)} stations · {records}{supervisor} · Space "
                "acknowledge · P pause audio · R respond · double-tap a tile to respond")
        if self.status.text() != text:
            self.status.setText(text)

    def _say(self, text: str) -> None:
        self.status.setText(text)

    # -- actions ---------------------------------------------------------------------------
    def acknowledge(self, sid: str) -> None:
        view = self.model.views.get(sid)
        if view is None:
            if sid == SYSTEM_STATION:  # monitoring stopped, sound unavailable
                self.model.acknowledge(sid, by=self.options.by)
                self.redraw()
            return
        vital_high = any(a.priority >= Priority.HIGH and not a.technical and not a.acknowledged
                         for a in view.alarms.values())
        self.model.acknowledge(sid, by=self.options.by)
        if vital_high:  # a high alarm on a person: the response starts now (its panel
            # opens; another booth's panel in front stays there, the new one announced)
            self.response_column.open_response(sid, "alarm", switch=False)
        self.redraw()

    def acknowledge_top(self) -> None:
        """Space/Enter. Under the escalation overlay only the booth it has shown for at
        least a second (a second press meant for the booth before is ignored)."""
        if self.overlay.isVisible():
            if not self.overlay.ready(self.model.now()):
                self._say("Look at the alarm on screen first: it can be acknowledged "
                          "after a second.")
                return
            sid = self.overlay.station
        else:
            sid = self.banner.station or next(
                (a.station for a in self.model.all_alarms() if not a.acknowledged), None)
        if sid is not None:
            self.acknowledge(sid)

    def respond_top(self) -> None:
        """R: respond to the overlay's booth (once seen), else the banner's first."""
        if self.overlay.isVisible():
            if self.overlay.ready(self.model.now()) and self.overlay.station:
                self.respond_to(self.overlay.station)
            return
        alarms = self.model.all_alarms()
        if alarms:
            self.open_response(alarms[0].station)

    def respond_to(self, sid: str) -> None:
        """Respond from the overlay: acknowledge the booth and bring its panel to front."""
        self.acknowledge(sid)
        self.open_response(sid)

    def pause_audio(self) -> None:
        self.model.pause_audio(by=self.options.by)
        self.redraw()

    def open_response(self, sid: str, reason: str = "manual") -> str:
        """Open (or show) the response panel for a station's incident; returns its id."""
        return self.response_column.open_response(sid, reason)

    def all_panels(self) -> list[ResponsePanel]:
        return self.response_column.all_panels()

    def open_devices(self) -> DevicesDialog:
        dialog = DevicesDialog(self.model, self.services.discover, self.services.open_source,
                               self,
                               on_paired=self._paired)
        dialog.setStyleSheet(self.styleSheet())
        self.dialog = dialog
        dialog.show()
        return dialog

    def _paired(self, station: Station, spec: str) -> None:
        """A device was paired to a booth: the store learns its alias, the site config its
        source (saved with the rest when the station list changes)."""
        self.services.incident_log.add_station(station)
        book = self.services.station_book
        if book is not None:
            book.paired(station.id, spec)

    def _save_stations(self) -> None:
        book: StationBook | None = self.services.station_book
        if book is None:
            return
        stations = [self.model.live(sid).station for sid in self.model.station_ids()]
        try:
            book.save(stations)
        except OSError as exc:
            text = f"Could not save the site configuration ({exc}): changes last until exit."
            if isinstance(self.dialog, DevicesDialog):
                self.dialog.say(text)
            self.status.setText(text)

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(
            self.model.engine.profile, session=self.services.session,
            audit=self.services.audit, apply=self.services.apply_profile,
            now=self.model.now, wall=self.model.clock.wall, save=self.services.save_profile,
            parent=self)
        dialog.setStyleSheet(self.styleSheet())
        self.dialog = dialog
        dialog.show()
        return dialog

    def open_booth_settings(self) -> BoothSettingsDialog:
        """Issue 12: one booth's limits and standby (supervisor mode; audited)."""
        dialog = BoothSettingsDialog(self.model.engine, self.services.session,
                                     self.services.audit, parent=self)
        dialog.setStyleSheet(self.styleSheet())
        self.booth_dialog = dialog
        dialog.show()
        return dialog

    def open_review(self):
        """The review window on the same store and supervisor session (one per app)."""
        backend = self.services.review
        if backend is None:
            return None
        if self.review_window is None:
            from oximon.ui.review.window import ReviewWindow

            review = self.model.engine.profile["review"]
            self.review_window = ReviewWindow(
                backend, self.services.session, site=self.options.site,
                suppress_small_counts=review["suppress_small_counts"])
        else:
            self.review_window.show_browser()
        self.review_window.show()
        self.review_window.raise_()
        self.review_window.activateWindow()
        return self.review_window

    def _supervisor_changed(self, unlocked: bool) -> None:
        if isinstance(self.dialog, SettingsDialog):
            self.dialog.refresh_mode()

    # -- leaving ---------------------------------------------------------------------------
    def request_quit(self) -> None:
        """Ctrl+Q: quit after the same check as closing the window."""
        self.guard.request_quit()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.guard.allows_close(event):
            event.ignore()
            return
        if self.review_window is not None:
            self.review_window.close()
        super().closeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self.guard.escape(event):
            super().keyPressEvent(event)

    def toggle_contrast(self) -> None:
        self.palette_ = DARK if self.palette_ is HIGH_CONTRAST else HIGH_CONTRAST
        self.apply_look()

    def scale_text(self, factor: float) -> None:
        self.options.text_scale = min(2.5, max(0.7, self.options.text_scale * factor))
        self.apply_look()
