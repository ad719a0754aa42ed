"""Make the sample monthly report (docs/sample-report/) from a simulated month.

A temporary SQLite store is filled the way monitoring fills it: simulated people (the
opioid slow desaturation, rapid desaturation and apnea scenarios) on six booths, the
engine's detectors and alarm manager raising the alarms, the store opening incidents and
copying their traces, a scripted peer responder acknowledging and logging actions, and a
supervisor signing most incidents off. Then `oximon report` writes the PDF and CSV twice:
as exported (small counts suppressed) and for internal use (exact counts), and one
incident's printout is added as an example.

Run from the repository root:  python docs/make_sample_month.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["TZ"] = "America/Vancouver"  # a BC site's calendar month
time.tzset()
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from oximon.cli import main  # noqa: E402
from oximon.cli.simulate import simulate_month  # noqa: E402
from oximon.review import Incident, ReviewBackend  # noqa: E402

OUT = ROOT / "docs" / "sample-report"
MONTH = "2026-03"
DB_NAME = "incidents.db"


def make(db_dir: Path) -> tuple[str, list[str]]:
    """Fill a store in `db_dir` with the simulated month; returns its URL and the ids."""
    db = f"sqlite:///{db_dir / DB_NAME}"
    t0 = time.monotonic()
    ids = simulate_month(db, 2026, 3, incidents=38, seed=2026)
    print(f"simulated {len(ids)} incidents in {time.monotonic() - t0:.1f} s")
    return db, ids


def run() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="oximon-sample-") as tmp:
        db, ids = make(Path(tmp))
        exact = Path(tmp) / "exact.toml"
        exact.write_text("[review]\nsuppress_small_counts = false\n")
        site = "Sample OPS (simulated data)"
        for suffix, extra in (("", []), ("-internal", ["--profile", str(exact)])):
            for fmt in ("pdf", "csv"):
                out = OUT / f"oximon-report-{MONTH}{suffix}.{fmt}"
                code = main(["report", "--month", MONTH, "--format", fmt, "--output",
                             str(out), "--db", db, "--site", site, *extra])
                if code:
                    return code
                print(f"wrote {out.relative_to(ROOT)}")
        incident_pdf = OUT / "oximon-incident-example.pdf"
        _one_incident(db, ids, incident_pdf)
        print(f"wrote {incident_pdf.relative_to(ROOT)}")
    return 0


def pick_example(review: ReviewBackend, ids: list[str]) -> Incident:
    """An incident worth showing: signed off, naloxone (two doses if any), amended."""
    incidents = [review.get_incident(i) for i in ids]
    return max(incidents, key=lambda i: (i.reviewed, len(i.naloxone_ts), len(i.amendments),
                                         i.called_911))


def _one_incident(db: str, ids: list[str], path: Path) -> None:
    from PySide6.QtWidgets import QApplication

    from oximon.review_store import StoreReview
    from oximon.store import open_store
    from oximon.ui.review.documents import write_incident_pdf

    _app = QApplication.instance() or QApplication([])
    with open_store(db) as store:
        write_incident_pdf(pick_example(StoreReview(store), ids), path)


if __name__ == "__main__":
    sys.exit(run())
