"""Incident records as text, CSV and JSON (for `oximon incidents`).

Every CSV text cell is quoted, its control characters (CR, LF, tab, ESC...) become spaces
and one a spreadsheet would run as a formula (starting with = + - @) is prefixed with an
apostrophe (`oximon.safe_text.csv_cell`): a station alias or a note typed at a site must
never start a new row or become a command in a supervisor's spreadsheet. Text for the
terminal has its control characters removed the same way. The PDF is drawn by the UI layer
(ui/review/documents.py, the same page the review screen prints), which the CLI calls:
the store never imports Qt.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from oximon.safe_text import csv_cell, terminal_text
from oximon.store.query import IncidentSummary, Problem
from oximon.store.record import IncidentRecord
from oximon.store.timebase import describe, label

CSV_COLUMNS = [
    "id", "station", "alias", "opened", "closed", "status", "interrupted", "reason",
    "naloxone_doses", "naloxone_times", "naloxone_detail", "called_911", "ehs_arrived",
    "outcome", "aftercare", "nadir_spo2", "nadir_time", "below_90_s", "below_85_s", "signs",
    "substance", "route", "responders", "completed_by", "debrief", "reviewed", "reviewed_by",
    "amendments", "timeline",
]


def when(ts: float | None) -> str:
    """Local time, to the second, with its UTC offset (what a supervisor reads)."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def safe_cell(value: Any) -> Any:
    """A CSV cell: control characters neutralised, formulas made text (see module doc)."""
    return csv_cell(value)


def _num(x: float | None, digits: int = 0) -> str:
    if x is None or math.isnan(x):
        return ""
    return f"{x:.{digits}f}"


def csv_row(rec: IncidentRecord) -> dict[str, Any]:
    doses = rec.naloxone
    detail = "; ".join(" ".join(str(v) for v in d.get("details", {}).values()) or "dose"
                       for d in doses)
    return {
        "id": rec.id, "station": rec.station, "alias": rec.alias, "opened": when(rec.opened_ts),
        "closed": when(rec.closed_ts), "status": rec.status,
        "interrupted": "yes" if rec.interrupted else "no", "reason": rec.reason,
        "naloxone_doses": len(doses), "naloxone_times": "; ".join(when(d["ts"]) for d in doses),
        "naloxone_detail": detail,
        "called_911": when(rec.called_911_ts), "ehs_arrived": when(rec.ehs_arrived_ts),
        "outcome": ", ".join(rec.outcome), "aftercare": ", ".join(rec.aftercare),
        "nadir_spo2": _num(rec.nadir), "nadir_time": when(rec.nadir_ts),
        "below_90_s": _num(rec.below90_s), "below_85_s": _num(rec.below85_s),
        "signs": ", ".join(rec.signs), "substance": rec.substance, "route": rec.route,
        "responders": ", ".join(rec.responders), "completed_by": rec.completed_by,
        "debrief": "yes" if rec.debrief else "no", "reviewed": "yes" if rec.reviewed else "no",
        "reviewed_by": rec.sign_offs[-1]["by"] if rec.sign_offs else "",
        "amendments": len(rec.amendments), "timeline": label(rec.timeline) or "",
    }


def to_csv(records: Iterable[IncidentRecord]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n",
                            quoting=csv.QUOTE_NONNUMERIC)
    writer.writeheader()
    for rec in records:
        writer.writerow({k: safe_cell(v) for k, v in csv_row(rec).items()})
    return out.getvalue()


def record_json(rec: IncidentRecord) -> dict[str, Any]:
    d = rec.to_dict()
    d["opened"], d["closed"] = when(rec.opened_ts), when(rec.closed_ts)
    return d


def to_json(records: Iterable[IncidentRecord]) -> str:
    return json.dumps([record_json(r) for r in records], indent=2, ensure_ascii=False) + "\n"


def list_text(rows: list[IncidentSummary]) -> str:
    return terminal_text(_list_text(rows))


def _list_text(rows: list[IncidentSummary]) -> str:
    if not rows:
        return "no incidents\n"
    lines = [f"{'id':<28} {'opened':<25} {'station':<10} {'status':<7} {'nalox':>5} "
             f"{'911':>3} {'nadir':>5} {'outcome':<20} reviewed"]
    for r in rows:
        status = r.status + ("*" if r.interrupted else "")
        lines.append(f"{r.id:<28} {when(r.opened_ts):<25} {r.station:<10} {status:<7} "
                     f"{r.naloxone_doses:>5} {'yes' if r.called_911_ts else 'no':>3} "
                     f"{_num(r.nadir):>5} {(r.outcome or ''):<20} "
                     f"{'yes' if r.reviewed else 'no'}"
                     f"{'  [' + r.timeline + ']' if r.timeline else ''}")
    if any(r.interrupted for r in rows):
        lines.append("* interrupted: oximon stopped while the incident was open")
    if any(r.timeline for r in rows):
        lines.append("[simulated ...]: not live monitoring (a simulator or a recording, or "
                     "a run at another speed): not a person's record")
    return "\n".join(lines) + "\n"


def record_text(rec: IncidentRecord) -> str:
    """One incident as a supervisor reads it in a terminal (no escape codes get through)."""
    return terminal_text(_record_text(rec))


