"""Supervisor review: the incident browser, one incident's replay and sign-off, the
monthly report, and the supervisor-mode gate the dashboard uses for settings.

Entry points for the dashboard: `ReviewWindow(backend, session)` and
`ensure_supervisor(session, parent)` (asks for the password when locked).
"""

from oximon.ui.review.login import LoginDialog, ensure_supervisor
from oximon.ui.review.window import ReviewWindow

__all__ = ["LoginDialog", "ReviewWindow", "ensure_supervisor"]
