"""Render the README's screenshots: `python docs/make_screenshots.py [OUT_DIR]`.

Simulated oximeters are fed in virtual time (no waiting), so the pictures are the same on
every run: the wall in a calm state, a 24-station wall (and with the response panel open
over it), a high alarm's flash-on and flash-off frames side by side, one and two booths
escalated, the response panel during a rescue, the high-contrast look, and the settings
and devices dialogs.

Offscreen by default (each window grabbed by Qt). Under a real X server the window fills
the screen and the whole screen is captured with ImageMagick, as a person would see it
(real fonts, dialogs over the wall):

    Xvfb :99 -screen 0 1366x768x24 &
    DISPLAY=:99 QT_QPA_PLATFORM=xcb python docs/make_screenshots.py
    Xvfb :98 -screen 0 1920x1080x24 &
    DISPLAY=:98 QT_QPA_PLATFORM=xcb python docs/make_screenshots.py

A screen other than 1366x768 adds its size to the file names (wall-24-1920x1080.png).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import subprocess
import tempfile

from PySide6.QtCore import QThread
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QApplication

from oximon.cli.dashboard_services import build_services
from oximon.cli.review import build_session
from oximon.cli.wiring import build_engine, demo_specs, open_sources
from oximon.clock import ManualClock
from oximon.ports import Source
from oximon.profile import load_profile
from oximon.review_store import StoreReview
from oximon.store import Store, open_store
from oximon.supervisor import PasswordFile
from oximon.types import Station
from oximon.ui.app import build_window
from oximon.ui.dashboard import DashboardOptions, DashboardWindow
from oximon.ui.response import RESCUE
from oximon.ui.settings import StoreAuditSink
from oximon.ui.sim_drive import SimDriver

SIZE = (1366, 768)
STORES: list[Store] = []  # closed at the end


def on_x() -> bool:
    app = QApplication.instance()
    return app is not None and QApplication.platformName() == "xcb"


def screen_size() -> tuple[int, int]:
    if not on_x():
        return SIZE
    size = QApplication.primaryScreen().geometry().size()
    return size.width(), size.height()


def named(name: str) -> str:
    """The file name, with the screen's size unless it is the 1366x768 laptop."""
    size = screen_size()
    if size == SIZE:
        return name
    stem, dot, ext = name.rpartition(".")
    return f"{stem}-{size[0]}x{size[1]}{dot}{ext}"


def capture(window, path: Path) -> None:
    """The window as drawn: grabbed offscreen; under X the whole screen (dialogs over the
    wall included), through ImageMagick's `import`."""
    if not on_x():
        window.grab().save(str(path))
        return
    app = QApplication.instance()
    assert app is not None
    for _ in range(10):  # let the X server draw what Qt sent
        app.processEvents()
        QThread.msleep(30)
    subprocess.run(["import", "-window", "root", "-depth", "8", str(path)], check=True)


def make(specs: list[str], until: float, size: tuple[int, int] | None = None,
         **options: Any) -> tuple[DashboardWindow, SimDriver]:
    """A window wired as `oximon dashboard` wires it — the real alarm manager, an incident
    store (SQLite in a throwaway folder), supervisor session and review — fed in virtual
    time up to `until`."""
    clock = ManualClock()
    folder = Path(tempfile.mkdtemp(prefix="oximon-screenshots-"))
    store = open_store(f"sqlite:///{folder / 'oximon.db'}", clock=clock, writer=True)
    STORES.append(store)
    stations: list[tuple[Station, Source | None]] = list(open_sources(specs))
    engine = build_engine(clock, load_profile(None), stations, store)
    review = StoreReview(store)
    session = build_session(review, 300.0, PasswordFile(folder / "supervisor.json"))
    services = build_services(engine, incident_log=store, review=review, session=session,
                              audit=StoreAuditSink(store))
    window = build_window(engine, services, title="oximon",
                          options=DashboardOptions(**options) if options else None)
    window.resize(*(size or screen_size()))
    window.move(0, 0)
    window.show()
    driver = SimDriver(engine, clock)
    driver.run_to(until)
    settle(window)
    return window, driver


def settle(window: DashboardWindow) -> None:
    app = QApplication.instance()
    assert app is not None
    for _ in range(6):  # re-layouts (grid, fonts that follow sizes) are queued
        window.redraw()
        app.processEvents()


def save(window, out: Path, name: str) -> None:
    if isinstance(window, DashboardWindow):
        settle(window)
    path = out / named(name)
    capture(window, path)
    print(f"wrote {path}")


