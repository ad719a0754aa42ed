"""The monthly report to the health authority: figures per station and in total.

Pure (no Qt, no SQL): it takes `oximon.review.Incident` records and a month, and returns a
table; CSV is written here, the PDF by the UI layer (Qt's PDF writer) from the same table,
so both formats always carry the same numbers.

Small counts are suppressed in exported aggregate tables (the usual public-health rule,
so a count of 1–4 at one booth in one month cannot point to a person): a count from 1 to
4 is shown as "<5", a median from fewer than 5 incidents is not shown, and
complementary suppression makes sure no hidden count can be worked out from the total and
the counts shown: the smallest shown counts of the column are hidden too until the hidden
ones add up to at least 5 and no hidden cell has a single possible value (one hidden cell;
all of them 1; all of them 4), and when no count is left to hide, the total is hidden. A
setting turns this off for internal use (`[review] suppress_small_counts = false` in the
profile).
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from oximon.private_files import open_private
from oximon.review import Incident, figures
from oximon.safe_text import csv_cell

SMALL_COUNT = 5
SUPPRESSED = "<5"
MEDIAN_SUPPRESSED = "n<5"
TOTAL = "All stations"

COUNT_COLUMNS = ("incidents", "naloxone_doses", "calls_911", "transports")
MEDIAN_COLUMNS = ("median_alarm_to_ack_s", "median_alarm_to_first_action_s")
COLUMNS = ("station", *COUNT_COLUMNS, *MEDIAN_COLUMNS)
HEADINGS = {
    "station": "Station", "incidents": "Incidents", "naloxone_doses": "Naloxone doses",
    "calls_911": "9-1-1 calls", "transports": "Transports",
    "median_alarm_to_ack_s": "Median alarm → acknowledge (s)",
    "median_alarm_to_first_action_s": "Median alarm → first action (s)",
}

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> tuple[int, int]:
    """ "2026-03" -> (2026, 3); ValueError with the reason otherwise."""
    m = _MONTH.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a month in the form YYYY-MM")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"{text!r}: the month is {month}; months are 01 to 12")
    if year < 2000:
        raise ValueError(f"{text!r}: the year is {year}; give a year from 2000 on (no "
                         "incident can be recorded before then)")
    return year, month


def month_bounds(year: int, month: int) -> tuple[float, float]:
    """Epoch seconds of the first instant of the month and of the next, in local time
    (the site's calendar month, with its own daylight-saving rules)."""
    nxt = (year + 1, 1) if month == 12 else (year, month + 1)
    start = datetime(year, month, 1).astimezone()
    end = datetime(nxt[0], nxt[1], 1).astimezone()
    return start.timestamp(), end.timestamp()


@dataclass(frozen=True)
class Row:
    station: str
    label: str
    incidents: int
    naloxone_doses: int
    calls_911: int
    transports: int
    median_alarm_to_ack_s: float | None
    median_alarm_to_first_action_s: float | None
    n_ack: int = 0  # how many incidents each median is taken over
    n_first_action: int = 0


@dataclass(frozen=True)
class MonthlyReport:
    year: int
    month: int
    stations: tuple[Row, ...]
    total: Row
    suppress: bool = True
    reviewed: int = 0  # incidents signed off (for the supervisor's cover note)
    generated: datetime = field(default_factory=lambda: datetime.now().astimezone())

    @property
    def title(self) -> str:
        return f"{date(self.year, self.month, 1):%B %Y}"

    @property
    def month_key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def table(self) -> list[dict[str, str]]:
        """The exported table (strings), suppression applied when the setting is on."""
        rows = [*self.stations, self.total]
        cells = [_cells(r) for r in rows]
        if self.suppress:
            _suppress(rows, cells)
        return cells


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _row(station: str, label: str, incidents: list[Incident]) -> Row:
    figs = [figures(i) for i in incidents]
    acks = [f.alarm_to_ack_s for f in figs if f.alarm_to_ack_s is not None]
    firsts = [f.alarm_to_first_action_s for f in figs if f.alarm_to_first_action_s is not None]
    return Row(
        station=station, label=label, incidents=len(incidents),
        naloxone_doses=sum(f.naloxone_doses for f in figs),
        calls_911=sum(1 for i in incidents if i.called_911),
        transports=sum(1 for i in incidents if i.transported),
        median_alarm_to_ack_s=_median(acks), median_alarm_to_first_action_s=_median(firsts),
        n_ack=len(acks), n_first_action=len(firsts),
    )


def build_report(incidents: Iterable[Incident], year: int, month: int, *,
                 suppress: bool = True, stations: Iterable[tuple[str, str]] = ()) -> MonthlyReport:
    """Figures for incidents opened in the (local) calendar month.

    `stations` lists (id, label) of stations to show even with no incident (a booth with
    none is worth reporting too); others appear as their incidents name them.
    """
    start, end = month_bounds(year, month)
    chosen = [i for i in incidents if start <= i.opened_ts < end
              and "opened_in_error" not in i.outcome]  # discarded: not a response
    labels: dict[str, str] = dict(stations)
    for i in chosen:
        labels.setdefault(i.station, i.label)
    by_station: dict[str, list[Incident]] = {sid: [] for sid in labels}
    for i in chosen:
        by_station[i.station].append(i)
    rows = tuple(_row(sid, labels[sid], by_station[sid]) for sid in sorted(labels, key=_natural))
    return MonthlyReport(year, month, rows, _row("", TOTAL, chosen), suppress=suppress,
                         reviewed=sum(1 for i in chosen if i.reviewed))


def _natural(text: str) -> list[object]:
    """Booth 2 before Booth 10."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]


def _cells(row: Row) -> dict[str, str]:
    out = {"station": row.label}
    for col in COUNT_COLUMNS:
        out[col] = str(getattr(row, col))
    for col in MEDIAN_COLUMNS:
        value = getattr(row, col)
        out[col] = "" if value is None else f"{value:g}"
    return out


def _suppress(rows: list[Row], cells: list[dict[str, str]]) -> None:
    for col in COUNT_COLUMNS:
        values = [getattr(r, col) for r in rows]
        for i, v in enumerate(values):
            if 0 < v < SMALL_COUNT:
                cells[i][col] = SUPPRESSED
        if cells[-1][col] == SUPPRESSED:
            continue  # a small total hides nothing the stations' cells do not already
        stations = range(len(rows) - 1)
        while _derivable([values[i] for i in stations if cells[i][col] == SUPPRESSED]):
            # Complementary suppression: hide the smallest count still shown...
            shown = [(values[i], i) for i in stations
                     if cells[i][col] != SUPPRESSED and values[i] > 0]
            if not shown:  # ... or, with none left, the total
                cells[-1][col] = SUPPRESSED
                break
            cells[min(shown)[1]][col] = SUPPRESSED
    for col, n_attr in zip(MEDIAN_COLUMNS, ("n_ack", "n_first_action"), strict=True):
        for r, c in zip(rows, cells, strict=True):
            if c[col] and getattr(r, n_attr) < SMALL_COUNT:
                c[col] = MEDIAN_SUPPRESSED


def _derivable(hidden: list[int]) -> bool:
    """Could a reader work out a hidden cell (or a small group of them) from the total and
    the cells shown? They learn the hidden cells' sum and that each is at least 1 (a 0 is
    shown), and at most 4 if they take "<5" at its word."""
    n, total = len(hidden), sum(hidden)
    if n == 0:
        return False
    return (n == 1 or total < SMALL_COUNT or total == n
            or (all(v < SMALL_COUNT for v in hidden) and total == (SMALL_COUNT - 1) * n))


def to_csv(report: MonthlyReport) -> str:
    buf = io.StringIO()
    # Every cell quoted, control characters neutralised, formulas made text (safe_text).
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["month", *COLUMNS])
    for cells in report.table():
        writer.writerow([report.month_key, *(csv_cell(cells[c]) for c in COLUMNS)])
    return buf.getvalue()


def write_private_text(path: str | Path, text: str) -> None:
    """Write an export as a private file (0600): reports stay on this machine's account."""
    with open_private(path) as fh:
        fh.write(text)


DEFINITIONS = [
    ("Incident", "an episode opened by a high alarm or by hand, counted in the month it "
     "opened (local time)."),
    ("Naloxone doses", "every dose recorded, so one incident may count several."),
    ("9-1-1 calls", "incidents in which 9-1-1 was called."),
    ("Transports", "incidents whose outcome includes transport by EHS."),
    ("Alarm → acknowledge", "from the first high alarm of the incident to its "
     "acknowledgement by a worker."),
    ("Alarm → first action", "from the first high alarm to the first response recorded "
     "(stimulation, airway, breaths, oxygen, naloxone, 9-1-1, recovery position, CPR)."),
]


def suppression_note(report: MonthlyReport) -> str:
    if not report.suppress:
        return ("Small counts are NOT suppressed in this report (setting turned off): "
                "for internal use only.")
    return (f"Counts from 1 to {SMALL_COUNT - 1} are shown as \"{SUPPRESSED}\"; so that no "
            "hidden count can be worked out from the total, further counts of the column (or "
            f"the total) are hidden with the same mark, whatever their size; medians over "
            f"fewer than {SMALL_COUNT} incidents are shown as \"{MEDIAN_SUPPRESSED}\".")
