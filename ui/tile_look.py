"""What a tile looks like, decided without a widget: how loud its alarm is (border,
header, the alarming number's frame, the words) and how large its numbers and words are.
The tile (`oximon.ui.tile`) applies these; keeping them here keeps the rules testable and
the widget small."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QLabel, QWidget

from oximon.alarms import AlarmView, LiveNumbers
from oximon.alerts.visual import SHORT_WORDS
from oximon.types import Priority
from oximon.ui.style import PRIORITY_WORDS, Palette, text_on

MIN_TEXT_PX = 10  # nothing on a tile is drawn smaller
DIGIT_FAMILY = "DejaVu Sans Condensed"  # narrower digits: "100" and the pulse fit 6 across
# The name and the alarm's words too: "Booth 24", its band and icons fit a laptop's 6
# columns at 24 px.
TEXT_FAMILY = DIGIT_FAMILY


def font(px: float, bold: bool = True, family: str | None = None) -> QFont:
    f = QFont(family) if family else QFont()
    f.setPixelSize(max(9, int(px)))
    f.setBold(bold)
    return f


def value_colour(p: Palette, alarms: list[AlarmView], which: str, otherwise: str) -> str:
    """A number's colour: its alarm's colour while one of its conditions alarms (a low
    SpO2 alarm makes the SpO2 red, a pulse alarm the pulse), else `otherwise` (an alarm
    still open after its number recovered, e.g. in response, leaves the number plain)."""
    hit = [a.priority for a in alarms if a.condition.startswith(which) and a.condition_active]
    return p.priority[max(hit)] if hit else otherwise


def alarm_words(head: str, alarm: AlarmView, live: LiveNumbers | None, latched: str) -> str:
    """'<head> — lowest 82 %, now 84 % — in response': what happened and where it stands
    (`latched`: the words for a condition that ended but still needs acknowledging)."""
    parts = [head]
    happened = alarm.what_happened(live)
    if happened:
        parts.append(happened)
    if alarm.latched:
        parts.append(latched)
    elif alarm.acknowledged:
        high = alarm.priority >= Priority.HIGH and not alarm.technical
        parts.append("in response" if high else "acknowledged")
    return " — ".join(parts)


@dataclass(frozen=True)
class AlarmLook:
    """How loud a tile is right now."""

    border: tuple[str, int]
    header: str | None  # the header's fill (None: the tile's own background)
    frame: tuple[str, str] | None  # ("spo2"/"pr", colour): the alarming number, framed
    text: str  # the alarm row's words ('' when no alarm)
    colour: str  # the words' colour
    unacked: bool
    shorter: tuple[str, ...] = ()  # the row's fallbacks on a narrow tile, longest first


def alarm_look(p: Palette, alarms: list[AlarmView], live: LiveNumbers | None, flash_on: bool,
               showing: bool) -> AlarmLook:
    """How loud the tile is follows the alarm's priority, in every flash phase:
    - high or medium, not acknowledged: the header filled and the border thick in the
      alarm's colour, alternating with a darker shade of it (never the normal grey);
    - acknowledged but still active: a steady border in its colour ("in response");
    - low (battery): its icon and words only, the border stays ordinary.
    The alarming number is framed in the alarm's colour. `alarms` most urgent first."""
    if not alarms:
        return AlarmLook((p.border, p.border_px), None, None, "", p.fg, False)
    top = alarms[0]
    _words, shape, flashes = PRIORITY_WORDS[top.priority]
    colour = p.priority[top.priority]
    shade = colour if (not flashes or flash_on) else p.alarm_dim[top.priority]
    loud = top.priority >= Priority.MEDIUM
    header = None
    if loud and not top.acknowledged:
        header, border = shade, (shade, p.alarm_px)
    elif loud:  # acknowledged, still active: in response
        border = (colour, max(p.border_px + 2, p.alarm_px // 2))
    else:  # a notice: words and an icon, never a louder border than a person's alarm
        border = (p.border, p.border_px)
    # The shape and the header's colour say the priority; the row says what it is.
    said = (top.message or top.condition).split(" — ")[0]
    head = f"{shape} {said}"
    text = alarm_words(head, top, live, "ended, latched")
    more = f" +{len(alarms) - 1}" if len(alarms) > 1 else ""
    if more:
        text += f" — {more.strip()} more"
    bare = SHORT_WORDS.get(top.condition, said)
    short = f"{shape} {bare}"  # last, the words without the shape: the header shows it
    shorter = tuple(dict.fromkeys(w for w in (head + more, short + more, short, bare)
                                  if w != text))
    frame = None
    if showing:
        for which in ("spo2", "pr"):
            hit = [a.priority for a in alarms
                   if a.condition.startswith(which) and a.condition_active]
            if hit:
                frame = (which, p.priority[max(hit)])
                break
    return AlarmLook(border, header, frame, text, colour, not top.acknowledged, shorter)


def header_text(p: Palette, look: AlarmLook) -> str:
    """The colour of the name and icons on the header (readable on its fill)."""
    return text_on(look.header) if look.header else p.fg


@dataclass(frozen=True)
class NumberSizes:
    spo2_px: float
    pr_px: float
    unit_px: float
    pct_w: int  # the "%" column
    pr_w: int  # the pulse column (its digits over the word "pulse")


def number_sizes(w: int, h: int, unit_px: float) -> NumberSizes:
    """SpO2 fills the middle's height unless the width binds ("100", its "%" and the
    pulse beside it, at 0.40–0.55 of its size); the pulse and the units give way to the
    SpO2 digits, never the other way round."""
    per_px = QFontMetrics(font(100, family=DIGIT_FAMILY)).horizontalAdvance("100") / 100.0
    unit_fm = QFontMetrics(font(unit_px, bold=False))
    pct = unit_fm.horizontalAdvance("%") + 2
    word = unit_fm.horizontalAdvance("pulse") + 2
    spacing = 4 + 8 + 4
    big = max(MIN_TEXT_PX, h * 0.92)
    ratio = 0.55
    while True:  # the largest SpO2 whose row fits, the pulse shrinking first
        if per_px * big + pct + max(per_px * big * ratio, word) + spacing <= w \
                or big <= MIN_TEXT_PX:
            break
        if ratio > 0.40 + 1e-9:
            ratio = round(ratio - 0.05, 2)
        else:
            big -= 1
    pr_px = max(MIN_TEXT_PX, big * ratio)
    if unit_px > pr_px * 0.8:
        unit_px = max(MIN_TEXT_PX, pr_px * 0.6)
    return NumberSizes(big, pr_px, unit_px, int(pct), int(max(per_px * pr_px + 4, word)))


def words_px(text: str, w: int, h: int, text_scale: float) -> int:
    """The largest size at which `text`, wrapped, fits w × h."""
    hi = int(max(MIN_TEXT_PX, min(48.0 * text_scale, h * 0.45)))
    lo = MIN_TEXT_PX
    rect = QRect(0, 0, max(1, w - 4), 10_000)
    flags = int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        box = QFontMetrics(font(mid)).boundingRect(rect, flags, text)
        if box.height() <= h and box.width() <= w - 4:
            lo = mid
        else:
            hi = mid - 1
    return lo


def paint_tile(p: QPainter, tile: QWidget, tile_bg: str, look: AlarmLook,
               head_bottom: int, frame_label: QLabel | None) -> None:
    """The tile's background, border, filled header and the alarming number's frame."""
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    colour, width = look.border
    r = QRectF(tile.rect()).adjusted(width / 2, width / 2, -width / 2, -width / 2)
    p.setBrush(QColor(tile_bg))
    p.setPen(QPen(QColor(colour), width))
    p.drawRoundedRect(r, 8, 8)
    if look.header is not None:
        bottom = head_bottom + 3
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(look.header))
        p.drawRoundedRect(QRectF(0, 0, tile.width(), bottom), 8, 8)
        p.drawRect(QRectF(0, 8, tile.width(), bottom - 8))
    if look.frame is None or frame_label is None:
        return
    label = frame_label
    fm = label.fontMetrics()
    advance = fm.horizontalAdvance(label.text())
    ink = fm.tightBoundingRect(label.text() or "0")
    origin = QPointF(label.mapTo(tile, label.rect().topLeft()))
    slack = label.width() - advance
    left = origin.x() + (slack if look.frame[0] == "spo2" else slack / 2)  # right / centre
    top = origin.y() + (label.height() - ink.height()) / 2
    p.setPen(QPen(QColor(look.frame[1]), max(3.0, label.font().pixelSize() / 18)))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRoundedRect(QRectF(left - 6, top - 5, advance + 10, ink.height() + 10), 6, 6)
