"""Settings: the alarm profile's thresholds and delays, editable only in supervisor mode,
every change audited.

Supervisor mode belongs to the supervisor-review issue; until it lands, whether the
"Supervisor mode" switch can be turned on at all is a site setting (`allow_supervisor`,
off by default). Every applied change goes to an audit sink — a callable taking one dict —
before the new profile is handed to `apply`. The default sink appends JSON lines to a
private (0600) file in the user data folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from oximon.profile import SCHEMA, Profile, ProfileError
from oximon.types import Priority

AuditSink = Callable[[dict[str, Any]], None]


class JsonlAuditSink:
    """Appends one JSON object per line to a private file (created 0600)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __call__(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")


def default_audit_sink() -> JsonlAuditSink:
    import platformdirs
    return JsonlAuditSink(Path(platformdirs.user_data_dir("oximon")) / "settings-audit.jsonl")


class SettingsDialog(QDialog):
    def __init__(self, profile: Profile, *, allow_supervisor: bool, audit: AuditSink,
                 apply: Callable[[Profile], str], now: Callable[[], float],
                 wall: Callable[[], Any] | None = None, by: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle("Settings — alarm profile")
        self.profile = profile
        self.audit = audit
        self.apply_profile = apply
        self.now = now
        self.wall = wall
        self.by = by
        self.editors: dict[str, QWidget] = {}
        self.resize(700, 640)

        self.supervisor = QCheckBox("Supervisor mode")
        self.supervisor.setEnabled(allow_supervisor)
        self.supervisor.toggled.connect(self._set_editable)
        why = ("Changes are audited." if allow_supervisor else
               "Read-only: supervisor mode is turned off for this site "
               "(setting 'allow_supervisor').")
        self.mode_note = QLabel(why)
        self.mode_note.setWordWrap(True)

        body = QWidget()
        form_box = QVBoxLayout(body)
        for section, rules in SCHEMA.items():
            group = QGroupBox(section.replace("_", " "))
            form = QFormLayout(group)
            for key, rule in rules.items():
                dotted = f"{section}.{key}"
                editor = self._editor(rule, profile.get(dotted))
                editor.setObjectName(dotted)
                self.editors[dotted] = editor
                form.addRow(key.replace("_", " "), editor)
            form_box.addWidget(group)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)

        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.apply_button = QPushButton("Apply changes")
        self.apply_button.clicked.connect(self.apply_changes)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.apply_button)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(self.supervisor)
        top.addWidget(self.mode_note, 1)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        layout.addLayout(bottom)
        self._set_editable(False)

    @staticmethod
    def _editor(rule, value: Any) -> QWidget:
        if rule.kind is Priority:
            box = QComboBox()
            box.addItems(["high", "medium", "low"])
            box.setCurrentText(value.label)
            return box
        if rule.kind is str:  # a word from a fixed list (e.g. averaging method)
            box = QComboBox()
            box.addItems(list(rule.choices) or [str(value)])
            box.setCurrentText(str(value))
            return box
        if rule.kind is bool:
            check = QCheckBox()
            check.setChecked(bool(value))
            return check
        spin = QDoubleSpinBox()
        spin.setDecimals(1)
        spin.setRange(rule.low if rule.low is not None else -1e9,
                      rule.high if rule.high is not None else 1e9)
        spin.setValue(float(value))
        spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        return spin

    @staticmethod
    def _value(editor: QWidget) -> Any:
        if isinstance(editor, QComboBox):
            return editor.currentText()
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        assert isinstance(editor, QDoubleSpinBox)
        return round(editor.value(), 1)

    def _set_editable(self, on: bool) -> None:
        for editor in self.editors.values():
            editor.setEnabled(on)
        self.apply_button.setEnabled(on)

    def changes(self) -> dict[str, tuple[Any, Any]]:
        """dotted key -> (old, new) for every edited value."""
        out = {}
        for dotted, editor in self.editors.items():
            old = self.profile.get(dotted)
            old_plain = old.label if isinstance(old, Priority) else old
            new = self._value(editor)
            if new != old_plain:
                out[dotted] = (old_plain, new)
        return out

    def apply_changes(self) -> bool:
        if not self.supervisor.isChecked():
            self.status.setText("Turn on supervisor mode to change the profile.")
            return False
        changes = self.changes()
        if not changes:
            self.status.setText("Nothing changed.")
            return False
        try:
            new = self.profile.with_overrides({k: v[1] for k, v in changes.items()})
        except ProfileError as exc:
            self.status.setText(f"Not applied: {exc}")
            return False
        wall = self.wall() if self.wall is not None else None
        for dotted, (old, value) in changes.items():
            self.audit({"type": "audit", "action": "profile_changed", "key": dotted,
                        "old": old, "new": value, "by": self.by, "t": self.now(),
                        "wall": wall.isoformat() if wall is not None else None,
                        "profile": self.profile.name})
        message = self.apply_profile(new)
        self.profile = new
        self.status.setText(f"Applied {len(changes)} change(s); audited. {message}")
        return True
