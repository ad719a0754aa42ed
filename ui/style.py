"""Colours, words and shapes: colour is never the only signal (words and a shape too)."""

from __future__ import annotations

from alerts.visual import ALARM_VISUALS

# band -> (words, colour, shape)
BAND_STYLE = {
    "normal": ("normal", "#66bb6a", "●"),
    "watch": ("watch", "#ffca28", "▲"),
    "low": ("LOW", "#ff5252", "■"),
}

# priority -> (words, colour, shape, flashes), from alerts.visual (the source of truth).
PRIORITY_STYLE = {p: (v.words, v.colour, v.shape, v.flashes) for p, v in ALARM_VISUALS.items()}

# Flash rates (IEC 60601-1-8: high 1.4–2.8 Hz, medium 0.4–0.8 Hz; low is steady).
FLASH_HZ = {p: v.flash_hz for p, v in ALARM_VISUALS.items() if v.flashes}


def band_for(spo2: float, low: float = 90.0, watch: float = 95.0) -> str:
    if spo2 < low:
        return "low"
    if spo2 < watch:
        return "watch"
    return "normal"


DARK_STYLESHEET = """
QWidget { background: #101418; color: #eceff1; }
QLabel#spo2 { color: #ffffff; }
QLabel#pr { color: #80d8ff; }
QLabel#tileState { color: #ffd180; }
QPushButton { background: #263238; border: 2px solid #90a4ae; padding: 6px; }
QPushButton#ack { background: #b71c1c; color: white; font-weight: bold; }
QLabel#banner { padding: 8px; font-weight: bold; }
"""
