"""The incident PDF (`oximon incidents show|export --format pdf`): the one renderer in
ui/review/documents.py, called from the CLI, with every record field, the timeline, the
trace chart (gaps left as gaps), each incident on its own pages, and no screen needed.

SQLite only: what is drawn does not depend on the backend (the CLI tests cover both)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor

from oximon.cli import main
from oximon.review_store import to_incident
from oximon.ui.review.documents import TraceRenderer
from oximon.ui.review.trace_plot import SPO2_COLOUR
from tests.store.storerig import Rig
from tests.store.storerig import incident as stored_incident

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def two(tmp_path):
    """A: alarm, 30 s with no readings at all (device lost), naloxone twice, 9-1-1, EHS,
    amended, signed off. B: opened by hand on s2, still open when monitoring stopped."""
    db = str(tmp_path / "store.db")
    rig = Rig(db)
    rig.feed(0, 30, spo2=95)
    rig.alarm("raised", 30)
    a = rig.open_id("s1")
    rig.feed(30, 60, spo2=83)
    rig.feed(90, 120, spo2=92)  # nothing from 60 to 90: a gap
    rig.store.record_action(a, "naloxone", 40, "peer-A", {"dose": "0.4 mg", "route": "IM"})
    rig.store.record_action(a, "911_called", 45, "peer-B")
    rig.store.record_action(a, "naloxone", 55, "peer-A", {"dose": "0.4 mg", "route": "IM"})
    rig.store.record_action(a, "ehs_arrived", 58, "peer-B")
    rig.store.close_incident(a, 120, "transported", by="peer-A", note="second dose worked")
    rig.store.amend(a, {"responders": ["peer-A", "peer-B"]}, "forgot the second responder",
                    "peer-B")
    rig.store.sign_off(a, "sup-1", "good response", True)
    rig.clock.set(200.0)
    b = rig.store.open_incident("s2", 200.0, by="peer-C")
    rig.close()  # monitoring stops with B open: a gap in monitoring, never resumed
    return db, a, b


def page_texts(path: Path) -> list[str]:
    from PySide6.QtPdf import QPdfDocument

    doc = QPdfDocument()
    doc.load(str(path))
    assert doc.status() == QPdfDocument.Status.Ready
    return [" ".join(doc.getAllText(p).text().split()) for p in range(doc.pageCount())]


def images_in(path: Path) -> int:
    return path.read_bytes().count(b"/Subtype /Image")


def test_show_has_the_whole_record_and_the_trace(two, tmp_path, capsys, qapp):
    db, a, _b = two
    out = tmp_path / "a.pdf"
    assert main(["incidents", "show", a, "--format", "pdf", "--output", str(out),
                 "--db", db]) == 0
    text = " ".join(page_texts(out))
    for expected in (f"Incident {a}", "Booth 1 (s1)", "Status closed", "transported",
                     "Responders peer-A, peer-B", "EHS arrived", "Naloxone doses 2:",
                     "0.4 mg IM", "intervals 15 s", "Lowest SpO", "83 %", "Timeline",
                     "Naloxone dose", "9-1-1 called", "forgot the second responder",
                     "Signed off by sup-1", "second dose worked", "Debrief offered no, held yes"):
        assert expected in text, expected
    assert "oximon incidents:" not in text  # one incident: no export heading
    assert images_in(out) == 1
    assert out.stat().st_mode & 0o777 == 0o600


def test_export_puts_each_incident_on_its_own_pages(two, tmp_path, qapp):
    db, a, b = two
    out = tmp_path / "all.pdf"
    assert main(["incidents", "export", "--format", "pdf", "--output", str(out),
                 "--db", db]) == 0
    pages = page_texts(out)
    assert pages[0].startswith("oximon incidents: 2 incidents")
    first = {iid: next(i for i, p in enumerate(pages) if f"Incident {iid}" in p)
             for iid in (a, b)}
    assert first[a] != first[b]
    assert not any(f"Incident {a}" in p and f"Incident {b}" in p for p in pages)
    b_text = " ".join(pages[first[b]:] if first[b] > first[a] else pages[:first[a]])
    assert "Gaps in monitoring" in b_text and "monitoring stopped" in b_text
    assert "not resumed" in b_text and "No SpO" in b_text and "peer-C" in b_text
    assert images_in(out) == 1  # B has no trace to draw
    # the export is in the audit log like the CSV one
    from oximon.store import open_store
    with open_store(db) as store:
        assert any(e["action"] == "exported" and e["detail"]["format"] == "pdf"
                   for e in store.access_entries())


def test_export_with_nothing_selected_says_so(two, tmp_path, qapp):
    db, _a, _b = two
    out = tmp_path / "none.pdf"
    assert main(["incidents", "export", "--format", "pdf", "--output", str(out),
                 "--since", "2099-01-01", "--db", db]) == 0
    assert "No incidents match" in " ".join(page_texts(out))


def test_unwritable_output_is_a_usage_error(two, tmp_path, capsys, qapp):
    db, a, _b = two
    code = main(["incidents", "show", a, "--format", "pdf", "--output",
                 str(tmp_path / "no" / "such" / "dir.pdf"), "--db", db])
    err = capsys.readouterr().err
    assert code == 2 and "--output" in err and "Traceback" not in err


def test_pdf_needs_no_screen(two, tmp_path):
    """A fresh process with no display and no QT_QPA_PLATFORM: the CLI goes offscreen."""
    db, a, _b = two
    out = tmp_path / "headless.pdf"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-m", "oximon", "incidents", "show", a, "--format",
                           "pdf", "--output", str(out), "--db", db], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF") and out.stat().st_mode & 0o777 == 0o600


def test_trace_chart_leaves_a_gap_where_no_reading_came(two, qapp):
    from oximon.store import open_store

    db, a, _b = two
    with open_store(db) as store:
        incident = to_incident(stored_incident(store, a))
    renderer = TraceRenderer()
    image = renderer.image(incident)
    assert image is not None
    plot = renderer.plot
    colour = QColor(SPO2_COLOUR)

    def curve_pixels(x: float) -> int:
        """Pixels of the SpO2 line in a 5-px column at x (seconds from the alarm)."""
        top = plot.layout_.mapFromScene(plot.spo2_plot.vb.mapViewToScene(QPointF(x, 100)))
        bottom = plot.layout_.mapFromScene(plot.spo2_plot.vb.mapViewToScene(QPointF(x, 70)))
        off = plot.layout_.pos()
        hits = 0
        for px in range(top.x() + off.x() - 2, top.x() + off.x() + 3):
            for py in range(top.y() + off.y(), bottom.y() + off.y()):
                c = image.pixelColor(px, py)
                hits += (abs(c.red() - colour.red()) + abs(c.green() - colour.green())
                         + abs(c.blue() - colour.blue())) < 40
        return hits

    # alarm at 30 s; readings 0-60 and 90-120 s: the gap is 30-60 s after the alarm
    assert curve_pixels(-15) > 0 and curve_pixels(15) > 0 and curve_pixels(75) > 0
    assert curve_pixels(45) == 0


def test_marker_labels_never_cover_the_trace(two, qapp):
    """Labels sit in lanes above the plots: none overlaps the SpO2 or pulse plot area, and
    the curve at the alarm is drawn in full."""
    import pyqtgraph as pg

    from oximon.store import open_store

    db, a, _b = two
    with open_store(db) as store:
        incident = to_incident(stored_incident(store, a))
    renderer = TraceRenderer()
    assert renderer.image(incident) is not None
    plot = renderer.plot
    labels = [item for item, _p in plot._markers if isinstance(item, pg.TextItem)]
    assert len(labels) >= 5  # alarm, naloxone twice, 9-1-1, EHS...
    for box in (plot.spo2_plot.vb.sceneBoundingRect(), plot.pr_plot.vb.sceneBoundingRect()):
        for label in labels:
            assert not label.sceneBoundingRect().intersects(box), label.textItem.toPlainText()
