"""The booth settings dialog (issue 12): supervisor mode only, in force at once, audited,
refusals said in the dialog; the tile shows the booth's limits or "Standby"."""

from __future__ import annotations

from typing import Any

from oximon.alerts import AlarmManager
from oximon.clock import ManualClock
from oximon.engine import Engine
from oximon.profile import Profile
from oximon.supervisor import Permission, PermissionDenied
from oximon.types import Station
from oximon.ui.booth_settings import BoothSettingsDialog


class Session:
    def __init__(self, unlocked: bool):
        self.unlocked, self.user = unlocked, "sup-1" if unlocked else ""

    def require(self, permission: Permission) -> None:
        if not self.unlocked:
            raise PermissionDenied(f"{permission.value.replace('_', ' ')} needs supervisor "
                                   "mode")


def make(qtbot, unlocked: bool = True) -> tuple[BoothSettingsDialog, Engine, list[Any]]:
    engine = Engine(ManualClock(), Profile.default(), AlarmManager)
    engine.add_station(Station("b1", alias="Booth 1"))
    audit: list[dict[str, Any]] = []
    dialog = BoothSettingsDialog(engine, Session(unlocked), audit.append)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    return dialog, engine, audit


def test_a_supervisor_sets_a_resting_pulse_and_it_is_audited(qtbot) -> None:
    dialog, engine, audit = make(qtbot)
    dialog.editors["pr_low.threshold"].setValue(45.0)
    assert dialog.apply_changes()
    assert engine.booths["b1"].limits == {"pr_low.threshold": 45.0}
    assert engine.stations["b1"].booth == "limits: pulse 45–140"
    assert audit == [{"type": "audit", "action": "booth_limits", "key": "b1", "by": "sup-1",
                      "old": {}, "new": {"pr_low.threshold": 45.0}}]
    dialog.standby.setChecked(True)
    assert dialog.apply_changes()
    assert engine.stations["b1"].booth == "Standby" and engine.booths["b1"].limits == {}
    assert audit[-1]["action"] == "booth_standby" and audit[-1]["standby"] is True


def test_peer_workers_and_inconsistent_limits_are_refused_with_words(qtbot) -> None:
    dialog, engine, audit = make(qtbot, unlocked=False)
    dialog.editors["pr_low.threshold"].setValue(45.0)
    assert not dialog.apply_changes()
    assert "needs supervisor mode" in dialog.status.text() and not audit
    dialog, engine, audit = make(qtbot)
    dialog.editors["pr_low.threshold"].setValue(110.0)
    dialog.editors["pr_high.threshold"].setValue(100.0)
    assert not dialog.apply_changes()
    assert "pr_low.threshold" in dialog.status.text() and not audit
    assert "b1" not in engine.booths or engine.booths["b1"].limits == {}