def at(window: DashboardWindow, driver: SimDriver, t: float) -> QImage:
    """The window drawn at engine time `t` (a flash phase is a time, not a timer)."""
    driver.clock.set(t)
    settle(window)
    if not on_x():
        return window.grab().toImage()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "frame.png"
        capture(window, path)
        return QImage(str(path)).convertToFormat(QImage.Format.Format_RGB32)


def side_by_side(left: QImage, right: QImage, words: tuple[str, str]) -> QImage:
    """Two frames next to each other, each captioned (the flash-on and flash-off look)."""
    gap, caption = 16, 34
    out = QImage(left.width() + gap + right.width(), max(left.height(), right.height())
                 + caption, QImage.Format.Format_RGB32)
    out.fill(QColor("#000000"))
    p = QPainter(out)
    font = QFont()
    font.setPixelSize(22)
    font.setBold(True)
    p.setFont(font)
    p.setPen(QColor("#ffffff"))
    for x, image, text in ((0, left, words[0]), (left.width() + gap, right, words[1])):
        p.drawImage(x, caption, image)
        p.drawText(x + 8, 25, text)
    p.end()
    return out


def main(out_dir: str = "docs/screenshots") -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    calm = [f"sim:{s}:{i + 1}" for i, s in enumerate(
        ["normal", "normal", "motion", "normal", "finger-out", "normal", "disconnect",
         "normal", "normal", "normal", "normal", "normal"])]
    window, _ = make(calm, 330.0)
    save(window, out, "wall-normal.png")
    window.close()

    # 88 s in: a device lost, two people with no reading, a low battery — before the
    # first high alarm (which would open its incident's response panel beside the wall).
    window, _ = make(demo_specs(24), 88.0)
    save(window, out, "wall-24.png")
    window.close()

    # One high alarm (not yet escalated) beside a low-priority battery notice, in both
    # phases of its flash: the high alarm is the loudest tile in each.
    window, driver = make([*demo_specs(8)[:6], "sim:rapid-desat:7", "sim:normal:8"], 100.0)
    t0 = driver.clock.now()
    on = at(window, driver, t0 + 0.1)
    off = at(window, driver, t0 + 0.35)
    side_by_side(on, off, ("flash on", "flash off")).save(str(out / named("flash-on-off.png")))
    print(f"wrote {out / named('flash-on-off.png')}")
    window.close()

    # 24 booths with the response panel open, on a laptop: it lies over the wall.
    window, driver = make(demo_specs(24), 88.0)
    window.open_response(window.model.station_ids()[2])
    panel = window.panels[window.model.station_ids()[2]]
    panel.tap("stimulated")
    panel.tap_toggle(RESCUE)
    driver.run_to(95.0)
    save(window, out, "wall-24-panel.png")
    window.close()

    # Two booths escalated: each with its live SpO2.
    window, driver = make([*demo_specs(8)[:5], "sim:rapid-desat:6", "sim:rapid-desat:7",
                           "sim:normal:8"], 140.0)
    driver.run_to(141.2)  # on screen a second: Acknowledge and Respond are live
    save(window, out, "escalated-two.png")
    window.close()

    window, driver = make([*demo_specs(8)[:6], "sim:rapid-desat:7", "sim:normal:8"], 128.0)
    save(window, out, "escalated.png")
    driver.run_to(driver.clock.now() + 1.0)  # on screen a second: it may be acknowledged

    # The response: acknowledge (opens the incident), then a rescue in progress.
    window.acknowledge_top()
    panel = next(iter(window.panels.values()))
    for action in ("stimulated", "911_called"):
        panel.tap(action)
        driver.run_to(driver.clock.now() + 6.0)
    panel.tap("airway")
    panel.tap_toggle(RESCUE)
    driver.run_to(driver.clock.now() + 20.0)
    panel.tap_naloxone()
    panel.signs["unresponsive"].setChecked(True)
    panel.signs["slow_breathing"].setChecked(True)
    panel.signs["blue_lips_nails"].setChecked(True)
    driver.run_to(driver.clock.now() + 72.5)
    save(window, out, "response.png")
    window.toggle_contrast()
    save(window, out, "high-contrast.png")
    window.close()

    # The dialogs over a 24-booth wall, in the wall's look (offscreen: the dialog alone).
    window, driver = make(demo_specs(24), 88.0)
    for name, opener in (("settings.png", window.open_settings),
                         ("devices.png", window.open_devices)):
        dialog = opener()
        settle(window)
        save(dialog, out, name)
        dialog.close()
    window.close()
    app.processEvents()
    for store in STORES:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
