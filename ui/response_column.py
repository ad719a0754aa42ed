"""The response column beside the tile wall: each open incident's response panel in a
tab, and above the tabs the timers of the booths whose tab is not in front (pacer,
naloxone countdown). A panel whose record oximon closed while a person was still filling
it in stays (beside the booth's new incident, if one opens) until it is finished."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QSizePolicy, QTabWidget, QVBoxLayout, QWidget

from oximon.response import Responders
from oximon.ui.model import DashboardModel
from oximon.ui.response import ResponsePanel
from oximon.ui.services import DashboardServices
from oximon.ui.style import Palette, stylesheet

PANEL_W, PANEL_H = 410, 640  # the response panel's width and height at scale 1
MIN_SCALE = 0.7  # its text never smaller than this (13 px buttons on a laptop)


class ResponseColumn(QWidget):
    def __init__(self, model: DashboardModel, services: Callable[[], DashboardServices],
                 by: str, palette: Callable[[], Palette], relayout: Callable[[], None],
                 room: Callable[[], tuple[float, int, int]]):
        super().__init__()
        self.setObjectName("responseColumn")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._room = room  # (text scale, window width, height left for the column)
        self.model = model
        self._services = services  # read when a panel opens (tests may swap them)
        self.by = by
        self._palette = palette
        self._relayout = relayout  # the wall's grid, once the column's width settled
        self.panels: dict[str, ResponsePanel] = {}
        # Panels whose record oximon closed while a person was still filling them in, and
        # whose booth has since had a new incident (by incident id): kept until finished.
        self.finishing: dict[str, ResponsePanel] = {}
        self.responders = Responders(by)  # who responds, for this shift
        self.panel_scale: float | None = None
        self._fitted_for: tuple[float, int, int] | None = None
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        # Above the tabs, always the same height (the panel never moves): new incidents
        # on other booths (announced, never switched to) and the timers of booths whose
        # tab is behind.
        self.timers = QLabel("")
        self.timers.setObjectName("timers")
        self.timers.setWordWrap(False)
        self.timers.setProperty("quiet", True)
        self.timers.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.announced: list[str] = []  # booths with a new incident nobody looked at yet
        self.tabs = QTabWidget()
        self.tabs.currentChanged.connect(self._looked_at)
        column.addWidget(self.timers)
        column.addWidget(self.tabs, 1)
        self.hide()

    def all_panels(self) -> list[ResponsePanel]:
        return [*self.panels.values(), *self.finishing.values()]

    def open_response(self, sid: str, reason: str = "manual", switch: bool = True) -> str:
        """Open (or show) the response panel for a station's incident; returns its id.
        `switch` False: another booth's panel in front stays in front (announced)."""
        log = self._services().incident_log
        iid = self.model.incidents.get(sid) or log.current_incident(sid)
        kept = self.panels.get(sid)
        if iid is None and kept is not None and kept.closed_by_system_t is not None:
            # oximon closed the record while it was being filled in: finish that one.
            self.tabs.setCurrentWidget(kept)
            self._reveal()
            return kept.incident_id
        if iid is None:
            iid = log.open_incident(sid, self.model.now(), reason, by=self.by)
        self.show_panel(sid, iid, switch)
        return iid

    def show_panel(self, sid: str, iid: str, switch: bool = False) -> None:
        """The panel for `sid`'s incident. It comes to the front only if asked (a person
        chose this booth) or nothing else is in front: an incident opening by itself on
        another booth mid-response is announced above the tabs, never switched to."""
        if sid not in self.model.views:
            return
        self.model.incidents[sid] = iid
        panel = self.panels.get(sid)
        if panel is None or panel.incident_id != iid:
            if panel is not None and panel.closed_by_system_t is not None \
                    and panel.has_entries():
                self.panels.pop(sid)  # a new incident: the unfinished one stays beside it
                self.finishing[panel.incident_id] = panel
                self.tabs.setTabText(self.tabs.indexOf(panel),
                                     f"{self.model.label(sid)} (closed)")
            elif panel is not None:
                self._remove_panel(sid)
            services = self._services()
            panel = ResponsePanel(self.model, sid, iid, services.incident_log,
                                  services.saving, by=self.by, responders=self.responders,
                                  confirm=services.confirm)
            panel.set_scale(self.panel_scale or 1.0)
            panel.closed.connect(self._closed)
            self.panels[sid] = panel
            had_front = self.tabs.count() > 0
            front = self.tabs.currentWidget()
            self.tabs.addTab(panel, self.model.label(sid))
            if had_front and not switch:
                self.tabs.setCurrentWidget(front)
        if switch or self.tabs.currentWidget() is panel or not self.isVisible():
            self.tabs.setCurrentWidget(panel)
        elif sid not in self.announced:
            self.announced.append(sid)
            index = self.tabs.indexOf(panel)
            self.tabs.setTabText(index, f"NEW {self.model.label(sid)}")
            self.tabs.tabBar().setTabTextColor(index, QColor("#ffd600"))
        self.fit()
        self._reveal()

    def _looked_at(self, index: int) -> None:
        panel = self.tabs.widget(index)
        if isinstance(panel, ResponsePanel) and panel.station in self.announced:
            self.announced.remove(panel.station)
            self.tabs.setTabText(index, self.model.label(panel.station))
            self.tabs.tabBar().setTabTextColor(index, QColor())

    def front_station(self) -> str | None:
        """The booth whose panel is in front (what taps are recorded on)."""
        panel = self.tabs.currentWidget()
        return panel.station if isinstance(panel, ResponsePanel) else None

    def _reveal(self) -> None:
        self.show()
        self._relayout()  # placed over the wall, above the tiles

    def _closed(self, sid: str, iid: str) -> None:
        """A panel closed its record."""
        if self.model.incidents.get(sid) == iid:
            self.model.incidents.pop(sid)
        if iid in self.finishing:
            self._drop(self.finishing.pop(iid))
        elif self.panels.get(sid) is not None and self.panels[sid].incident_id == iid:
            self._remove_panel(sid)

    def incident_closed(self, sid: str, iid: str) -> None:
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
            self.hide()
        QTimer.singleShot(0, self, self._relayout)

    def _drop(self, panel: ResponsePanel) -> None:
        self.tabs.removeTab(self.tabs.indexOf(panel))
        panel.deleteLater()
        if not self.all_panels():
            self.hide()

    # -- size ------------------------------------------------------------------------------
    def fit(self) -> None:
        """The column takes about a third of the window (more with large text, at most
        40 %); its text scale is what fits that width and the window's height."""
        room_key = self._room()
        if room_key == self._fitted_for and self.panel_scale is not None:
            QTimer.singleShot(0, self, self._relayout)
            return  # same room: the scale found before stands (nothing moves)
        self._fitted_for = room_key
        u, window_w, room_h = room_key
        width = int(min(0.4 * window_w, max(0.3 * window_w, PANEL_W * u)))
        self.setFixedWidth(width)
        room = max(1, room_h)
        self.set_panel_scale(round(max(MIN_SCALE, min(u, width / PANEL_W, room / PANEL_H)), 2))
        QTimer.singleShot(0, self, self._relayout)
        QTimer.singleShot(0, self, self._check_panel_fit)

    def set_panel_scale(self, scale: float | None) -> None:
        if scale != self.panel_scale:
            self.panel_scale = scale
            if scale is None:
                self._fitted_for = None  # restyle at the next fit
                return
            palette = self._palette()
            # Opaque, with an edge: it lies over the wall's right side.
            self.setStyleSheet(stylesheet(palette, scale) +
                               f"QWidget#responseColumn {{ background: {palette.bg}; "
                               f"border-left: 3px solid {palette.dim}; }}"
                               "QWidget#responseColumn QPushButton { padding: 2px 8px; }"
                               "QLabel#timers[quiet=\"true\"] { border: none; "
                               "background: transparent; }")
            # Two lines, always: a notice coming or going moves nothing below it.
            self.timers.setFixedHeight(round(16 * scale * 1.3 + 10))
            for panel in self.all_panels():
                panel.set_scale(scale)

    def _check_panel_fit(self, tries: int = 8) -> None:
        """If the panel's fixed part (actions, SAVE ME) still does not fit its height,
        take its text down until it does (the estimate above is only an estimate)."""
        panel = self.tabs.currentWidget()
        if not isinstance(panel, ResponsePanel) or not self.isVisible():
            return
        content = panel.outer.widget()
        if content is None:
            return
        need = content.minimumSizeHint().height()
        have = panel.outer.viewport().height()
        scale = self.panel_scale or 1.0
        if need <= have:
            return
        if scale <= MIN_SCALE:  # last resort: the record strip keeps only its heading
            panel.form.fit_min(first_row=False)
            return
        self.set_panel_scale(round(max(MIN_SCALE, scale * have / need - 0.01), 2))
        if tries > 1:
            QTimer.singleShot(0, self, lambda: self._check_panel_fit(tries - 1))

    # -- the timer -------------------------------------------------------------------------
    def refresh(self, now: float) -> list[str]:
        """Every panel's timers; returns the second-dose prompts for the banner (whatever
        tab is in front). The timers of booths whose tab is behind stay in sight above
        the tabs."""
        prompts, behind = [], []
        front = self.tabs.currentWidget()
        for panel in self.all_panels():
            panel.refresh(now)
            label = self.model.label(panel.station)
            words, due = panel.naloxone_text(now)
            if due:  # short enough for the banner's line
                n = len(panel.naloxone_doses)
                prompts.append(f"{label}: 5 minutes since naloxone dose {n} — "
                               f"not awake? Give dose {n + 1}")
            if panel is front:
                continue
            running = [x for x in (panel.pacer_text(now), "" if due else words) if x]
            if due:
                running.append(f"GIVE NALOXONE DOSE {len(panel.naloxone_doses) + 1}?")
            if running:
                behind.append(f"<b>{label}</b>: {' · '.join(running)}")
        news = [f"<b>New incident: {self.model.label(sid)}</b> — tap its tab"
                for sid in self.announced if sid in self.panels]
        lines = [*news, *behind]
        text = " · ".join(lines)  # one line (the tabs say the rest)
        if self.timers.text() != text:
            self.timers.setText(text)
            self.timers.setProperty("quiet", not text)
            self.timers.setStyleSheet("")  # re-polish for the property
        return prompts
