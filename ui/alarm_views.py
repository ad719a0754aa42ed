"""The alarm banner (most urgent alarm first, acknowledge, audio pause countdown) and the
escalation overlay (an escalated alarm takes the whole screen until acknowledged)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from oximon.alarms import AlarmView
from oximon.types import Priority
from oximon.ui.elide import ElidedLabel
from oximon.ui.model import DashboardModel
from oximon.ui.style import DARK, PRIORITY_WORDS, Palette, text_on
from oximon.ui.tile_look import alarm_words


def format_countdown(seconds: float) -> str:
    s = max(0, int(seconds + 0.999))  # 119.2 s left reads 2:00, never 0:00 while paused
    return f"{s // 60}:{s % 60:02d}"


def alarm_sentence(model: DashboardModel, alarm: AlarmView) -> str:
    return alarm_words(f"{model.label(alarm.station)}: {alarm.message or alarm.condition}",
                       alarm, model.engine.stations.get(alarm.station),
                       "condition ended — still needs acknowledging")


def live_spo2(model: DashboardModel, sid: str) -> str:
    """The booth's SpO2 right now ("78 %", no-break space) or "no reading"."""
    live = model.engine.stations.get(sid)
    if live is None or not live.state.has_numbers or math.isnan(live.spo2):
        return "no reading"
    return f"{live.spo2:.0f}\u00a0%"


@dataclass(frozen=True)
class BoothAlarms:
    """One booth's active alarms as one banner line: its most urgent alarm first."""

    station: str
    alarms: tuple[AlarmView, ...]

    @property
    def top(self) -> AlarmView:
        return self.alarms[0]

    @property
    def priority(self) -> Priority:
        return max(a.priority for a in self.alarms)

    @property
    def waiting(self) -> bool:
        """Some alarm here still needs acknowledging."""
        return any(not a.acknowledged for a in self.alarms)

    def sort_key(self) -> tuple[int, bool, bool, float]:
        """Priority first, then a booth still waiting before one already in response,
        a person's vital signs before a device, then the oldest."""
        return (-self.priority, not self.waiting, self.top.technical,
                min(a.raised_t for a in self.alarms))


def booth_lines(alarms: list[AlarmView]) -> list[BoothAlarms]:
    """The alarms grouped per booth (whether the alarm manager combines a booth's
    conditions into one alarm or not), booths sorted by BoothAlarms.sort_key."""
    by_booth: dict[str, list[AlarmView]] = {}
    for a in alarms:
        by_booth.setdefault(a.station, []).append(a)
    booths = [BoothAlarms(sid, tuple(sorted(group, key=AlarmView.sort_key)))
              for sid, group in by_booth.items()]
    return sorted(booths, key=BoothAlarms.sort_key)


def booth_line(model: DashboardModel, booth: BoothAlarms) -> str:
    """'■ Booth 2 — in response, 77 %' / '▲ Booth 5 — No reading — check on the person'."""
    top = booth.top
    shape = PRIORITY_WORDS[booth.priority][1]
    label = model.label(booth.station)
    short = (top.message or top.condition).split(" — ")[0]
    vital = not top.technical
    now = f", {live_spo2(model, booth.station)}" if vital else ""
    if not booth.waiting:
        words = "in response" if booth.priority >= Priority.HIGH and vital else \
            f"{short} (acknowledged)"
        text = f"{shape} {label} — {words}{now}"
    elif top.latched:
        text = f"{shape} {label} — {short} ended: {top.what_happened(_live(model, top))}"
    else:
        text = f"{shape} {label} — {short}{now}"
    more = len(booth.alarms) - 1
    return text + (f" (+{more})" if more else "")


def _live(model: DashboardModel, alarm: AlarmView):
    return model.engine.stations.get(alarm.station)


def _font(px: int, bold: bool = True) -> QFont:
    f = QFont()
    f.setPixelSize(px)
    f.setBold(bold)
    return f


ACK_AFTER_S = 1.0  # a booth must be on screen this long before Space acknowledges it
BANNER_LINES = 3  # booths listed; more are counted on the last line


