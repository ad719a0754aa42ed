"""The main window: the alarm banner, a wall of station tiles that fills the screen, the
response panel while incidents are open, and the escalation overlay.

Seams the composition root fills (each has a working default for the demo):
- `incident_log`: an `oximon.ports.IncidentLog` (the store); None → an in-memory log and
  the panel says records are not being saved;
- `discover` / `open_source`: device discovery and the source-spec opener for pairing;
- `station_book`: keeps the site configuration in step with pairing, rename, swap and
  remove (None: changes last until the app stops, as in the demo);
- `session`: supervisor mode (one per app, shared by settings and the review window);
- `review`: the incident store as the review window's backend (None: no review button);
- `audit` / `apply_profile`: where settings changes are audited and how a new profile is
  applied (default: the running engine takes it for every station at once);
- `save_profile`: keeps an applied profile for the next start (None: the demo, not kept);
- `login` / `confirm`: the supervisor password prompt and the yes/no question (kiosk mode
  and quitting while stations are monitored).
Everything redraws from one timer (at most `redraw_hz`), never per sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from oximon.alerts.manager import SYSTEM_STATION
from oximon.alerts.watchdog import engine_stopped
from oximon.ports import IncidentLog
from oximon.profile import Profile
from oximon.review import ReviewBackend
from oximon.station_book import StationBook
from oximon.supervisor import PasswordFile, SupervisorSession
from oximon.types import DeviceState, Priority, Station
from oximon.ui.alarm_views import AlarmBanner, EscalationOverlay
from oximon.ui.devices import DevicesDialog, Discovery, Opener, simulated_discovery
from oximon.ui.incident_memory import MemoryIncidentLog
from oximon.ui.model import DashboardModel
from oximon.ui.response import Responders, ResponsePanel, ask_yes_no
from oximon.ui.review.login import ensure_supervisor
from oximon.ui.settings import AuditSink, SettingsDialog, default_audit_sink
from oximon.ui.style import DARK, FLASH_HZ, HIGH_CONTRAST, stylesheet
from oximon.ui.tile import StationTile

TILE_ASPECT = 1.45  # the width/height a tile reads best at
BASE_SIZE = (1366, 768)  # the laptop screen every size is designed for first
MAX_SIZE_FACTOR = 3.0
PANEL_W, PANEL_H = 410, 640  # the response panel's width and height at scale 1
BOTTOM_LABELS = {"Devices": "Devices  [D]", "Settings": "Settings  [S]",
                 "Review incidents…": "Review incidents…  [V]",
                 "High contrast": "High contrast  [H]", "A+": "A+", "A−": "A−",
                 "Full screen": "Full screen  [F11]"}


def grid_shape(n: int, width: float = 16.0, height: float = 9.0) -> tuple[int, int]:
    """Rows × columns for n tiles in a width × height area: the shape whose tiles come
    closest to TILE_ASPECT while wasting the fewest cells."""
    n = max(1, n)
    best: tuple[float, int, int] | None = None
    for cols in range(1, n + 1):
        rows = math.ceil(n / cols)
        aspect = (width / cols) / (height / rows)
        cost = abs(math.log(aspect / TILE_ASPECT)) + 0.35 * (rows * cols - n) / n
        if best is None or cost < best[0]:
            best = (cost, rows, cols)
    assert best is not None
    return best[1], best[2]


class _Wall(QWidget):
    """The tiles' area; tells the window its size so the grid shape can follow it."""

    def __init__(self, on_resize: Callable[[int, int], None]):
        super().__init__()
        self._on_resize = on_resize

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._on_resize(self.width(), self.height())


@dataclass
class DashboardOptions:
    by: str = "peer worker"  # who acts, as the records show it (no real names)
    site: str = ""  # the site's name on printed reports
    high_contrast: bool = False
    text_scale: float = 1.0
    redraw_hz: float = 20.0  # the cap is about 30


