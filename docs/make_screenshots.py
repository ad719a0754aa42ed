"""Render the README's screenshots offscreen: `python docs/make_screenshots.py [OUT_DIR]`.

Simulated oximeters are fed in virtual time (no waiting), so the pictures are the same on
every run: the wall in a calm state, a 24-station wall, an escalated alarm, the response
panel during a rescue, and the high-contrast look.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtWidgets import QApplication

from alerts import AlarmManager
from oximon.cli.wiring import demo_specs, open_sources
from oximon.clock import ManualClock
from oximon.engine import Engine
from oximon.profile import Profile, load_profile
from oximon.types import EngineEvent, Priority
from ui.app import build_window
from ui.response import RESCUE
from ui.sim_drive import SimDriver

SIZE = (1366, 768)


class EscalatingAlarms(AlarmManager):
    """The minimal manager plus escalation of an unacknowledged high alarm, so the
    escalation picture can be made before the alarms issue's manager (which does this
    itself) is merged. Escalates only what the wrapped manager did not escalate."""

    def __init__(self, profile: Profile):
        super().__init__(profile)
        self._escalated: set[tuple[str, str]] = set()

    def tick(self, now: float) -> list[EngineEvent]:
        out = super().tick(now)
        done = {(e.station, e.fields.get("condition")) for e in out if e.state == "escalated"}
        after = float(self.profile["alarms"]["escalate_after_s"])
        for key, alarm in self.active.items():
            if (alarm.priority is Priority.HIGH and alarm.acknowledged_t is None
                    and now - alarm.raised_t >= after and key not in self._escalated
                    and key not in done):
                self._escalated.add(key)
                out.append(self._event(alarm, "escalated", now))
        return out


def make(specs: list[str], until: float, size=SIZE, escalate: bool = False, **options):
    clock = ManualClock()
    engine = Engine(clock, load_profile(None), EscalatingAlarms if escalate else AlarmManager)
    for station, source in open_sources(specs):
        engine.add_station(station, source)
    window = build_window(engine, title="oximon", **options)
    window.resize(*size)
    window.show()
    driver = SimDriver(engine, clock)
    driver.run_to(until)
    settle(window)
    return window, driver


def settle(window) -> None:
    app = QApplication.instance()
    for _ in range(3):
        window.redraw()
        app.processEvents()


def save(window, out: Path, name: str) -> None:
    settle(window)
    path = out / name
    window.grab().save(str(path))
    print(f"wrote {path}")


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

    window, _ = make(demo_specs(24), 300.0)
    save(window, out, "wall-24.png")
    window.close()

    window, driver = make([*demo_specs(8)[:6], "sim:rapid-desat:7", "sim:normal:8"], 128.0,
                          escalate=True)
    save(window, out, "escalated.png")

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
    panel.signs["slow or no breathing"].setChecked(True)
    panel.signs["blue or grey lips or nails"].setChecked(True)
    driver.run_to(driver.clock.now() + 72.5)
    save(window, out, "response.png")
    window.toggle_contrast()
    save(window, out, "high-contrast.png")
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
