"""The alarm banner (most urgent alarm first, acknowledge, audio pause countdown) and the
escalation overlay (an escalated alarm takes the whole screen until acknowledged)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from oximon.alarms import AlarmView
from oximon.types import Priority
from oximon.ui.elide import ElidedLabel
from oximon.ui.model import DashboardModel
from oximon.ui.style import DARK, PRIORITY_WORDS, Palette, text_on


def format_countdown(seconds: float) -> str:
    s = max(0, int(seconds + 0.999))  # 119.2 s left reads 2:00, never 0:00 while paused
    return f"{s // 60}:{s % 60:02d}"


def alarm_sentence(model: DashboardModel, alarm: AlarmView) -> str:
    live = model.engine.stations.get(alarm.station)
    parts = [f"{model.label(alarm.station)}: {alarm.message or alarm.condition}"]
    happened = alarm.what_happened(live)
    if happened:
        parts.append(happened)
    if alarm.latched:
        parts.append("condition ended — still needs acknowledging")
    elif alarm.acknowledged:
        parts.append("acknowledged")
    return " — ".join(parts)


def _font(px: int, bold: bool = True) -> QFont:
    f = QFont()
    f.setPixelSize(px)
    f.setBold(bold)
    return f


class AlarmBanner(QFrame):
    """One line across the top: the most urgent alarm, how many more, and the controls."""

    acknowledge_requested = Signal(str)
    respond_requested = Signal(str)
    pause_requested = Signal()

    def __init__(self, palette: Palette = DARK):
        super().__init__()
        self.setObjectName("banner")
        self.palette_ = palette
        self._station: str | None = None
        self._style = ""
        self.headline = QLabel("")
        # One line each, cut to fit: the banner stays a few lines high on any screen.
        self.detail = ElidedLabel("")
        self.others = ElidedLabel("")
        self.ack = QPushButton("Acknowledge  [Space]")
        self.ack.setObjectName("primary")
        self.respond = QPushButton("Respond  [R]")
        self.pause = QPushButton("Pause audio  [P]")
        for b in (self.ack, self.respond, self.pause):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.ack.clicked.connect(self._ack)
        self.respond.clicked.connect(self._respond)
        self.pause.clicked.connect(self.pause_requested.emit)
        self.prompt = ElidedLabel("")  # due naloxone second-dose checks, with their booths
        self.prompt.setObjectName("bannerPrompt")
        self.prompt.hide()
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.detail)
        text.addWidget(self.others)
        text.addWidget(self.prompt)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 10, 4)
        row.addWidget(self.headline)
        row.addLayout(text, 1)
        row.addWidget(self.ack)
        row.addWidget(self.respond)
        row.addWidget(self.pause)
        self.set_text_scale(1.0)

    def set_text_scale(self, scale: float) -> None:
        self.headline.setFont(_font(round(26 * scale)))
        self.detail.setFont(_font(round(19 * scale)))
        self.others.setFont(_font(round(14 * scale), bold=False))
        self.prompt.setFont(_font(round(18 * scale)))
        for b in (self.ack, self.respond, self.pause):
            b.setFont(_font(round(15 * scale), bold=b is self.ack))

    def set_prompts(self, prompts: list[str]) -> None:
        """Second-dose prompts (with the booth), shown whatever tab or alarm is in front."""
        text = "   ".join(f"⏰ {p}" for p in prompts)
        if self.prompt.text() != text:
            self.prompt.setText(text)
            self.prompt.setVisible(bool(text))

    @property
    def station(self) -> str | None:
        """The station of the alarm the banner shows (what Space acknowledges)."""
        return self._station

    def _ack(self) -> None:
        if self._station:
            self.acknowledge_requested.emit(self._station)

    def _respond(self) -> None:
        if self._station:
            self.respond_requested.emit(self._station)

    def refresh(self, model: DashboardModel, now: float, flash_on: bool,
                stopped: str | None = None) -> None:
        """`stopped`: words saying the engine no longer monitors (a dead engine cannot
        raise its own alarm, so the screen says it from the watchdog's check)."""
        p = self.palette_
        if stopped:
            colour = p.priority[Priority.HIGH]
            bg = colour if flash_on else p.bg
            self._show("■ MONITORING STOPPED", stopped, "Check every person in person now.",
                       bg, text_on(colour) if flash_on else colour, f"3px solid {colour}")
            self.ack.setVisible(False)
            self.respond.setVisible(False)
            return
        alarms = model.all_alarms()
        left = model.audio_pause_left(now)
        pause_text = (f"Audio paused {format_countdown(left)}" if left is not None
                      else "Pause audio  [P]")
        if self.pause.text() != pause_text:
            self.pause.setText(pause_text)
        self.pause.setEnabled(bool(alarms) or left is not None)
        if not alarms:
            self._station = None
            self._show("", f"All {len(model.views)} stations: no alarms", "",
                       p.bg, p.bands["normal"], "none")
            self.ack.setVisible(False)
            self.respond.setVisible(False)
            return
        top = alarms[0]
        self._station = top.station
        words, shape, flashes = PRIORITY_WORDS[top.priority]
        colour = p.priority[top.priority]
        rest = alarms[1:]
        others = "   ".join(
            f"{PRIORITY_WORDS[a.priority][1]} {model.label(a.station)}: "
            f"{a.message or a.condition}{' (ack.)' if a.acknowledged else ''}" for a in rest[:4])
        if len(rest) > 4:
            others += f"   +{len(rest) - 4} more"
        if top.acknowledged or top.priority < Priority.MEDIUM or (flashes and not flash_on):
            bg, fg, border = p.bg, colour, f"3px solid {colour}"
        else:
            bg, fg, border = colour, text_on(colour), f"3px solid {colour}"
        self._show(f"{shape} {words}", alarm_sentence(model, top), others, bg, fg, border)
        self.ack.setVisible(not top.acknowledged)
        self.respond.setVisible(not top.technical)

    def text(self) -> str:
        """Everything the banner says, as one line (tests, screen readers)."""
        return " · ".join(w.text() for w in (self.headline, self.detail, self.others,
                                             self.prompt) if w.text())

    def _show(self, headline: str, detail: str, others: str, bg: str, fg: str,
              border: str) -> None:
        for label, text in ((self.headline, headline), (self.detail, detail),
                            (self.others, others)):
            if label.text() != text:
                label.setText(text)
            label.setVisible(bool(text))
        style = (f"QFrame#banner {{ background: {bg}; border: {border}; }}"
                 f" QLabel {{ background: transparent; color: {fg}; }}"
                 " QLabel#bannerPrompt { background: #ffd600; color: #000000;"
                 " padding: 2px 6px; }")
        if style != self._style:  # a stylesheet change re-polishes: only when it changed
            self._style = style
            self.setStyleSheet(style)


class EscalationOverlay(QWidget):
    """Covers the whole window while an escalated alarm is unacknowledged."""

    acknowledge_requested = Signal(str)

    def __init__(self, parent: QWidget, palette: Palette = DARK):
        super().__init__(parent)
        self.palette_ = palette
        self._station: str | None = None
        self._flash_on = True
        self.title = QLabel("")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setFont(_font(80))
        self.subtitle = QLabel("")
        self.subtitle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.subtitle.setWordWrap(True)
        self.subtitle.setFont(_font(40))
        self.what = QLabel("")
        self.what.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.what.setWordWrap(True)
        self.what.setFont(_font(32))
        self.hint = QLabel("Go to the person now. Check breathing and responsiveness — SAVE ME.")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setFont(_font(26, bold=False))
        self.others = QLabel("")  # every other booth waiting, by name (wraps)
        self.others.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.others.setWordWrap(True)
        self.others.setFont(_font(26))
        self.ack = QPushButton("Acknowledge  [Space]")
        self.ack.setObjectName("primary")
        self._scale = 0.0
        self.set_scale(1.0)
        self.ack.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.ack.clicked.connect(self._ack)
        for lab in (self.title, self.subtitle, self.what, self.hint, self.others):
            lab.setStyleSheet("background: transparent; color: #ffffff;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(60, 40, 60, 40)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.what)
        layout.addWidget(self.hint)
        layout.addSpacing(30)
        layout.addWidget(self.ack)
        layout.addWidget(self.others)
        layout.addStretch(1)
        self.hide()

    @property
    def station(self) -> str | None:
        return self._station

    def set_scale(self, scale: float) -> None:
        """Sizes follow the window (a wall screen) and the text scale."""
        if scale == self._scale:
            return
        self._scale = scale
        for label, px, bold in ((self.title, 80, True), (self.subtitle, 40, True),
                                (self.what, 32, True), (self.hint, 26, False),
                                (self.others, 24, True)):
            label.setFont(_font(round(px * scale), bold))
        self.ack.setStyleSheet(
            f"QPushButton {{ font-size: {round(34 * scale)}px; "
            f"min-height: {round(90 * scale)}px; background: #000000; color: #ffffff; "
            "border: 4px solid #ffffff; }")

    def _ack(self) -> None:
        if self._station:
            self.acknowledge_requested.emit(self._station)

    def refresh(self, model: DashboardModel, flash_on: bool) -> None:
        """Up while any escalated alarm waits. It shows the most urgent unacknowledged
        alarm of all (a person's severe low before an escalated lost device) — the one
        Space acknowledges — and names every other booth waiting."""
        if not model.escalated_alarms():
            self._station = None
            if self.isVisible():
                self.hide()
            return
        waiting = [a for a in model.all_alarms() if not a.acknowledged]
        top = waiting[0]
        self._station = top.station
        words, shape, _ = PRIORITY_WORDS[top.priority]
        title = f"{shape} {model.label(top.station)}"
        if self.title.text() != title:
            self.title.setText(title)
        subtitle = (f"{words} — {'escalated, ' if top.escalated else ''}not acknowledged "
                    f"for {format_countdown(model.now() - top.raised_t)}")
        if self.subtitle.text() != subtitle:
            self.subtitle.setText(subtitle)
        live = model.engine.stations.get(top.station)
        what = " — ".join(x for x in (top.message or top.condition, top.what_happened(live)) if x)
        if self.what.text() != what:
            self.what.setText(what)
        # Acknowledging covers every alarm of this booth, so name the *other* booths waiting.
        others_by_booth: dict[str, AlarmView] = {}
        for a in waiting:
            if a.station != top.station:
                others_by_booth.setdefault(a.station, a)
        named = [f"{model.label(sid)}{' (escalated)' if a.escalated else ''}"
                 for sid, a in others_by_booth.items()]
        others = f"Also waiting: {', '.join(named)}" if named else ""
        tip = "; ".join(f"{model.label(sid)}: {a.message or a.condition}"
                        for sid, a in others_by_booth.items())
        if self.others.toolTip() != tip:
            self.others.setToolTip(tip)
        if self.others.text() != others:
            self.others.setText(others)
        if flash_on != self._flash_on:
            self._flash_on = flash_on
            self.update()
        parent = self.parentWidget()
        if parent is not None and self.geometry() != parent.rect():
            self.setGeometry(parent.rect())
        if not self.isVisible():
            self.show()
            self.raise_()

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        red = QColor(self.palette_.priority[max(self.palette_.priority)])
        p.fillRect(self.rect(), red if self._flash_on else QColor("#4a0000"))
        p.end()
