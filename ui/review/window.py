"""The supervisor review window: a lock bar, the incident browser and one incident's page,
and the monthly report export.

Supervisor mode belongs to the session (shared with the dashboard, so settings are gated
by the same unlock); this window only shows its state, counts activity inside itself as
"still here", and locks the screen's controls when the session locks.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from oximon.report import build_report, month_bounds, to_csv, write_private_text
from oximon.review import IncidentFilter, ReviewBackend
from oximon.supervisor import Permission, SupervisorSession
from oximon.ui.qtdates import from_qdate, to_qdate
from oximon.ui.review.browser import IncidentBrowser
from oximon.ui.review.detail import IncidentDetail
from oximon.ui.review.documents import write_monthly_pdf
from oximon.ui.review.login import LoginDialog

ACTIVITY_EVENTS = {QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.Wheel,
                   QEvent.Type.TouchBegin}
REVIEW_STYLESHEET = """
QLabel#lockBar[unlocked="true"] { background: #2e7d32; color: white; padding: 6px; }
QLabel#lockBar[unlocked="false"] { background: #37474f; color: white; padding: 6px; }
"""


class ActivityFilter(QObject):
    """Counts input inside `window` (and its dialogs) as the supervisor still being there."""

    def __init__(self, window: QWidget, session: SupervisorSession):
        super().__init__(window)
        self.window = window
        self.session = session

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() in ACTIVITY_EVENTS and isinstance(obj, QWidget):
            top = obj.window()
            if top is self.window or top.parentWidget() is self.window:
                self.session.touch()
        return False


class ReviewWindow(QMainWindow):
    def __init__(self, backend: ReviewBackend, session: SupervisorSession, *,
                 suppress_small_counts: bool = True, site: str = "",
                 today: date | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.backend = backend
        self.session = session
        self.suppress_small_counts = suppress_small_counts
        self.site = site
        self.setWindowTitle("oximon — incident review")
        self.setStyleSheet(REVIEW_STYLESHEET)
        central = QWidget()
        outer = QVBoxLayout(central)
        bar = QHBoxLayout()
        self.lock_bar = QLabel("")
        self.lock_bar.setObjectName("lockBar")
        self.lock_button = QPushButton("")
        self.lock_button.clicked.connect(self._lock_clicked)
        self.report_button = QPushButton("Monthly report…")
        self.report_button.clicked.connect(self._report_clicked)
        bar.addWidget(self.lock_bar, 1)
        bar.addWidget(self.report_button)
        bar.addWidget(self.lock_button)
        outer.addLayout(bar)
        self.stack = QStackedWidget()
        self.browser = IncidentBrowser(backend, today=today)
        self.detail = IncidentDetail(backend, session)
        self.stack.addWidget(self.browser)
        self.stack.addWidget(self.detail)
        outer.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.browser.open_requested.connect(self.open_incident)
        self.detail.back_requested.connect(self.show_browser)
        self.detail.changed.connect(lambda _id: self.browser.refresh())
        session.on_change(lambda _unlocked: self.refresh_lock())
        self.activity = ActivityFilter(self, session)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.activity)
        # Looking at the session each second is what locks it on time, and keeps the
        # countdown honest.
        self.lock_timer = QTimer(self)
        self.lock_timer.timeout.connect(self.refresh_lock)
        self.lock_timer.start(1000)
        self.resize(1366, 768)
        self.refresh_lock()

    # -- supervisor mode -----------------------------------------------------------------
    def refresh_lock(self) -> None:
        left = self.session.seconds_until_lock()
        unlocked = left is not None
        who = f" ({self.session.user})" if self.session.user else ""
        if left is not None:
            m, s = divmod(int(left), 60)
            text = f"Supervisor mode{who} — unlocked; locks after {m}:{s:02d} idle"
        else:
            text = "Peer view (locked) — read incidents and add amendments; unlock to sign off"
        if self.lock_bar.text() != text:
            self.lock_bar.setText(text)
        self.lock_bar.setProperty("unlocked", "true" if unlocked else "false")
        self.lock_bar.style().unpolish(self.lock_bar)
        self.lock_bar.style().polish(self.lock_bar)
        self.lock_button.setText("Lock" if unlocked else "Unlock supervisor mode…")
        self.report_button.setEnabled(self.session.allowed(Permission.EXPORT_REPORT))

    def _lock_clicked(self) -> None:
        if self.session.unlocked:
            self.session.lock()
        else:
            self.login_dialog().exec()
        self.refresh_lock()

    def login_dialog(self) -> LoginDialog:
        return LoginDialog(self.session, self)

    # -- pages -------------------------------------------------------------------------------
    def open_incident(self, incident_id: str) -> None:
        self.detail.show_incident(incident_id)
        self.stack.setCurrentWidget(self.detail)

    def show_browser(self) -> None:
        self.detail.play.setChecked(False)
        self.browser.refresh()
        self.stack.setCurrentWidget(self.browser)

    # -- the monthly report ---------------------------------------------------------------
    def export_month(self, year: int, month: int, fmt: str, path: str | Path,
                     suppress: bool | None = None) -> None:
        self.session.require(Permission.EXPORT_REPORT)
        self.session.touch()
        start, end = month_bounds(year, month)
        incidents = self.backend.list_incidents(IncidentFilter(since_ts=start, until_ts=end))
        report = build_report(incidents, year, month,
                              suppress=self.suppress_small_counts if suppress is None
                              else suppress, stations=self.backend.stations())
        if fmt == "csv":
            write_private_text(Path(path), to_csv(report))
        else:
            write_monthly_pdf(report, path, self.site)
        self.backend.audit("report.exported", self.session.user,
                           {"month": report.month_key, "format": fmt,
                            "suppressed": report.suppress})

    def _report_clicked(self) -> None:
        dialog = MonthlyReportDialog(self, self.suppress_small_counts)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        year, month, fmt, suppress = dialog.choice()
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the monthly report", f"oximon-report-{year:04d}-{month:02d}.{fmt}",
            "PDF (*.pdf)" if fmt == "pdf" else "CSV (*.csv)")
        if path:
            self.export_month(year, month, fmt, path, suppress)


class MonthlyReportDialog(QDialog):
    def __init__(self, parent: QWidget, suppress: bool):
        super().__init__(parent)
        self.setWindowTitle("Monthly report")
        form = QFormLayout(self)
        today = date.today()
        last = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
        self.month = QDateEdit(to_qdate(last))
        self.month.setDisplayFormat("yyyy-MM")
        self.format = QComboBox()
        self.format.addItems(["pdf", "csv"])
        self.suppress = QCheckBox("Hide small counts (1–4) — for sharing outside the site")
        self.suppress.setChecked(suppress)
        form.addRow("Month", self.month)
        form.addRow("Format", self.format)
        form.addRow("", self.suppress)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def choice(self) -> tuple[int, int, str, bool]:
        d = from_qdate(self.month.date())
        return d.year, d.month, self.format.currentText(), self.suppress.isChecked()