def _record_text(rec: IncidentRecord) -> str:
    out = [f"Incident {rec.id} — {rec.alias or rec.station} ({rec.station})",
           f"  status      {rec.status}{' (interrupted)' if rec.interrupted else ''}"
           f"{' — closed by oximon, outcome not recorded' if rec.auto_closed else ''}",
           f"  opened      {when(rec.opened_ts)}  ({rec.reason}, by {rec.opened_by})",
           f"  closed      {when(rec.closed_ts)}{_virtual(rec.virtual_s)}",
           f"  outcome     {', '.join(rec.outcome)}",
           f"  aftercare   {', '.join(rec.aftercare)}",
           f"  lowest SpO2 {_num(rec.nadir)} % at {when(rec.nadir_ts)}; below 90 %: "
           f"{_num(rec.below90_s)} s, below 85 %: {_num(rec.below85_s)} s",
           f"  naloxone    {len(rec.naloxone)} dose(s)"
           + "".join(f"\n              {when(d['ts'])} {_details(d)}" for d in rec.naloxone),
           f"  911 called  {when(rec.called_911_ts)}",
           f"  EHS arrived {when(rec.ehs_arrived_ts)}",
           f"  signs       {', '.join(rec.signs)}",
           f"  substance   {rec.substance}  route {rec.route}",
           f"  responders  {', '.join(rec.responders)}; completed by {rec.completed_by}",
           f"  debrief     offered {_yn(rec.debrief_offered)}, held {_yn(rec.debrief_held)}"]
    if rec.timeline:
        out.insert(1, f"  RUN         {describe(rec.timeline)}")
    for g in rec.gaps:
        out.append(f"  GAP         {when(g['start'])} → {when(g['end'])}: {g['reason']}")
    out.append("  timeline")
    timeline = [(a["ts"], a.get("t"),
                 f"alarm {a.get('condition')} {a.get('state')} ({a.get('priority')})")
                for a in rec.alarms]
    timeline += [(a["ts"], a.get("t"), f"{a['action']} {_details(a)}"
                  f"{' [voided by amendment]' if a.get('void') else ''}"
                  f"{' [added by amendment]' if a.get('amended') else ''} — {a['by']}")
                 for a in rec.actions]
    for ts, t, text in sorted(timeline, key=lambda x: x[0]):
        out.append(f"    {when(ts)}{_offset(rec, t)}  {text}")
    for a in rec.amendments:
        out.append(f"  amendment   {when(a['ts'])} by {a['by']}: {a['reason']}")
        for key, new in a["changes"].items():
            out.append(f"              {key}: {_value(a.get('was', {}).get(key, ''))} → "
                       f"{_value(new)}")
    for s in rec.sign_offs:
        out.append(f"  signed off  {when(s['ts'])} by {s['by']}"
                   f"{' (debrief)' if s.get('debrief') else ''}: {s.get('note', '')}")
    if rec.amended_after_sign_off:
        out.append("  REVIEW      amended after sign-off — needs review again")
    if rec.trace is not None:
        valid = sum(1 for r in rec.trace if r["spo2"] is not None)
        gaps = sum(1 for r in rec.trace if r.get("gap_before"))
        out.append(f"  trace       {len(rec.trace)} seconds, {valid} with a reading, "
                   f"{gaps} gap(s) with no data")
    return "\n".join(out) + "\n"


def _virtual(seconds: float | None) -> str:
    """A compressed run's incident: its length in the scenario's (virtual) time."""
    return "" if seconds is None else f"  (lasted {_clock(seconds)} of virtual time)"


def _offset(rec: IncidentRecord, t: float | None) -> str:
    """A compressed run's entry: its virtual offset from the incident's opening."""
    if not rec.compressed:
        return ""
    if t is None or rec.opened_t is None:
        return " " * 12
    return f"  {_clock(t - rec.opened_t):>10}"


def _clock(seconds: float) -> str:
    sign = "-" if seconds < 0 else "+"
    m, s = divmod(abs(round(seconds)), 60)
    return f"{sign}{m}:{s:02d} v"


def _value(value: Any) -> str:
    """An amended field's value as a supervisor reads it (times local, lists joined)."""
    if value is None or value == "" or value == []:
        return "(none)"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and value > 1e9:
        return when(value)
    return str(value)


def alarm_history_text(entries: list[dict[str, Any]]) -> str:
    """The alarm log over an incident's period (its station and the system)."""
    return terminal_text(_alarm_history_text(entries))


def _alarm_history_text(entries: list[dict[str, Any]]) -> str:
    if not entries:
        return "  alarm log   (no alarm changes recorded in this period)\n"
    out = ["  alarm log   every alarm change for this station and the system, from 5 min "
           "before the incident opened"]
    for e in entries:
        what = e.get("condition") or e.get("kind")
        who = f" — {e['by']}" if e.get("by") else ""
        tech = " technical" if e.get("technical") else ""
        prio = f" ({e['priority']}{tech})" if e.get("priority") else ""
        out.append(f"    {when(e['ts'])}  {e.get('station') or '-':<10} {what} "
                   f"{e['state']}{prio}{who}")
    return "\n".join(out) + "\n"


def heads_text(heads: dict[str, tuple[int, str]]) -> str:
    """The chain heads, for a supervisor to note outside the database."""
    lines = ["chain heads (note them down; a later verify should show these records "
             "unchanged):"]
    lines += [f"  {name:<9} #{seq} {h}" for name, (seq, h) in heads.items()]
    return "\n".join(lines) + "\n"


def _details(a: dict[str, Any]) -> str:
    d = a.get("details") or {}
    return " ".join(f"{k}={v}" for k, v in d.items())


def _yn(b: bool) -> str:
    return "yes" if b else "no"


def problems_text(events: int, incidents: int, problems: list[Problem]) -> str:
    if not problems:
        return (f"ok: {events} records (incidents, audit and alarm logs) in {incidents} "
                "incidents; chains intact\n")
    lines = [f"FAILED: {len(problems)} problem(s) in {events} records / {incidents} incidents"]
    lines += [f"  {p.message}" for p in problems]
    return "\n".join(lines) + "\n"
