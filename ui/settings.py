"""Settings: the alarm profile's thresholds and delays — everyone can read them, only a
supervisor can change them, and every change is audited.

Supervisor mode is the app's one `SupervisorSession` (shared with the review window): the
dialog opens read-only; "Unlock supervisor mode…" asks for the password (set on first
use), the editors unlock while the session is unlocked and go back to read-only the moment
it locks (by hand, or by itself after the supervisor has been idle). Input inside the
dialog counts as the supervisor still being there.

Every applied change goes to an audit sink — a callable taking one dict — before the new
profile is handed to `apply`, and the application itself is audited with what `apply`
said. `StoreAuditSink` writes into the incident store's audit log; the default sink
appends JSON lines to a private (0600) file in the user data folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
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

from oximon.profile import SCHEMA, Profile, ProfileError, Rule
from oximon.profile_words import section_title, words_for
from oximon.supervisor import Permission, PermissionDenied, SupervisorSession
from oximon.types import Priority
from oximon.ui.review.login import ensure_supervisor
from oximon.ui.review.window import ActivityFilter

AuditSink = Callable[[dict[str, Any]], None]
Login = Callable[[SupervisorSession, QWidget], bool]


class StoreAuditSink:
    """Settings audit records into the incident store's audit log (hash-chained with every
    other record): action "settings.<what>", target the profile key."""

    def __init__(self, store: Any):
        self.store = store  # anything with record_audit(action, target, detail, by)

    def __call__(self, record: dict[str, Any]) -> None:
        detail = {k: v for k, v in record.items() if k not in ("type", "action", "key", "by")}
        self.store.record_audit(f"settings.{record['action']}", record.get("key"), detail,
                                str(record.get("by") or ""))


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
    def __init__(self, profile: Profile, *, session: SupervisorSession, audit: AuditSink,
                 apply: Callable[[Profile], str], now: Callable[[], float],
                 wall: Callable[[], Any] | None = None, login: Login = ensure_supervisor,
                 save: Callable[[Profile], Any] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Settings — alarm profile")
        self.profile = profile
        self.session = session
        self.audit = audit
        self.apply_profile = apply
        self.now = now
        self.wall = wall
        self.login = login
        self.save_profile = save  # None: nothing is kept after oximon stops (the demo)
        self.editors: dict[str, QWidget] = {}

        self.mode_note = QLabel("")
        self.mode_note.setWordWrap(True)
        self.lock_button = QPushButton("")
        self.lock_button.clicked.connect(self.toggle_supervisor)

        body = QWidget()
        form_box = QVBoxLayout(body)
        self.labels: dict[str, QLabel] = {}  # dotted key -> its plain label
        for section, rules in SCHEMA.items():
            group = QGroupBox(section_title(section))
            form = QFormLayout(group)
            for key, rule in rules.items():
                dotted = f"{section}.{key}"
                self._add_row(form, dotted, rule, profile.get(dotted))
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
        top.addWidget(self.mode_note, 1)
        top.addWidget(self.lock_button)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        layout.addLayout(bottom)
        self.activity = ActivityFilter(self, session)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.activity)
        # Looking at the session each second is what locks it on time.
        self.lock_timer = QTimer(self)
        self.lock_timer.timeout.connect(self.refresh_mode)
        self.lock_timer.start(1000)
        self._editable: bool | None = None
        self.refresh_mode()

    def _add_row(self, form: QFormLayout, dotted: str, rule: Rule, value: Any) -> None:
        """One setting: its plain label, the editor with its unit, and beneath them one
        line saying what it does; the profile's key in the tooltip (for the file)."""
        words = words_for(dotted)
        editor = self._editor(rule, value)
        editor.setObjectName(dotted)
        self.editors[dotted] = editor
        label = QLabel(words.label)
        self.labels[dotted] = label
        field = QWidget()
        line = QHBoxLayout(field)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(editor)
        if words.unit:
            unit = QLabel(words.unit)
            unit.setObjectName("unit")
            line.addWidget(unit)
        line.addStretch(1)
        meaning = QLabel(words.meaning)
        meaning.setObjectName("dim")
        tip = f"{words.meaning}\nProfile key: {dotted}".strip()
        for widget in (label, editor, meaning):
            widget.setToolTip(tip)
        form.addRow(label, field)
        if words.meaning:
            form.addRow("", meaning)

    @staticmethod
    def _editor(rule: Rule, value: Any) -> QWidget:
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

    # -- supervisor mode -----------------------------------------------------------------
    @property
    def editable(self) -> bool:
        return bool(self._editable)

    def refresh_mode(self) -> None:
        """Editors follow the session: editable only while supervisor mode is on."""
        on = self.session.allowed(Permission.CHANGE_SETTINGS)
        left = self.session.seconds_until_lock()
        if on and left is not None:
            who = f" ({self.session.user})" if self.session.user else ""
            m, sec = divmod(int(left), 60)
            text = (f"Supervisor mode{who}: changes are audited. Locks after {m}:{sec:02d} "
                    "idle.")
        else:
            text = ("Read-only. Peer workers can see the alarm profile; unlock supervisor "
                    "mode to change it.")
        if self.mode_note.text() != text:
            self.mode_note.setText(text)
        self.lock_button.setText("Lock" if on else "Unlock supervisor mode…")
        if on != self._editable:
            self._editable = on
            for editor in self.editors.values():
                editor.setEnabled(on)
            self.apply_button.setEnabled(on)

    def toggle_supervisor(self) -> None:
        if self.session.unlocked:
            self.session.lock()
        elif self.login(self.session, self):
            self.status.setText("")
        self.refresh_mode()

    def done(self, result: int) -> None:
        self.lock_timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.activity)
        super().done(result)

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
        try:
            self.session.require(Permission.CHANGE_SETTINGS)
        except PermissionDenied as exc:
            self.status.setText(f"Not applied: {exc}. Unlock supervisor mode first.")
            self.refresh_mode()
            return False
        self.session.touch()
        changes = self.changes()
        if not changes:
            self.status.setText("Nothing changed.")
            return False
        try:
            new = self.profile.with_overrides({k: v[1] for k, v in changes.items()})
        except ProfileError as exc:
            self.status.setText(f"Not applied: {exc}")
            return False
        by = self.session.user or "supervisor"
        wall = self.wall() if self.wall is not None else None
        stamp = {"by": by, "t": self.now(),
                 "wall": wall.isoformat() if wall is not None else None}
        for dotted, (old, value) in changes.items():
            self.audit({"type": "audit", "action": "profile_changed", "key": dotted,
                        "old": old, "new": value, "profile": self.profile.name, **stamp})
        message = self.apply_profile(new)
        self.audit({"type": "audit", "action": "profile_applied", "key": None,
                    "changes": len(changes), "profile": new.name, "result": message,
                    **stamp})
        self.profile = new
        kept = self._save(new, stamp)
        self.status.setText(f"Applied {len(changes)} change(s); audited. {message} {kept}")
        return True

    def _save(self, profile: Profile, stamp: dict[str, Any]) -> str:
        """Keep the applied profile for the next start (audited either way)."""
        if self.save_profile is None:
            return "Not saved: this run keeps it until oximon stops (demo)."
        try:
            path = self.save_profile(profile)
        except (OSError, ValueError) as exc:
            self.audit({"type": "audit", "action": "profile_not_saved", "key": None,
                        "profile": profile.name, "error": str(exc), **stamp})
            return f"NOT saved ({exc}): it lasts until oximon stops."
        self.audit({"type": "audit", "action": "profile_saved", "key": None,
                    "profile": profile.name, "path": str(path), **stamp})
        return f"Saved for the next start ({path})."