class DashboardWindow(QMainWindow):
    def __init__(self, model: DashboardModel, *, incident_log: IncidentLog | None = None,
                 discover: Discovery | None = None, open_source: Opener | None = None,
                 audit: AuditSink | None = None,
                 apply_profile: Callable[[Profile], str] | None = None,
                 session: SupervisorSession | None = None,
                 review: ReviewBackend | None = None,
                 station_book: StationBook | None = None,
                 options: DashboardOptions | None = None, title: str | None = None,
                 kiosk: bool = False,
                 save_profile: Callable[[Profile], object] | None = None,
                 login: Callable[[SupervisorSession, QWidget], bool] | None = None,
                 confirm: Callable[[QWidget, str, str], bool] | None = None):
        super().__init__()
        self.model = model
        self.options = options or DashboardOptions()
        self.saving = incident_log is not None
        self.incident_log: IncidentLog = incident_log or MemoryIncidentLog()
        self.discover = discover or simulated_discovery(model.engine)
        self.open_source = open_source
        self.audit = audit
        self.apply_profile = apply_profile or self._apply_profile_here
        self.save_profile = save_profile  # keeps applied settings for the next start
        self.session = session or SupervisorSession(
            PasswordFile(), lock_after_s=model.engine.profile["review"]["lock_after_s"],
            audit=self._audit_supervisor)
        self.session.on_change(self._supervisor_changed)
        self.review_backend = review
        self.review_window = None
        self.station_book = station_book
        self.kiosk = kiosk
        self.login = login or ensure_supervisor  # kiosk: leaving needs supervisor mode
        self.confirm = confirm or ask_yes_no
        self._quit_ok = False
        self.palette_ = HIGH_CONTRAST if self.options.high_contrast else DARK
        self.tiles: dict[str, StationTile] = {}
        self.panels: dict[str, ResponsePanel] = {}
        # Panels whose record oximon closed while a person was still filling them in, and
        # whose booth has since had a new incident (by incident id): kept until finished.
        self.finishing: dict[str, ResponsePanel] = {}
        self.responders = Responders(self.options.by)  # who responds, for this shift
        self.dialog: DevicesDialog | SettingsDialog | None = None
        self.setWindowTitle(title or "oximon")

        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(6)
        self.banner = AlarmBanner(self.palette_)
        self.banner.acknowledge_requested.connect(self.acknowledge)
        self.banner.respond_requested.connect(self.open_response)
        self.banner.pause_requested.connect(self.pause_audio)
        outer.addWidget(self.banner)
        body = QHBoxLayout()
        self.wall = _Wall(self._wall_resized)
        self.grid = QGridLayout(self.wall)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(6)
        body.addWidget(self.wall, 1)
        # The response column: each open incident's panel in a tab, and above the tabs
        # the timers of the booths whose tab is not in front (pacer, naloxone countdown).
        self.response_column = QWidget()
        column = QVBoxLayout(self.response_column)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        self.timers = QLabel("")
        self.timers.setObjectName("timers")
        self.timers.setWordWrap(True)
        self.timers.hide()
        self.response = QTabWidget()
        column.addWidget(self.timers)
        column.addWidget(self.response, 1)
        self.response_column.hide()
        body.addWidget(self.response_column)
        outer.addLayout(body, 1)
        outer.addLayout(self._bottom_bar())
        self.setCentralWidget(central)
        self.overlay = EscalationOverlay(central, self.palette_)
        self.overlay.acknowledge_requested.connect(self.acknowledge)

        model.stations_changed.connect(self.rebuild_tiles)
        model.stations_changed.connect(self._save_stations)
        model.incident_opened.connect(self._show_panel)
        model.incident_closed.connect(self._incident_closed)
        self._shortcuts()
        self.apply_look()
        self.rebuild_tiles()
        self.resize(1366, 768)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.redraw)
        self.timer.start(max(1, int(1000 / min(30.0, self.options.redraw_hz))))

    # -- building --------------------------------------------------------------------------
    def _bottom_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.status = QLabel("")
        self.status.setObjectName("dim")
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar.addWidget(self.status, 1)
        self.buttons: dict[str, QPushButton] = {}
        for text, slot in (("Devices  [D]", self.open_devices),
                           ("Settings  [S]", self.open_settings),
                           ("Review incidents…  [V]", self.open_review),
                           ("High contrast  [H]", self.toggle_contrast),
                           ("A+", lambda: self.scale_text(1.15)),
                           ("A−", lambda: self.scale_text(1 / 1.15)),
                           ("Full screen  [F11]", self.toggle_full_screen)):
            b = QPushButton(text)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(slot)
            bar.addWidget(b)
            self.buttons[text.split("  ")[0]] = b
        review = self.buttons["Review incidents…"]
        review.setEnabled(self.review_backend is not None)
        if self.review_backend is None:
            review.setToolTip("No incident store: nothing to review")
        return bar

    def _shortcuts(self) -> None:
        keys: list[tuple[str, Callable[[], None]]] = [
            ("Space", self.acknowledge_top), ("Return", self.acknowledge_top),
            ("Enter", self.acknowledge_top), ("P", self.pause_audio),
            ("R", self.respond_top), ("D", self.open_devices), ("S", self.open_settings),
            ("V", self.open_review),
            ("H", self.toggle_contrast), ("F11", self.toggle_full_screen),
            ("Ctrl++", lambda: self.scale_text(1.15)), ("Ctrl+=", lambda: self.scale_text(1.15)),
            ("Ctrl+-", lambda: self.scale_text(1 / 1.15)), ("Ctrl+Q", self.request_quit),
        ]
        self.shortcuts = []
        for key, slot in keys:
            sc = QShortcut(QKeySequence(key), self)
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
            sc.setEnabled(False)
            sc.activated.connect(self.acknowledge_top)
            self._overlay_keys.append(sc)
        self._hidden_dialog: QWidget | None = None

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
        for tile in self.tiles.values():
            tile.set_palette(p, self.options.text_scale)
        self._panel_scale = None
        self._size_response()
        self._fit_bottom_bar()

    def _fit_bottom_bar(self) -> None:
        """The buttons keep to one row on any window: their key hints go first, then the
        font shrinks (never below 11 px)."""
        room = self.width() * 0.8
        px = round(15 * self.ui_scale())
        for short in (False, True):
            for key, b in self.buttons.items():
                b.setText(key if short else BOTTOM_LABELS[key])
            for size in range(px, 10, -1):
                font = QFont(self.font())
                font.setPixelSize(size)
                for b in self.buttons.values():
                    b.setFont(font)
                if sum(b.sizeHint().width() + 6 for b in self.buttons.values()) <= room:
                    return
                if not short:
                    break  # try the short labels before a smaller font

    def rebuild_tiles(self) -> None:
        ids = self.model.station_ids()
        for sid in list(self.tiles):
            if sid not in ids:
                tile = self.tiles.pop(sid)
                self.grid.removeWidget(tile)
                tile.deleteLater()
        for sid in ids:
            if sid not in self.tiles:
                tile = StationTile(sid, self.palette_, self.options.text_scale)
                tile.acknowledge_requested.connect(self.acknowledge)
                tile.respond_requested.connect(self.open_response)
                self.tiles[sid] = tile
        self._layout_tiles()
        self.redraw()

    def _wall_area(self) -> tuple[int, int]:
        """The area the grid's shape is chosen for: the wall *and* the response column,
        so opening or closing a panel never moves a booth to another row or column."""
        body = self.centralWidget().width() - 12 if self.centralWidget() else self.width()
        w = body if body > 50 else self.width() - 20
        h = self.wall.height() if self.wall.height() > 50 else self.height() - 140
        return max(1, w), max(1, h)

    def _layout_tiles(self) -> None:
        ids = self.model.station_ids()
        w, h = self._wall_area()
        rows, cols = grid_shape(len(ids), w, h)
        if getattr(self, "_shape", None) == (rows, cols, len(ids)) and all(
                self.grid.indexOf(self.tiles[sid]) >= 0 for sid in ids) and \
                getattr(self, "_order", None) == ids:
            return  # same shape, same tiles: nothing moves
        self._order = ids
        for tile in self.tiles.values():
            self.grid.removeWidget(tile)
        for r in range(self.grid.rowCount()):
            self.grid.setRowStretch(r, 0)
        for c in range(self.grid.columnCount()):
            self.grid.setColumnStretch(c, 0)
        for i, sid in enumerate(ids):
            self.grid.addWidget(self.tiles[sid], i // cols, i % cols)
        for r in range(rows):
            self.grid.setRowStretch(r, 1)
        for c in range(cols):
            self.grid.setColumnStretch(c, 1)
        self._shape = (rows, cols, len(ids))

    def _wall_resized(self, _w: int, _h: int) -> None:
        if self.tiles:
            rows, cols = grid_shape(len(self.tiles), *self._wall_area())
            if (rows, cols, len(self.tiles)) != getattr(self, "_shape", None):
                QTimer.singleShot(0, self, self._layout_tiles)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.overlay.setGeometry(self.centralWidget().rect())
        if getattr(self, "_look", None) != (self.palette_.name, self.ui_scale()):
            self.apply_look()  # a different screen size: rescale the chrome
        else:
            self._size_response()
            self._fit_bottom_bar()

    # -- the timer -------------------------------------------------------------------------
    def redraw(self) -> None:
        now = self.model.now()
        self.model.advance(now)
        bands = self.model.band_limits()
        flash = {pr: (now * hz) % 1.0 < 0.5 for pr, hz in FLASH_HZ.items()}
        for sid, tile in self.tiles.items():
            view = self.model.views.get(sid)
            if view is None:
                continue
            top = view.top_alarm()
            on = flash.get(top.priority, True) if top else True
            tile.refresh(self.model.live(sid), view, now, on, bands)
        top = self.model.all_alarms()
        on = flash.get(top[0].priority, True) if top else True
        stopped = engine_stopped(self.model.engine)
        self.banner.refresh(self.model, now, flash[Priority.HIGH] if stopped else on, stopped)
        was_up = self.overlay.isVisible()
        self.overlay.refresh(self.model, flash[Priority.HIGH])
        if self.overlay.isVisible() != was_up:
            self._overlay_changed(self.overlay.isVisible())
        for panel in self.all_panels():
            panel.refresh(now)
        self._refresh_timers(now)
        self._refresh_status(now)

    def _refresh_timers(self, now: float) -> None:
        """A second-dose prompt goes in the banner with its booth (whatever tab is in
        front); the timers of booths whose tab is behind stay in sight above the tabs."""
        prompts, behind = [], []
        front = self.response.currentWidget()
        for panel in self.all_panels():
            label = self.model.label(panel.station)
            words, due = panel.naloxone_text(now)
            if due:
                prompts.append(f"{label}: {words}")
            if panel is front:
                continue
            running = [x for x in (panel.pacer_text(now), "" if due else words) if x]
            if due:
                running.append(f"GIVE NALOXONE DOSE {len(panel.naloxone_doses) + 1}?")
            if running:
                behind.append(f"<b>{label}</b>: {' · '.join(running)}")
        self.banner.set_prompts(prompts)
        text = "<br>".join(behind)
        if self.timers.text() != text:
            self.timers.setText(text)
            self.timers.setVisible(bool(text))

    def _overlay_changed(self, up: bool) -> None:
        """An escalation must be seen and acknowledged whatever window was in front: the
        main window comes forward and takes the keyboard, a non-modal dialog steps aside
        (and comes back once the alarm is acknowledged), the review window goes behind."""
        for sc in self._ack_keys:
            sc.setEnabled(not up)
        for sc in self._overlay_keys:
            sc.setEnabled(up)
        if not up:
            dialog, self._hidden_dialog = self._hidden_dialog, None
            if dialog is not None and dialog is self.dialog:
                dialog.show()
            return
        dialog = self.dialog
        if dialog is not None and dialog.isVisible() and not dialog.isModal():
            dialog.hide()
            self._hidden_dialog = dialog
        if self.review_window is not None and self.review_window.isVisible():
            self.review_window.lower()
        if self.isMinimized():
            self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.raise_()
        self.activateWindow()
        if self.windowHandle() is not None:
            self.windowHandle().requestActivate()

    def _refresh_status(self, now: float) -> None:
        wall = self.model.clock.wall().astimezone().strftime("%H:%M:%S")
        if not self.saving:
            records = "records NOT saved (no incident store)"
        elif getattr(self.incident_log, "saving_ok", True):
            records = "records saved"
        else:
            records = "records NOT being saved — see the alarm"
        left = self.session.seconds_until_lock()  # looking also locks it on time
        supervisor = "" if left is None else \
            f" · supervisor mode (locks after {int(left) // 60}:{int(left) % 60:02d} idle)"
        text = (f"{wall} · {len(self.tiles)} stations · {records}{supervisor} · Space "
                "acknowledge · P pause audio · R respond · double-tap a tile to respond")
        if self.status.text() != text:
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
        if vital_high:  # a high alarm on a person: the response starts now
            self.open_response(sid, reason="alarm")
        self.redraw()

    def acknowledge_top(self) -> None:
        sid = self.overlay.station or next(
            (a.station for a in self.model.all_alarms() if not a.acknowledged), None)
        if sid is not None:
            self.acknowledge(sid)

    def respond_top(self) -> None:
        alarms = self.model.all_alarms()
        if alarms:
            self.open_response(alarms[0].station)

    def pause_audio(self) -> None:
        self.model.pause_audio(by=self.options.by)
        self.redraw()

    def open_response(self, sid: str, reason: str = "manual") -> str:
        """Open (or show) the response panel for a station's incident; returns its id."""
        iid = self.model.incidents.get(sid) or self.incident_log.current_incident(sid)
        kept = self.panels.get(sid)
        if iid is None and kept is not None and kept.closed_by_system_t is not None:
            # oximon closed the record while it was being filled in: finish that one.
            self.response.setCurrentWidget(kept)
            self.response_column.show()
            return kept.incident_id
        if iid is None:
            iid = self.incident_log.open_incident(sid, self.model.now(), reason,
                                                  by=self.options.by)
        self._show_panel(sid, iid)
        return iid

    def _show_panel(self, sid: str, iid: str) -> None:
        if sid not in self.model.views:
            return
        self.model.incidents[sid] = iid
        panel = self.panels.get(sid)
        if panel is None or panel.incident_id != iid:
            if panel is not None and panel.closed_by_system_t is not None \
                    and panel.has_entries():
                self.panels.pop(sid)  # a new incident: the unfinished one stays beside it
                self.finishing[panel.incident_id] = panel
                self.response.setTabText(self.response.indexOf(panel),
                                         f"{self.model.label(sid)} (closed)")
            elif panel is not None:
                self._remove_panel(sid)
            panel = ResponsePanel(self.model, sid, iid, self.incident_log, self.saving,
                                  by=self.options.by, responders=self.responders,
                                  confirm=self.confirm)
            panel.set_scale(getattr(self, "_panel_scale", None) or 1.0)
            panel.closed.connect(lambda s, i: self._closed(s, i))
            self.panels[sid] = panel
            self.response.addTab(panel, self.model.label(sid))
        self.response.setCurrentWidget(panel)
        self._size_response()
        self.response_column.show()

    def all_panels(self) -> list[ResponsePanel]:
        return [*self.panels.values(), *self.finishing.values()]

    def _closed(self, sid: str, iid: str) -> None:
        """A panel closed its record."""
        if self.model.incidents.get(sid) == iid:
            self.model.incidents.pop(sid)
        if iid in self.finishing:
            self._drop(self.finishing.pop(iid))
        elif self.panels.get(sid) is not None and self.panels[sid].incident_id == iid:
            self._remove_panel(sid)

    def _incident_closed(self, sid: str, iid: str) -> None:
        """The store closed a record. A panel a person has put entries in stays open (its
        entries would otherwise be lost); an untouched one goes."""
        panel = self.panels.get(sid)
        if panel is None or panel.incident_id != iid:
            return
        if panel.done or not panel.has_entries():
            self._remove_panel(sid)
        elif panel.closed_by_system_t is None:
            panel.system_closed(self.model.now())

    def _remove_panel(self, sid: str) -> None:
        panel = self.panels.pop(sid, None)
        if panel is not None:
            self._drop(panel)
        if not self.all_panels():
            self.response_column.hide()
        QTimer.singleShot(0, self, self._layout_tiles)

    def _drop(self, panel: ResponsePanel) -> None:
        self.response.removeTab(self.response.indexOf(panel))
        panel.deleteLater()
        if not self.all_panels():
            self.response_column.hide()

    def _size_response(self) -> None:
        """The response column takes about a third of the window (more with large text, at
        most 40 %); its text scale is what fits that width and the window's height."""
        u = self.ui_scale()
        width = int(min(0.4 * self.width(), max(0.3 * self.width(), PANEL_W * u)))
        self.response_column.setFixedWidth(width)
        room = max(1, self.height() - self.banner.height() - 60)
        self._set_panel_scale(round(max(0.8, min(u, width / PANEL_W, room / PANEL_H)), 2))
        QTimer.singleShot(0, self, self._layout_tiles)
        QTimer.singleShot(0, self, self._check_panel_fit)

    def _set_panel_scale(self, scale: float) -> None:
        if scale != getattr(self, "_panel_scale", None):
            self._panel_scale = scale
            self.response_column.setStyleSheet(stylesheet(self.palette_, scale))
            for panel in self.all_panels():
                panel.set_scale(scale)

    def _check_panel_fit(self, tries: int = 4) -> None:
        """If the panel's fixed part (actions, SAVE ME) still does not fit its height,
        take its text down until it does (the estimate above is only an estimate)."""
        panel = self.response.currentWidget()
        if not isinstance(panel, ResponsePanel) or not self.response_column.isVisible():
            return
        need = panel.outer.widget().minimumSizeHint().height()
        have = panel.outer.viewport().height()
        scale = self._panel_scale or 1.0
        if need <= have or scale <= 0.8:
            return
        self._set_panel_scale(round(max(0.8, scale * have / need - 0.01), 2))
        if tries > 1:
            QTimer.singleShot(0, self, lambda: self._check_panel_fit(tries - 1))

    def open_devices(self) -> DevicesDialog:
        if self.open_source is None:
            from oximon.drivers import open_source
            self.open_source = open_source
        dialog = DevicesDialog(self.model, self.discover, self.open_source, self,
                               on_paired=self._paired)
        dialog.setStyleSheet(self.styleSheet())
        self.dialog = dialog
        dialog.show()
        return dialog

    def _paired(self, station: Station, spec: str) -> None:
        """A device was paired to a booth: the store learns its alias, the site config its
        source (saved with the rest when the station list changes)."""
        add = getattr(self.incident_log, "add_station", None)
        if add is not None:
            add(station)
        if self.station_book is not None:
            self.station_book.paired(station.id, spec)

    def _save_stations(self) -> None:
        if self.station_book is None:
            return
        stations = [self.model.live(sid).station for sid in self.model.station_ids()]
        try:
            self.station_book.save(stations)
        except OSError as exc:
            text = f"Could not save the site configuration ({exc}): changes last until exit."
            if isinstance(self.dialog, DevicesDialog):
                self.dialog.say(text)
            self.status.setText(text)

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(
            self.model.engine.profile, session=self.session,
            audit=self.audit or default_audit_sink(), apply=self.apply_profile,
            now=self.model.now, wall=self.model.clock.wall, save=self.save_profile,
            parent=self)
        dialog.setStyleSheet(self.styleSheet())
        self.dialog = dialog
        dialog.show()
        return dialog

    def open_review(self):
        """The review window on the same store and supervisor session (one per app)."""
        if self.review_backend is None:
            return None
        if self.review_window is None:
            from oximon.ui.review.window import ReviewWindow

            review = self.model.engine.profile["review"]
            self.review_window = ReviewWindow(
                self.review_backend, self.session, site=self.options.site,
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

    def _audit_supervisor(self, action: str, by: str, details: dict) -> None:
        """Supervisor-mode audit when no store-backed session was handed in."""
        (self.audit or default_audit_sink())({"type": "audit", "action": action, "by": by,
                                              "key": None, **details})

    def _apply_profile_here(self, profile: Profile) -> str:
        """Default: the running engine takes the profile for every station at once."""
        n = self.model.engine.apply_profile(profile)
        return (f"In force now on all {n} station(s): alarm rules, tile bands and audio "
                "pause.")

    # -- leaving ---------------------------------------------------------------------------
    def monitored(self) -> int:
        """How many stations have a device that monitoring would stop for."""
        idle = {DeviceState.UNASSIGNED, DeviceState.ENDED}
        return sum(1 for sid in self.model.station_ids()
                   if self.model.live(sid).state not in idle)

    def _supervisor_allows(self, what: str) -> bool:
        """Kiosk mode: only a supervisor may `what` (asks for the password; audited)."""
        if not self.login(self.session, self):
            self.status.setText(f"Kiosk mode: only a supervisor can {what}.")
            return False
        self.session.audit(f"dashboard.{what.replace(' ', '_')}", self.session.user,
                           {"kiosk": True})
        return True

    def may_quit(self) -> bool:
        """Kiosk: a supervisor only. Otherwise, with stations monitored, after a yes."""
        if self.kiosk:
            return self._supervisor_allows("quit")
        n = self.monitored()
        if n == 0:
            return True
        return self.confirm(self, "Quit oximon?",
                            f"Monitoring stops for {n} station(s): no alarm will sound for "
                            "anyone until oximon is started again.")

    def request_quit(self) -> None:
        """Ctrl+Q: quit after the same check as closing the window."""
        if self.may_quit():
            self._quit_ok = True
            self.close()

    def closeEvent(self, event) -> None:
        # A close from the window system (the title bar, Alt+F4) is a person's: check it.
        # (Closes by the program itself — the app ending, tests — are not asked about.)
        if event.spontaneous() and not self._quit_ok and not self.may_quit():
            event.ignore()
            return
        if self.review_window is not None:
            self.review_window.close()
        super().closeEvent(event)

    def toggle_contrast(self) -> None:
        self.palette_ = DARK if self.palette_ is HIGH_CONTRAST else HIGH_CONTRAST
        self.apply_look()

    def scale_text(self, factor: float) -> None:
        self.options.text_scale = min(2.5, max(0.7, self.options.text_scale * factor))
        self.apply_look()

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            if self.kiosk and not self._supervisor_allows("leave full screen"):
                return
            self.showNormal()
        else:
            self.showFullScreen()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and self.isFullScreen() and not self.kiosk:
            self.showNormal()
        else:
            super().keyPressEvent(event)
