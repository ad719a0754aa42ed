"""Printable documents: incidents (one, or an export of many) and the monthly report,
laid out as HTML on QTextDocuments and written by Qt's own PDF writer (ui/pdf.py).

This is the one place an incident becomes paper: the review screen's "Save PDF…" and
"Print…", and `oximon incidents show|export --format pdf`, all use `incident_document`.
The HTML is built from the same figures the screen and the CSV use, so paper, screen and
spreadsheet never disagree.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QImage, QTextDocument

from oximon.report import (
    COLUMNS,
    DEFINITIONS,
    HEADINGS,
    MonthlyReport,
    suppression_note,
)
from oximon.review import Incident, duration_words, figures, local_time, timeline, words
from oximon.ui.pdf import write_pdf

CSS = """
body { font-family: 'DejaVu Sans', sans-serif; font-size: 9pt; color: #212121; }
h1 { font-size: 16pt; margin-bottom: 2px; }
h2 { font-size: 11pt; margin-top: 12px; margin-bottom: 4px; color: #37474f; }
p.meta { color: #546e7a; }
p.warn { color: #b71c1c; font-weight: bold; }
table.grid { border-collapse: collapse; }
table.grid td, table.grid th { border: 1px solid #90a4ae; padding: 3px 6px; }
table.grid th { background: #eceff1; }
td.num { text-align: right; }
tr.total td { font-weight: bold; background: #f5f5f5; }
p.note { color: #455a64; font-size: 8pt; }
"""
TRACE_URL = "trace.png"


def _e(text: object) -> str:
    return html.escape(str(text))


def _yn(flag: bool) -> str:
    return "yes" if flag else "no"


# -- one incident ----------------------------------------------------------------------------
def incident_html(incident: Incident, trace_image: str | None = None,
                  heading: str = "") -> str:
    """The whole record of one incident: heading, trace chart (when `trace_image` names a
    resource), the record's fields and figures, note, timeline, amendments, sign-off.
    `heading` goes above it (an export's title on its first page)."""
    f = figures(incident)
    station = incident.label + (f" ({incident.station})" if incident.alias
                                and incident.alias != incident.station else "")
    status = incident.status + (" — interrupted: oximon stopped while it was open"
                                if incident.interrupted else "")
    opened_by = _opened_by(incident.reason) + (
        f" — {incident.opened_by}" if incident.opened_by not in ("", "oximon") else "")
    rows = [
        ("Station", station),
        ("Status", status),
        ("Opened", local_time(incident.opened_ts)),
        ("Closed", local_time(incident.closed_ts) if incident.closed_ts else "still open"),
        ("Opened by", opened_by),
        ("Outcome", incident.outcome_words or "—"),
        ("Aftercare", ", ".join(words(a) for a in incident.aftercare) or "—"),
        ("Signs seen", ", ".join(words(a) for a in incident.signs) or "—"),
        ("Substance / route", " / ".join(x for x in (incident.substance, incident.route) if x)
         or "—"),
        ("Responders", ", ".join(incident.responders) or "—"),
        ("Completed by", incident.completed_by or "—"),
        ("9-1-1 called", _clock(incident.called_911_ts) if incident.called_911 else "no"),
        ("EHS arrived", _clock(incident.ehs_arrived_ts) if incident.ehs_arrived_ts else "no"),
        ("Lowest SpO₂", "—" if f.nadir is None else
         f"{f.nadir:.0f} % at {_clock(f.nadir_ts)}"),
        ("Time below 90 %", duration_words(f.below90_s)),
        ("Time below 85 %", duration_words(f.below85_s)),
        ("Alarm → acknowledge", duration_words(f.alarm_to_ack_s)),
        ("Alarm → first action", duration_words(f.alarm_to_first_action_s)),
        ("Alarm → naloxone", duration_words(f.alarm_to_naloxone_s)),
        ("Naloxone doses", _naloxone(incident)),
        ("Debrief", f"offered {_yn(incident.debrief_offered)}, held "
         f"{_yn(incident.debrief_held or bool(incident.sign_off and incident.sign_off.debrief))}"),
    ]
    parts = [f"<html><head><style>{CSS}</style></head><body>", heading,
             f"<h1 style=\"white-space: nowrap\">Incident {_e(incident.id)}</h1>",
             f"<p class='meta'>{_e(incident.label)} · {_e(local_time(incident.opened_ts))}"
             f" · status {_e(incident.status)} · {_e(incident.review_words)}</p>"]
    if incident.amended_after_sign_off:
        parts.append("<p class='warn'>Amended after sign-off — needs review again.</p>")
    if incident.interrupted:
        parts.append("<p class='warn'>Interrupted: oximon stopped while this incident was "
                     "open; the gap in monitoring is marked below.</p>")
    if trace_image:
        parts.append(f"<p><img src='{trace_image}' width='640'></p>")
    elif not incident.trace.ts:
        parts.append("<p class='meta'>No SpO₂ trace was recorded for this incident.</p>")
    parts.append("<h2>Record</h2><table class='grid'>")
    parts += [f"<tr><th align='left'>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows]
    parts.append("</table>")
    if incident.gaps:
        parts.append("<h2>Gaps in monitoring</h2><table class='grid'><tr><th>From</th>"
                     "<th>To</th><th>Why</th></tr>")
        for start, end, why in incident.gaps:
            parts.append(f"<tr><td>{_e(local_time(start) if start else '—')}</td>"
                         f"<td>{_e(local_time(end) if end else 'not resumed')}</td>"
                         f"<td>{_e(why)}</td></tr>")
        parts.append("</table>")
    if incident.note:
        parts.append(f"<h2>Note</h2><p>{_e(incident.note)}</p>")
    parts.append("<h2>Timeline</h2><table class='grid'><tr><th>Time</th><th>What</th>"
                 "<th>By</th></tr>")
    for entry in timeline(incident):
        parts.append(f"<tr><td>{_e(_clock(entry.ts))}</td>"
                     f"<td>{_e(entry.words)}</td><td>{_e(entry.by)}</td></tr>")
    parts.append("</table>")
    if incident.amendments:
        parts.append("<h2>Amendments</h2><p class='meta'>Each correction with what the "
                     "record said before it (old → new); the original entries stay in the "
                     "timeline.</p><table class='grid'><tr><th>When</th><th>By</th>"
                     "<th>Change (old → new)</th><th>Why</th></tr>")
        for m in incident.amendments:
            when = local_time(m.ts) + (" (after sign-off)" if m.after_sign_off else "")
            parts.append(f"<tr><td>{_e(when)}</td><td>{_e(m.by)}</td>"
                         f"<td>{_e(m.what)}</td><td>{_e(m.reason)}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Supervisor review</h2>")
    for s in incident.sign_offs or ((incident.sign_off,) if incident.sign_off else ()):
        parts.append(f"<p>Signed off by {_e(s.by or 'supervisor')} on "
                     f"{_e(local_time(s.ts))}. Debrief held: {'yes' if s.debrief else 'no'}."
                     f"{'<br>' + _e(s.note) if s.note else ''}</p>")
    if incident.amended_after_sign_off:
        parts.append("<p class='warn'>Amended after the last sign-off: needs review "
                     "again.</p>")
    elif not incident.sign_off:
        parts.append("<p>Not yet signed off.</p>")
    parts.append("</body></html>")
    return "".join(parts)


def _clock(ts: float | None) -> str:
    return "—" if ts is None else local_time(ts, "%H:%M:%S")


def _naloxone(incident: Incident) -> str:
    """How many doses, when each was given and what it was, and the intervals."""
    doses = sorted((a for a in incident.actions if a.kind == "naloxone" and not a.void),
                   key=lambda a: a.ts)
    if not doses:
        return "0"
    given = []
    for a in doses:
        what = " ".join(words(str(v)) for k, v in a.details.items()
                        if k != "n" and v not in (None, ""))
        given.append(_clock(a.ts) + (f" ({what})" if what else ""))
    out = f"{len(doses)}: " + "; ".join(given)
    intervals = figures(incident).naloxone_intervals_s
    if intervals:
        out += " — intervals " + ", ".join(duration_words(s) for s in intervals)
    return out


def _opened_by(reason: str) -> str:
    if not reason or reason == "manual":
        return "a worker, by hand" if reason else "—"
    return f"high alarm ({words(reason)})"


def incident_document(incident: Incident, trace: QImage | None = None,
                      heading: str = "") -> QTextDocument:
    doc = QTextDocument()
    if trace is not None:
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(TRACE_URL), trace)
    doc.setHtml(incident_html(incident, TRACE_URL if trace is not None else None, heading))
    return doc


class TraceRenderer:
    """Draws incidents' traces offscreen at a fixed size, for paper: the review screen's
    own plot (markers for alarms, acknowledgements and actions; gaps drawn as gaps), made
    once and reused for every incident of an export."""

    def __init__(self, width: int = 1600, height: int = 800):
        from oximon.ui.review.trace_plot import TracePlot

        self.plot = TracePlot()
        self.plot.resize(width, height)
        self.plot.label_pt = 13

    def image(self, incident: Incident) -> QImage | None:
        """The chart, or None when the incident has no trace to draw."""
        if not incident.trace.ts:
            return None
        self.plot.set_incident(incident)
        self.plot.cursor_line.hide()
        self.plot.cursor_pr.hide()
        return self.plot.grab().toImage()


def render_trace_image(incident: Incident, width: int = 1600, height: int = 800
                       ) -> QImage | None:
    return TraceRenderer(width, height).image(incident)


def write_incident_pdf(incident: Incident, path: str | Path) -> None:
    write_pdf(incident_document(incident, render_trace_image(incident)), path,
              f"oximon incident {incident.id}")


def incident_documents(incidents: Iterable[Incident], heading: str = "",
                       ) -> Iterator[QTextDocument]:
    """One document per incident, made as the writer asks for it (so a long export holds
    one trace image at a time); the first carries `heading` and when it was made."""
    renderer: TraceRenderer | None = None
    top = ""
    if heading:
        top = (f"<p class='meta'><b>{_e(heading)}</b> · made "
               f"{_e(datetime.now().astimezone().strftime('%Y-%m-%d %H:%M'))} by oximon</p>")
    for incident in incidents:
        trace = None
        if incident.trace.ts:
            renderer = renderer or TraceRenderer()
            trace = renderer.image(incident)
        yield incident_document(incident, trace, top)
        top = ""


def write_incidents_pdf(incidents: Iterable[Incident], path: str | Path, title: str,
                        heading: str | None = None) -> int:
    """Incidents into one PDF, each starting on a new page; returns the page count.
    `title` is the PDF's own title; `heading` (default: the title; "" for none) is printed
    above the first incident. With no incidents the PDF says so."""
    heading = title if heading is None else heading
    return write_pdf(_or_empty(incident_documents(incidents, heading), title), path, title)


def _or_empty(documents: Iterator[QTextDocument], title: str) -> Iterator[QTextDocument]:
    empty = True
    for doc in documents:
        empty = False
        yield doc
    if empty:
        doc = QTextDocument()
        doc.setHtml(f"<html><head><style>{CSS}</style></head><body><h1>{_e(title)}</h1>"
                    "<p>No incidents match.</p></body></html>")
        yield doc


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
    # Bold through <b>, not the <th> style: Qt sizes a column by the regular weight of a
    # <th>'s text and then breaks its bold words ("acknowled-ge").
    # nowrap: a heading breaks at its <br>s only. Qt sizes a column for the regular weight
    # of its text, so a bold heading word could otherwise be broken ("acknowled-ge").
    parts += [f"<th style='{HEADING_STYLE}'>{PDF_HEADINGS.get(c) or _e(HEADINGS[c])}</th>"
              for c in COLUMNS]
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


# Qt drops the stylesheet's border and background of a cell with a style of its own.
HEADING_STYLE = "white-space: nowrap; border: 1px solid #90a4ae; background: #eceff1"
PDF_HEADINGS = {  # where a narrow column may break its heading
    "naloxone_doses": "Naloxone<br>doses", "calls_911": "9-1-1<br>calls",
    "median_alarm_to_ack_s": "Median<br>alarm →<br>acknowledge<br>(s)",
    "median_alarm_to_first_action_s": "Median<br>alarm →<br>first action<br>(s)",
}


def _secs(cell: str) -> str:
    return f"{cell} s" if cell and cell[0].isdigit() else (cell or "—")


def write_monthly_pdf(report: MonthlyReport, path: str | Path, site: str = "") -> None:
    doc = QTextDocument()
    doc.setHtml(monthly_html(report, site))
    write_pdf(doc, path, f"oximon monthly report {report.month_key}")