class AlarmBanner(QFrame):
    """The top of the screen, always the same height: one line per booth (the most urgent
    in words at the front, in full), the second-dose prompts, and the controls."""

    acknowledge_requested = Signal(str)
    respond_requested = Signal(str)
    pause_requested = Signal()

    def __init__(self, palette: Palette = DARK):
        super().__init__()
        self.setObjectName("banner")
        self.palette_ = palette
        self._station: str | None = None
        # What Space would acknowledge, and since when (engine time) it has been shown:
        # like the overlay, the banner acknowledges only what was on screen ACK_AFTER_S.
        self._shown: tuple[str, tuple[tuple[str, float], ...]] | None = None
        self._since = 0.0
        self._now = 0.0
        self._style = ""
        self.headline = QLabel("")
        # One line each, cut to fit: the banner keeps its height whatever happens.
        self.detail = ElidedLabel("")
        self.lines = [ElidedLabel("") for _ in range(BANNER_LINES - 1)]
        self.others = self.lines[0]  # (the name tests and screen readers know)
        self.ack = QPushButton("Acknowledge  [Space]")
        self.ack.setObjectName("primary")
        self.respond = QPushButton("Respond  [R]")
        self.pause = QPushButton("Pause audio  [P]")
        for b in (self.ack, self.respond, self.pause):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.ack.clicked.connect(self._ack)
        self.respond.clicked.connect(self._respond)
        self.pause.clicked.connect(self.pause_requested.emit)
        # Due naloxone second-dose checks, with their booths: they take the last line.
        self.prompt = self.lines[-1]
        self._prompts = ""
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.detail)
        for line in self.lines:
            text.addWidget(line)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 2, 10, 2)
        row.addWidget(self.headline)
        row.addLayout(text, 1)
        for b in (self.ack, self.respond, self.pause):
            retain = b.sizePolicy()
            retain.setRetainSizeWhenHidden(True)  # the words never move under a button
            b.setSizePolicy(retain)
            row.addWidget(b)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.set_text_scale(1.0)

    def set_text_scale(self, scale: float) -> None:
        self.headline.setFont(_font(round(26 * scale)))
        self.detail.setFont(_font(round(18 * scale)))
        for line in self.lines:
            line.setFont(_font(round(15 * scale)))
        for b in (self.ack, self.respond, self.pause):
            b.setFont(_font(round(15 * scale), bold=b is self.ack))
        height = 8 + sum(w.fontMetrics().height() for w in (self.detail, *self.lines))
        self.setFixedHeight(height)

    def set_prompts(self, prompts: list[str]) -> None:
        """Second-dose prompts (with the booth), shown whatever tab or alarm is in front,
        in their own line (reserved: nothing moves when one comes)."""
        text = "   ".join(prompts)
        if text != self._prompts:
            self._prompts = text
            self.prompt.setObjectName("bannerPrompt" if text else "")
            self.prompt.setStyleSheet("")  # re-polish with the new name
            self.prompt.setText(text)

    @property
    def station(self) -> str | None:
        """The booth Space and Acknowledge act on: the first one still waiting."""
        return self._station

    def ready(self, now: float | None = None) -> bool:
        """True once the booth Space acts on has been shown, with the same waiting
        alarms, for ACK_AFTER_S: a second press or key repeat meant for the booth before
        never acknowledges one that just took its place."""
        now = self._now if now is None else now
        return self._station is not None and now - self._since >= ACK_AFTER_S - 1e-9

    def _ack(self) -> None:
        if self._station and self.ready():
            self.acknowledge_requested.emit(self._station)

    def _respond(self) -> None:
        if self._station:
            self.respond_requested.emit(self._station)

    def _track(self, waiting: BoothAlarms | None, now: float) -> None:
        """Restart the clock whenever what Space would acknowledge changes."""
        self._now = now
        shown = None if waiting is None else (waiting.station, tuple(
            (a.condition, a.raised_t) for a in waiting.alarms if not a.acknowledged))
        if shown != self._shown:
            self._shown, self._since = shown, now
        ready = self.ready(now)
        if self.ack.isEnabled() != ready:
            self.ack.setEnabled(ready)

    def refresh(self, model: DashboardModel, now: float, flash_on: bool,
                stopped: str | None = None) -> None:
        """`stopped`: words saying the engine no longer monitors (a dead engine cannot
        raise its own alarm, so the screen says it from the watchdog's check)."""
        p = self.palette_
        if stopped:
            colour = p.priority[Priority.HIGH]
            bg = colour if flash_on else p.alarm_dim[Priority.HIGH]
            self._show("■ MONITORING STOPPED", [stopped, "Check every person in person now."],
                       bg, text_on(colour), f"3px solid {colour}")
            self.ack.setVisible(False)
            self.respond.setVisible(False)
            self._track(None, now)
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
            self._track(None, now)
            self._show("", [f"All {len(model.views)} stations: no alarms"],
                       p.bg, p.bands["normal"], "none")
            self.ack.setVisible(False)
            self.respond.setVisible(False)
            return
        booths = booth_lines(alarms)
        first = booths[0]
        waiting = next((b for b in booths if b.waiting), None)
        self._station = (waiting or first).station
        self._track(waiting, now)
        top = first.top
        words, shape, flashes = PRIORITY_WORDS[first.priority]
        colour = p.priority[first.priority]
        rest = [booth_line(model, b) for b in booths[1:]]
        room = len(self.lines) - (1 if self._prompts else 0)
        if len(rest) > room:
            extra = len(rest) - room + 1
            names = ", ".join(model.label(b.station) for b in booths[-extra:])
            rest = [*rest[:room - 1], f"+{extra} more: {names}"] if room else []
        detail = alarm_sentence(model, top)
        if len(first.alarms) > 1:
            detail += f" (+{len(first.alarms) - 1} more here)"
        if not first.waiting or first.priority < Priority.MEDIUM:
            bg, fg = p.bg, colour
        else:  # flashing between two shades of the alarm's colour, never the plain one
            bg = colour if (not flashes or flash_on) else p.alarm_dim[first.priority]
            fg = text_on(colour)
        self._show(f"{shape} {words}", [detail, *rest], bg, fg, f"3px solid {colour}")
        self.ack.setVisible(waiting is not None)
        self.respond.setVisible(not top.technical)

    def text(self) -> str:
        """Everything the banner says, as one line (tests, screen readers)."""
        return " · ".join(w.text() for w in (self.headline, self.detail, *self.lines)
                          if w.text())

    def _show(self, headline: str, lines: list[str], bg: str, fg: str, border: str) -> None:
        labels = (self.detail, *self.lines)
        texts = [*lines, *[""] * len(labels)][:len(labels)]
        if self._prompts:
            texts[-1] = self._prompts
        for label, text in ((self.headline, headline), *zip(labels, texts, strict=True)):
            if label.text() != text:
                label.setText(text)
        style = (f"QFrame#banner {{ background: {bg}; border: {border}; }}"
                 f" QLabel {{ background: transparent; color: {fg}; }}"
                 " QLabel#bannerPrompt { background: #ffd600; color: #000000;"
                 " padding: 0px 6px; }")
        if style != self._style:  # a stylesheet change re-polishes: only when it changed
            self._style = style
            self.setStyleSheet(style)


