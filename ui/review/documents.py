"""Printable documents: one incident, and the monthly report, as PDF through Qt's own PDF
writer (QTextDocument laid out on a QPdfWriter page: no extra PDF library to ship).

The HTML is built from the same figures the screen and the CSV use, so paper, screen and
spreadsheet never disagree.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from PySide6.QtCore import QMarginsF, QUrl
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPdfWriter, QTextDocument

from oximon.report import (
    COLUMNS,
    DEFINITIONS,
    HEADINGS,
    MonthlyReport,
    suppression_note,
)
from oximon.review import Incident, duration_words, figures, local_time, timeline, words

CSS = """
body { font-family: 'DejaVu Sans', sans-serif; font-size: 9pt; color: #212121; }
h1 { font-size: 16pt; margin-bottom: 2px; }
h2 { font-size: 11pt; margin-top: 12px; margin-bottom: 4px; color: #37474f; }
p.meta { color: #546e7a; }
table.grid { border-collapse: collapse; }
table.grid td, table.grid th { border: 1px solid #90a4ae; padding: 3px 6px; }
table.grid th { background: #eceff1; }
td.num { text-align: right; }
tr.total td { font-weight: bold; background: #f5f5f5; }
p.note { color: #455a64; font-size: 8pt; }
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def _private_file(path: Path) -> None:
    """Create (or truncate) the output as a private file before Qt writes into it."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def write_pdf(document: QTextDocument, path: str | Path, title: str) -> None:
    path = Path(path)
    _private_file(path)
    writer = QPdfWriter(str(path))
    writer.setTitle(title)
    writer.setCreator("oximon")
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.Letter))
    writer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter)
    writer.setResolution(300)
    # No page size on the document: print_() then lays it out on the writer's page at
    # the screen's dots per inch, so point sizes come out true on paper.
    document.print_(writer)


# -- one incident ----------------------------------------------------------------------------
def incident_html(incident: Incident, trace_image: str | None = None) -> str:
    f = figures(incident)
    rows = [
        ("Station", incident.label),
        ("Opened", local_time(incident.opened_ts)),
        ("Closed", local_time(incident.closed_ts) if incident.closed_ts else "still open"),
        ("Opened by", _opened_by(incident.reason)),
        ("Outcome", incident.outcome_words or "—"),
        ("Aftercare", ", ".join(words(a) for a in incident.aftercare) or "—"),
        ("Signs seen", ", ".join(words(a) for a in incident.signs) or "—"),
        ("Substance / route", " / ".join(x for x in (incident.substance, incident.route) if x)
         or "—"),
        ("9-1-1 called", local_time(incident.called_911_ts, "%H:%M:%S")
         if incident.called_911_ts else "no"),
        ("Lowest SpO₂", "—" if f.nadir is None else
         f"{f.nadir:.0f} % at {local_time(f.nadir_ts, '%H:%M:%S')}"),
        ("Time below 90 %", duration_words(f.below90_s)),
        ("Time below 85 %", duration_words(f.below85_s)),
        ("Alarm → acknowledge", duration_words(f.alarm_to_ack_s)),
        ("Alarm → first action", duration_words(f.alarm_to_first_action_s)),
        ("Alarm → naloxone", duration_words(f.alarm_to_naloxone_s)),
        ("Naloxone doses", str(f.naloxone_doses) + (
            " (intervals " + ", ".join(duration_words(s) for s in f.naloxone_intervals_s) + ")"
            if f.naloxone_intervals_s else "")),
    ]
    parts = [f"<html><head><style>{CSS}</style></head><body>",
             f"<h1>Incident {_e(incident.id)}</h1>",
             f"<p class='meta'>{_e(incident.label)} · {_e(local_time(incident.opened_ts))}"
             f" · status {_e(incident.status)}"
             f"{' · signed off' if incident.reviewed else ' · not yet reviewed'}</p>"]
    if trace_image:
        parts.append(f"<p><img src='{trace_image}' width='640'></p>")
    parts.append("<h2>Figures</h2><table class='grid'>")
    parts += [f"<tr><th align='left'>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows]
    parts.append("</table>")
    if incident.note:
        parts.append(f"<h2>Note</h2><p>{_e(incident.note)}</p>")
    parts.append("<h2>Timeline</h2><table class='grid'><tr><th>Time</th><th>What</th>"
                 "<th>By</th></tr>")
    for entry in timeline(incident):
        parts.append(f"<tr><td>{_e(local_time(entry.ts, '%H:%M:%S'))}</td>"
                     f"<td>{_e(entry.words)}</td><td>{_e(entry.by)}</td></tr>")
    parts.append("</table>")
    if incident.amendments:
        parts.append("<h2>Amendments</h2><table class='grid'><tr><th>When</th><th>By</th>"
                     "<th>Change</th><th>Why</th></tr>")
        for m in incident.amendments:
            parts.append(f"<tr><td>{_e(local_time(m.ts))}</td><td>{_e(m.by)}</td>"
                         f"<td>{_e(m.what)}</td><td>{_e(m.reason)}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Supervisor review</h2>")
    if incident.sign_off:
        s = incident.sign_off
        parts.append(f"<p>Signed off by {_e(s.by or 'supervisor')} on "
                     f"{_e(local_time(s.ts))}. Debrief held: {'yes' if s.debrief else 'no'}."
                     f"{'<br>' + _e(s.note) if s.note else ''}</p>")
    else:
        parts.append("<p>Not yet signed off.</p>")
    parts.append("</body></html>")
    return "".join(parts)


def _opened_by(reason: str) -> str:
    if not reason or reason == "manual":
        return "a worker, by hand" if reason else "—"
    return f"high alarm ({words(reason)})"


def incident_document(incident: Incident, trace: QImage | None = None) -> QTextDocument:
    doc = QTextDocument()
    if trace is not None:
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl("trace.png"), trace)
    doc.setHtml(incident_html(incident, "trace.png" if trace is not None else None))
    return doc


def render_trace_image(incident: Incident, width: int = 1600, height: int = 800) -> QImage:
    """The trace plot drawn offscreen at a fixed size, for paper."""
    from ui.review.trace_plot import TracePlot

    plot = TracePlot()
    plot.resize(width, height)
    plot.label_pt = 13
    plot.lane_step = 3.2
    plot.set_incident(incident)
    plot.cursor.hide()
    plot.cursor_pr.hide()
    return plot.grab().toImage()


def write_incident_pdf(incident: Incident, path: str | Path) -> None:
    doc = incident_document(incident, render_trace_image(incident))
    write_pdf(doc, path, f"oximon incident {incident.id}")


# -- the monthly report -----------------------------------------------------------------------
def monthly_html(report: MonthlyReport, site: str = "") -> str:
    t = report.total
    parts = [f"<html><head><style>{CSS}</style></head><body>",
             f"<h1>Monthly report — {_e(report.title)}</h1>",
             f"<p class='meta'>{_e(site) + ' · ' if site else ''}Incidents opened "
             f"{report.month_key}-01 to the end of the month (local time) · generated "
             f"{_e(report.generated.strftime('%Y-%m-%d %H:%M'))} by oximon</p>"]
    table = report.table()
    total = table[-1]
    parts.append(
        "<h2>Summary</h2><p>"
        f"Incidents: <b>{_e(total['incidents'])}</b> · naloxone doses: "
        f"<b>{_e(total['naloxone_doses'])}</b> · 9-1-1 calls: <b>{_e(total['calls_911'])}</b>"
        f" · transports: <b>{_e(total['transports'])}</b> · median alarm → acknowledge: "
        f"<b>{_e(_secs(total['median_alarm_to_ack_s']))}</b> · median alarm → first action:"
        f" <b>{_e(_secs(total['median_alarm_to_first_action_s']))}</b>. "
        f"Signed off by a supervisor: {report.reviewed} of {t.incidents}.</p>")
    parts.append("<h2>Per station</h2><table class='grid' width='100%'><tr>")
    parts += [f"<th>{PDF_HEADINGS.get(c) or _e(HEADINGS[c])}</th>" for c in COLUMNS]
    parts.append("</tr>")
    for i, cells in enumerate(table):
        cls = " class='total'" if i == len(table) - 1 else ""
        parts.append(f"<tr{cls}>")
        for c in COLUMNS:
            align = "" if c == "station" else " class='num'"
            parts.append(f"<td{align}>{_e(cells[c] or '—')}</td>")
        parts.append("</tr>")
    parts.append("</table>")
    parts.append(f"<p class='note'>{_e(suppression_note(report))}</p>")
    parts.append("<h2>Definitions</h2><table>")
    parts += [f"<tr><td><b>{_e(k)}</b></td><td>{_e(v)}</td></tr>" for k, v in DEFINITIONS]
    parts.append("</table><p class='note'>No names: stations are shown by their booth "
                 "alias. Figures come from the incident log, which is hash-chained "
                 "(<i>oximon incidents verify</i> checks it).</p></body></html>")
    return "".join(parts)


PDF_HEADINGS = {  # where a narrow column may break its heading
    "naloxone_doses": "Naloxone<br>doses", "calls_911": "9-1-1<br>calls",
    "median_alarm_to_ack_s": "Median alarm →<br>acknowledge<br>(s)",
    "median_alarm_to_first_action_s": "Median alarm →<br>first action (s)",
}


def _secs(cell: str) -> str:
    return f"{cell} s" if cell and cell[0].isdigit() else (cell or "—")


def write_monthly_pdf(report: MonthlyReport, path: str | Path, site: str = "") -> None:
    doc = QTextDocument()
    doc.setHtml(monthly_html(report, site))
    write_pdf(doc, path, f"oximon monthly report {report.month_key}")
