"""Render the supervisor review screenshots (docs/screenshots/review-*.png) offscreen from
the same simulated month as the sample report: the incident browser, and one incident's
replay with its alarm, acknowledge and action markers.

Run from the repository root:  python docs/make_review_screenshots.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import date
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_sample_month as sample
from PySide6.QtWidgets import QApplication, QWidget

from oximon.review_store import StoreReview
from oximon.store import open_store
from oximon.supervisor import PasswordFile, SupervisorSession
from oximon.ui.qtdates import to_qdate
from oximon.ui.review.window import ReviewWindow

OUT = sample.ROOT / "docs" / "screenshots"


def run() -> int:
    app = QApplication.instance() or QApplication([])
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="oximon-shots-") as tmp:
        db, ids = sample.make(Path(tmp))
        store = open_store(db)
        review = StoreReview(store)
        session = SupervisorSession(PasswordFile(Path(tmp) / "supervisor.json"),
                                    audit=review.audit, kdf_n=2**12)
        session.set_password("sample-password", by="sup-1")  # first use unlocks
        window = ReviewWindow(review, session, today=date(2026, 3, 31), site="Sample OPS")
        window.resize(1366, 768)
        window.browser.since.setDate(to_qdate(date(2026, 3, 1)))
        window.show()
        app.processEvents()
        shot(window, OUT / "review-browser.png")

        example = sample.pick_example(review, ids)
        window.open_incident(example.id)
        detail = window.detail
        doses = example.naloxone_ts
        at = (doses[0] + 20 if doses else example.opened_ts + 60) - detail.plot.reference_ts
        detail.plot.set_cursor(at)
        app.processEvents()
        shot(window, OUT / "review-incident.png")
        detail.tabs.setCurrentIndex(1)
        app.processEvents()
        shot(window, OUT / "review-timeline.png")
        window.lock_timer.stop()
        window.close()
        store.close()
    return 0


def shot(window: QWidget, path: Path) -> None:
    QApplication.processEvents()
    window.grab().save(str(path))
    print(f"wrote {path.relative_to(sample.ROOT)}")


if __name__ == "__main__":
    sys.exit(run())