class EscalationOverlay(QWidget):
    """Covers the whole window while an escalated alarm is unacknowledged.

    It shows the most urgent waiting booth (the one Space acknowledges) with its live
    SpO2, and every other waiting booth, one line each with its live SpO2. A booth can be
    acknowledged only once it has been in front for ACK_AFTER_S (engine time): a second
    press or key repeat meant for the booth before cannot acknowledge one nobody saw."""

    acknowledge_requested = Signal(str)
    respond_requested = Signal(str)

    def __init__(self, parent: QWidget, palette: Palette = DARK):
        super().__init__(parent)
        self.palette_ = palette
        self._station: str | None = None
        self._since = 0.0  # engine time the booth in front came to the front
        self._now = 0.0
        self._flash_on = True
        self.title = QLabel("")
        self.subtitle = QLabel("")
        self.spo2 = QLabel("")  # the live number, on its own line: never wrapped mid-way
        self.what = QLabel("")
        self.hint = QLabel("Go to the person now. Check breathing and responsiveness — SAVE ME.")
        self.others = QLabel("")  # every other booth waiting, one line each
        for lab in (self.title, self.subtitle, self.spo2, self.what, self.hint, self.others):
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
            lab.setWordWrap(lab is not self.spo2)
            lab.setStyleSheet("background: transparent; color: #ffffff;")
        self.ack = QPushButton("Acknowledge  [Space]")
        self.respond = QPushButton("Respond  [R]")
        for b in (self.ack, self.respond):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.ack.clicked.connect(self._ack)
        self.respond.clicked.connect(self._respond)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.ack, 3)
        buttons.addSpacing(30)
        buttons.addWidget(self.respond, 2)
        buttons.addStretch(1)
        self._scale = 0.0
        self.set_scale(1.0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(60, 30, 60, 30)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.spo2)
        layout.addWidget(self.what)
        layout.addWidget(self.hint)
        layout.addSpacing(20)
        layout.addLayout(buttons)
        layout.addSpacing(20)
        layout.addWidget(self.others)
        layout.addStretch(1)
        self.hide()

    @property
    def station(self) -> str | None:
        return self._station

    def ready(self, now: float | None = None) -> bool:
        """True once the booth in front has been shown for ACK_AFTER_S."""
        now = self._now if now is None else now
        return self._station is not None and now - self._since >= ACK_AFTER_S - 1e-9

    def set_scale(self, scale: float) -> None:
        """Sizes follow the window (a wall screen) and the text scale."""
        if scale == self._scale:
            return
        self._scale = scale
        for label, px, bold in ((self.title, 72, True), (self.subtitle, 34, True),
                                (self.spo2, 96, True), (self.what, 30, True),
                                (self.hint, 24, False), (self.others, 28, True)):
            label.setFont(_font(round(px * scale), bold))
        for b, bg in ((self.ack, "#000000"), (self.respond, "#263238")):
            b.setStyleSheet(
                f"QPushButton {{ font-size: {round(32 * scale)}px; font-weight: bold; "
                f"min-height: {round(80 * scale)}px; background: {bg}; color: #ffffff; "
                "border: 4px solid #ffffff; padding: 0px 20px; } "
                "QPushButton:disabled { color: #bdbdbd; border-color: #bdbdbd; }")

    def _ack(self) -> None:
        if self._station and self.ready():
            self.acknowledge_requested.emit(self._station)

    def _respond(self) -> None:
        if self._station and self.ready():
            self.respond_requested.emit(self._station)

    def _set(self, label: QLabel, text: str) -> None:
        if label.text() != text:
            label.setText(text)

    def refresh(self, model: DashboardModel, flash_on: bool) -> None:
        """Up while any escalated alarm waits. It shows the most urgent unacknowledged
        alarm of all (a person's severe low before an escalated lost device) — the one
        Space acknowledges — and every other booth waiting, with its live SpO2."""
        now = model.now()
        self._now = now
        if not model.escalated_alarms():
            self._station = None
            if self.isVisible():
                self.hide()
            return
        waiting = [a for a in model.all_alarms() if not a.acknowledged]
        top = waiting[0]
        if top.station != self._station or not self.isVisible():
            self._station, self._since = top.station, now
        words, shape, _ = PRIORITY_WORDS[top.priority]
        self._set(self.title, f"{shape} {model.label(top.station)}")
        self._set(self.subtitle,
                  f"{words} — {'escalated, ' if top.escalated else ''}not acknowledged "
                  f"for {format_countdown(now - top.raised_t)}")
        spo2 = live_spo2(model, top.station)
        self._set(self.spo2, f"SpO\u2082 {spo2}" if spo2[0].isdigit() else spo2.capitalize())
        live = model.engine.stations.get(top.station)
        what = " — ".join(x for x in (top.message or top.condition, top.what_happened(live))
                          if x)
        self._set(self.what, what.replace(" %", "\u00a0%").replace(" /min", "\u00a0/min"))
        ready = self.ready(now)
        for b in (self.ack, self.respond):
            if b.isEnabled() != ready:
                b.setEnabled(ready)
        self.respond.setVisible(not top.technical)
        # Acknowledging covers every alarm of this booth: the other booths, one line each.
        others = [b for b in booth_lines(waiting) if b.station != top.station]
        lines = [f"{PRIORITY_WORDS[b.priority][1]} {model.label(b.station)} — "
                 f"{'escalated' if any(a.escalated for a in b.alarms) else 'waiting'}, "
                 f"{'SpO₂ ' + live_spo2(model, b.station)}" for b in others[:4]]
        if len(others) > 4:
            lines.append(f"+{len(others) - 4} more booths waiting")
        self._set(self.others, ("Also waiting:\n" + "\n".join(lines)) if lines else "")
        tip = "; ".join(f"{model.label(b.station)}: {b.top.message or b.top.condition}"
                        for b in others)
        if self.others.toolTip() != tip:
            self.others.setToolTip(tip)
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
        high = max(self.palette_.priority)
        colour = self.palette_.priority[high] if self._flash_on else \
            self.palette_.alarm_dim[high]
        p.fillRect(self.rect(), QColor(colour))
        p.end()
