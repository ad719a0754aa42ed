"""Booth settings: a supervisor adjusts one booth's limits for the guest in it (e.g. a
resting pulse of 45) or sets the booth to standby (no guest: no "no reading" alarms).

Every change goes to the same audit sink as the site settings ("settings.booth_limits",
"settings.booth_standby", target the booth). The engine checks the limits against the
safety floors; a refusal is shown in the dialog's status line, nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from oximon.booths import BOOTH_KEYS
from oximon.engine import Engine
from oximon.profile_words import section_title, words_for
from oximon.supervisor import Permission, PermissionDenied, SupervisorSession

AuditSink = Callable[[dict[str, Any]], None]
_RANGES = {"pr_low.threshold": (20.0, 120.0), "pr_high.threshold": (60.0, 250.0),
           "spo2_low.threshold": (90.0, 94.0)}


class BoothSettingsDialog(QDialog):
    """Limits and standby for one booth at a time (supervisor mode only)."""

    def __init__(self, engine: Engine, session: SupervisorSession, audit: AuditSink,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Booth settings")
        self.engine, self.session, self.audit = engine, session, audit
        self.booth = QComboBox()
        for sid, live in engine.stations.items():
            self.booth.addItem(live.station.label, sid)
        self.editors: dict[str, QDoubleSpinBox] = {}
        form = QFormLayout()
        form.addRow("Booth", self.booth)
        for key in BOOTH_KEYS:
            words = words_for(key)
            spin = QDoubleSpinBox()
            spin.setRange(*_RANGES[key])
            spin.setDecimals(0)
            spin.setSuffix(f" {words.unit}")
            spin.setToolTip(f"{words.meaning}\nProfile key: {key}")
            self.editors[key] = spin
            form.addRow(f"{section_title(key.split('.')[0])}: {words.label.lower()}", spin)
        self.standby = QCheckBox("Standby (no guest: no \u201cno reading\u201d alarms; "
                                 "limits back to the site's)")
        form.addRow(self.standby)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.apply_button = QPushButton("Apply")
        self.apply_button.clicked.connect(self.apply_changes)
        self.reset_button = QPushButton("Site limits")
        self.reset_button.clicked.connect(self.reset_limits)
        box = QVBoxLayout(self)
        box.addLayout(form)
        box.addWidget(self.apply_button)
        box.addWidget(self.reset_button)
        box.addWidget(self.status)
        self.booth.currentIndexChanged.connect(self.load)
        self.load()

    def sid(self) -> str:
        return str(self.booth.currentData())

    def load(self) -> None:
        """Show the chosen booth's limits (the site's where it has none of its own)."""
        booth = self.engine.booths.get(self.sid())
        for key, spin in self.editors.items():
            own = booth.limits.get(key) if booth else None
            spin.setValue(float(own if own is not None else self.engine.profile.get(key)))
        self.standby.setChecked(bool(booth and booth.standby))

    def _allowed(self) -> bool:
        try:
            self.session.require(Permission.CHANGE_SETTINGS)
        except PermissionDenied as exc:
            self.status.setText(f"Not changed: {exc}")
            return False
        return True

    def apply_changes(self) -> bool:
        """Apply what the editors show to the booth; audited; False (with the reason in the
        status line) when refused."""
        if not self._allowed():
            return False
        sid, by = self.sid(), self.session.user or ""
        booth = self.engine.booths.get(sid)
        old = dict(booth.limits) if booth else {}
        try:
            if self.standby.isChecked():
                self.engine.set_standby(sid, True)
                self.audit({"type": "audit", "action": "booth_standby", "key": sid,
                            "by": by, "standby": True})
                self.status.setText(f"{sid}: standby")
                self.load()
                return True
            if booth is not None and booth.standby:
                self.engine.set_standby(sid, False)
                self.audit({"type": "audit", "action": "booth_standby", "key": sid,
                            "by": by, "standby": False})
            new = {k: s.value() for k, s in self.editors.items()
                   if s.value() != float(self.engine.profile.get(k))}
            self.engine.set_booth_limits(sid, new)
        except ValueError as exc:  # safety floors, inconsistent limits, an alarm sounding
            self.status.setText(f"Not changed: {exc}")
            return False
        self.audit({"type": "audit", "action": "booth_limits", "key": sid, "by": by,
                    "old": old, "new": new})
        self.status.setText(f"{sid}: {self.engine.stations[sid].booth or 'site limits'}")
        return True

    def reset_limits(self) -> bool:
        for key, spin in self.editors.items():
            spin.setValue(float(self.engine.profile.get(key)))
        self.standby.setChecked(False)
        return self.apply_changes()
