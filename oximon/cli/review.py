"""`oximon review`: the supervisor review window on its own (a supervisor's desk, away from
the peer workers' wall). The dashboard opens the same window from its menu."""

from __future__ import annotations

import argparse
import os
import sys

from oximon.cli.errors import RuntimeFailure
from oximon.cli.wiring import (
    add_store_options,
    check_display,
    demo_hint,
    get_profile,
    open_db,
    store_choice,
)
from oximon.review_store import StoreReview
from oximon.store import IncidentQuery, Store
from oximon.supervisor import PasswordFile, SupervisorSession


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("review", help="supervisor review: browse, replay, sign off incidents",
                       description="Open the incident review window. Reading and amendments "
                       "are open to everyone; sign-off, the monthly report and settings need "
                       "the supervisor password (set on first use).")
    add_store_options(p)
    p.add_argument("--profile", metavar="NAME|FILE", help="profile with the [review] settings")
    p.add_argument("--site", default="", metavar="NAME", help="site name for printed reports")
    p.set_defaults(run=run)


def open_review_store(db: str | None) -> Store:
    """The store to review: a named --db must exist; the site's log is made on first use."""
    return open_db(db, create=db is None)


def build_session(review: StoreReview, lock_after_s: float,
                  passwords: PasswordFile | None = None) -> SupervisorSession:
    """Supervisor mode for this screen, audited in the store (refusals without the text)."""
    return SupervisorSession(passwords or PasswordFile(), lock_after_s=lock_after_s,
                             audit=review.audit)


def run(args: argparse.Namespace) -> int:
    profile = get_profile(args.profile)
    db = store_choice(args)
    check_display("the review window")
    os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*.warning=false")
    try:
        from PySide6.QtWidgets import QApplication

        from oximon.ui.app import place_on_screen, quiet_qt_messages
        from oximon.ui.review.window import ReviewWindow
    except ImportError as exc:
        raise RuntimeFailure(f"cannot open the review window: {exc}") from None
    store = open_review_store(db)
    try:
        review = StoreReview(store)
        demo_hint(args, store.count_incidents(IncidentQuery()))
        session = build_session(review, profile["review"]["lock_after_s"])
        quiet_qt_messages()
        app = QApplication.instance() or QApplication(sys.argv[:1])
        app.setApplicationName("oximon")
        window = ReviewWindow(review, session, site=args.site,
                              suppress_small_counts=profile["review"]["suppress_small_counts"])
        place_on_screen(window)
        window.show()
        return app.exec()
    finally:
        store.close()
