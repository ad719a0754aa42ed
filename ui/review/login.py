"""The supervisor password dialog: set one on first use, or unlock.

The typed text goes straight to the session (which hashes it) and is cleared from the
field afterwards; a refusal says so without echoing anything typed.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from oximon.supervisor import SupervisorError, SupervisorSession


class LoginDialog(QDialog):
    def __init__(self, session: SupervisorSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.first_use = not session.password_set
        self.setWindowTitle("Set the supervisor password" if self.first_use
                            else "Supervisor mode")
        lay = QVBoxLayout(self)
        intro = QLabel(
            "No supervisor password has been set on this computer yet. Choose one (at least "
            "8 characters); it is needed to sign off incidents and change settings."
            if self.first_use else "Enter the supervisor password to sign off incidents "
            "and change settings. Supervisor mode locks itself after a few minutes idle.")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        form = QFormLayout()
        self.who = QLineEdit()
        self.who.setPlaceholderText("initials or role (optional)")
        form.addRow("Who", self.who)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Password", self.password)
        self.repeat = QLineEdit()
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        if self.first_use:
            form.addRow("Again", self.repeat)
        lay.addLayout(form)
        self.message = QLabel("")
        self.message.setObjectName("loginMessage")
        self.message.setStyleSheet("color: #c62828;")
        self.message.setWordWrap(True)
        lay.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Set password" if self.first_use else "Unlock")
        buttons.accepted.connect(self.try_accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def try_accept(self) -> None:
        text = self.password.text()
        by = self.who.text().strip()
        self.message.setText("")
        try:
            if self.first_use:
                if text != self.repeat.text():
                    self.message.setText("The two passwords differ.")
                    return
                self.session.set_password(text, by=by)
                ok = True
            else:
                ok = self.session.unlock(text, by=by)
        except SupervisorError as exc:
            self.message.setText(str(exc).capitalize() + ".")
            ok = False
        finally:
            self.password.clear()
            self.repeat.clear()
        if ok:
            self.accept()
        elif not self.message.text():
            self.message.setText("Wrong password.")


def ensure_supervisor(session: SupervisorSession, parent: QWidget | None = None) -> bool:
    """True if supervisor mode is on, asking for the password if needed (the dashboard
    calls this before opening settings)."""
    if session.unlocked:
        session.touch()
        return True
    return LoginDialog(session, parent).exec() == QDialog.DialogCode.Accepted
