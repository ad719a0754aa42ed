"""Colours, words and shapes: colour is never the only signal (words and a shape too).

Two palettes: the default dark one and a high-contrast one (pure black, white, thick
borders) for bright rooms and tired eyes. A text scale makes every font larger.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QFont, QFontMetrics

from oximon.alerts.visual import ALARM_VISUALS
from oximon.types import Priority

# band -> (words, shape)
# The SpO2 band's marks are shapes no alarm priority uses: a "■ LOW" band beside the name
# read as a high alarm (■) and "▲ watch" as a medium one (▲) on a tile with neither.
BAND_WORDS = {
    "normal": ("normal", "●"),
    "watch": ("watch", "◆"),
    "low": ("LOW", "▼"),
}

# priority -> (words, shape, flashes), from alerts.visual (the source of truth).
PRIORITY_WORDS = {p: (v.words, v.shape, v.flashes) for p, v in ALARM_VISUALS.items()}

# Flash rates (IEC 60601-1-8: high 1.4–2.8 Hz, medium 0.4–0.8 Hz; low is steady).
FLASH_HZ = {p: v.flash_hz for p, v in ALARM_VISUALS.items() if v.flashes}


@dataclass(frozen=True)
class Palette:
    name: str
    bg: str
    tile_bg: str
    fg: str
    dim: str
    border: str
    spo2: str
    pr: str
    state: str
    wave: str
    trend: str
    bands: dict[str, str]
    priority: dict[Priority, str]
    border_px: int
    alarm_px: int  # an unacknowledged alarm's border (tile margins leave room for it)
    # priority -> the flash's second shade: a flashing alarm alternates between its colour
    # and this darker one of the same hue, so it never looks normal in either phase.
    alarm_dim: dict[Priority, str]


DARK = Palette(
    name="dark", bg="#0b0f12", tile_bg="#151b20", fg="#eceff1", dim="#90a4ae",
    border="#37474f", spo2="#ffffff", pr="#80d8ff", state="#ffd180", wave="#4fc3f7",
    trend="#e0e0e0",
    # One colour per meaning: red is the low band and a high alarm, yellow the watch
    # band and a medium alarm, cyan a low-priority notice.
    bands={"normal": "#66bb6a", "watch": ALARM_VISUALS[Priority.MEDIUM].colour,
           "low": ALARM_VISUALS[Priority.HIGH].colour},
    priority={p: v.colour for p, v in ALARM_VISUALS.items()},
    border_px=2,
    alarm_px=8,
    alarm_dim={Priority.HIGH: "#a00020", Priority.MEDIUM: "#b89a00", Priority.LOW: "#0f9f9f",
               Priority.NONE: "#37474f"},
)

# High contrast: pure black and white text, but an ordinary tile's border stays a thin grey
# so that an alarm's thick coloured border is still the loudest thing on the wall.
HIGH_CONTRAST = Palette(
    name="high contrast", bg="#000000", tile_bg="#000000", fg="#ffffff", dim="#ffffff",
    border="#8a8a8a", spo2="#ffffff", pr="#ffffff", state="#ffff00", wave="#00ffff",
    trend="#ffffff",
    bands={"normal": "#00ff00", "watch": "#ffff00", "low": "#ff3030"},
    priority={Priority.HIGH: "#ff0000", Priority.MEDIUM: "#ffff00", Priority.LOW: "#00ffff",
              Priority.NONE: "#ffffff"},
    border_px=2,
    alarm_px=10,
    alarm_dim={Priority.HIGH: "#b00000", Priority.MEDIUM: "#b0b000", Priority.LOW: "#00a0a0",
               Priority.NONE: "#8a8a8a"},
)


def missing_glyphs(text: str, font: QFont) -> str:
    """The characters of `text` that `font` (and so the bundled fonts) cannot draw: an
    empty box on the wall says nothing (the issue's alarm-clock glyph)."""
    metrics = QFontMetrics(font)
    return "".join(c for c in text if not c.isspace() and not metrics.inFontUcs4(ord(c)))


def text_on(colour: str) -> str:
    """Black or white, whichever reads on `colour`."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#000000" if (0.299 * r + 0.587 * g + 0.114 * b) > 140 else "#ffffff"


def band_for(spo2: float, low: float = 90.0, watch: float = 95.0) -> str:
    if spo2 < low:
        return "low"
    if spo2 < watch:
        return "watch"
    return "normal"


def stylesheet(p: Palette, scale: float = 1.0) -> str:
    """The window's stylesheet; `scale` multiplies the base text size (large fonts)."""
    base = round(15 * scale)
    big = round(20 * scale)
    return f"""
QWidget {{ background: {p.bg}; color: {p.fg}; }}
QDialog QWidget, QTabWidget QWidget {{ font-size: {base}px; }}
QPushButton {{ background: #263238; color: {p.fg}; border: 2px solid {p.dim};
  border-radius: 6px; padding: 6px 10px; min-height: {round(30 * scale)}px; }}
QPushButton:pressed {{ background: #455a64; }}
QPushButton:checked {{ background: #1565c0; border-color: #ffffff; }}
QPushButton:disabled {{ color: #607d8b; border-color: #37474f; }}
QPushButton#primary {{ background: #b71c1c; color: #ffffff; font-weight: bold; }}
QPushButton#action {{ font-weight: bold; padding: 2px 6px;
  min-height: {round(28 * scale)}px; }}
QPushButton#grave {{ border-color: #b0bec5; border-style: dashed; }}
QLabel#savemeStep {{ font-size: {round(14 * scale)}px; }}
QLabel#dim {{ color: {p.dim}; }}
QLabel#warning {{ background: #ff6f00; color: #000000; padding: 4px; font-weight: bold; }}
QLabel#prompt {{ background: #ffd600; color: #000000; padding: 6px; font-weight: bold;
  font-size: {big}px; }}
QLabel#h1 {{ font-size: {big}px; font-weight: bold; }}
QLabel#timers {{ background: #102027; color: #00e5ff; border: 2px solid #00e5ff;
  padding: 4px; font-size: {round(16 * scale)}px; }}
QFrame#saveme {{ border: 2px solid {p.dim}; border-radius: 6px; }}
QTabBar::tab {{ background: #263238; padding: 8px 14px; font-size: {base}px; }}
QTabBar::tab:selected {{ background: #1565c0; }}
QCheckBox {{ spacing: 10px; }}
QCheckBox::indicator {{ width: {round(20 * scale)}px; height: {round(20 * scale)}px;
  border: 2px solid {p.fg}; border-radius: 3px; background: {p.bg}; }}
QCheckBox::indicator:checked {{ background: #00b0ff; border-color: {p.fg}; }}
QTableWidget {{ gridline-color: {p.border}; }}
QHeaderView::section {{ background: #263238; color: {p.fg}; padding: 4px; }}
QLineEdit, QPlainTextEdit, QComboBox, QDoubleSpinBox {{ background: #1c2429;
  border: 1px solid {p.dim}; padding: 4px; }}
"""
