"""The monthly report's numbers: per station, totals, medians, small-count suppression."""

from __future__ import annotations

import csv
import io
import itertools
import time
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oximon.report import (
    MEDIAN_SUPPRESSED,
    SUPPRESSED,
    build_report,
    month_bounds,
    parse_month,
    to_csv,
)
from oximon.review import Action, AlarmSpan, Incident


@pytest.fixture(autouse=True)
def vancouver(monkeypatch):
    monkeypatch.setenv("TZ", "America/Vancouver")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def at(day: int, hour: int = 12, month: int = 3) -> float:
    return datetime(2026, month, day, hour).astimezone().timestamp()


def incident(n: int, station: str, opened: float, *, ack: float | None = 10,
             first: float | None = 20, doses: int = 0, called: bool = False,
             outcome: tuple[str, ...] = ("responsive",)) -> Incident:
    actions = []
    if first is not None:
        actions.append(Action(opened + first, "stimulated"))
    actions += [Action(opened + 60 + 300 * k, "naloxone") for k in range(doses)]
    if called:
        actions.append(Action(opened + 45, "911_called"))
    alarms = (AlarmSpan("spo2_low", "high", opened,
                        None if ack is None else opened + ack),)
    return Incident(f"i{n}", station, opened, alias=station.replace("st-", "Booth "),
                    status="closed", closed_ts=opened + 900, outcome=outcome,
                    actions=tuple(actions), alarms=alarms)


def test_parse_month():
    assert parse_month("2026-03") == (2026, 3)
    for bad in ("2026-13", "2026-3", "March", "26-03", "2026-00"):
        with pytest.raises(ValueError):
            parse_month(bad)


def test_month_bounds_are_local_calendar_month():
    start, end = month_bounds(2026, 3)  # DST starts 8 March in Vancouver
    assert datetime.fromtimestamp(start).strftime("%Y-%m-%d %H:%M") == "2026-03-01 00:00"
    assert end - start == 31 * 86400 - 3600


def month_of_incidents() -> list[Incident]:
    out = []
    # Booth 1: 6 incidents, acks 10..60 s (median 35), 8 doses, 5 calls, 2 transports
    for k in range(6):
        out.append(incident(k, "st-1", at(k + 1), ack=10 * (k + 1), first=30 + k,
                            doses=2 if k < 2 else 1, called=k < 5,
                            outcome=("transported",) if k < 2 else ("responsive",)))
    # Booth 2: 7 incidents, 1 dose, 0 calls, 0 transports
    for k in range(7):
        out.append(incident(10 + k, "st-2", at(k + 1, 15), ack=20, first=40,
                            doses=1 if k == 0 else 0))
    # Booth 10: 2 incidents, 3 doses, 1 call, 1 transport
    out.append(incident(20, "st-10", at(3), doses=3, called=True, outcome=("transported",)))
    out.append(incident(21, "st-10", at(4), ack=None, first=None))
    # outside the month (local time): the last evening of February and 1 April 00:30
    out.append(incident(30, "st-1", at(28, 23, month=2), doses=5))
    out.append(incident(31, "st-1", datetime(2026, 4, 1, 0, 30).astimezone().timestamp()))
    return out


def test_numbers_without_suppression():
    r = build_report(month_of_incidents(), 2026, 3, suppress=False,
                     stations=[("st-3", "Booth 3")])
    rows = {row["station"]: row for row in r.table()}
    assert list(rows) == ["Booth 1", "Booth 2", "Booth 3", "Booth 10", "All stations"]
    b1 = rows["Booth 1"]
    assert (b1["incidents"], b1["naloxone_doses"], b1["calls_911"], b1["transports"]) == \
        ("6", "8", "5", "2")
    assert b1["median_alarm_to_ack_s"] == "35"
    assert b1["median_alarm_to_first_action_s"] == "32.5"
    assert rows["Booth 3"]["incidents"] == "0" and rows["Booth 3"]["median_alarm_to_ack_s"] == ""
    total = rows["All stations"]
    assert (total["incidents"], total["naloxone_doses"], total["calls_911"],
            total["transports"]) == ("15", "12", "6", "3")
    # medians over every incident with an acknowledged alarm (14 of 15)
    assert total["median_alarm_to_ack_s"] == "20"
    assert r.total.n_ack == 14 and r.total.n_first_action == 14


def test_small_counts_suppressed_with_complement():
    r = build_report(month_of_incidents(), 2026, 3)
    rows = {row["station"]: row for row in r.table()}
    # Booth 10 has 2 incidents: hidden; Booth 1 (6) is the next smallest: hidden too
    assert rows["Booth 10"]["incidents"] == SUPPRESSED
    assert rows["Booth 1"]["incidents"] == SUPPRESSED
    assert rows["Booth 2"]["incidents"] == "7"
    assert rows["All stations"]["incidents"] == "15"
    # naloxone: Booth 2 (1) and Booth 10 (3) hidden add up to 4, a small count a reader
    # would get from the total (12) minus Booth 1 (8): Booth 1 is hidden too
    assert [rows[b]["naloxone_doses"] for b in ("Booth 1", "Booth 2", "Booth 10")] == \
        [SUPPRESSED, SUPPRESSED, SUPPRESSED]
    assert rows["All stations"]["naloxone_doses"] == "12"
    # 9-1-1: Booth 10 (1) hidden, Booth 2 has 0 (shown), so Booth 1 (5) is hidden
    assert [rows[b]["calls_911"] for b in ("Booth 1", "Booth 2", "Booth 10")] == \
        [SUPPRESSED, "0", SUPPRESSED]
    # transports: total 3 is itself small
    assert rows["All stations"]["transports"] == SUPPRESSED
    assert rows["Booth 10"]["median_alarm_to_ack_s"] == MEDIAN_SUPPRESSED
    assert rows["Booth 1"]["median_alarm_to_ack_s"] == "35"
    # no real number of a suppressed cell survives anywhere in the exported CSV row
    assert "2" not in (rows["Booth 10"]["incidents"], rows["Booth 10"]["transports"])


def _table(counts: list[int]) -> list[dict[str, str]]:
    """The exported 9-1-1 column for stations with these counts of calls."""
    incs = []
    for b, calls in enumerate(counts):
        for k in range(max(calls, 1)):
            incs.append(incident(100 * b + k, f"st-{b + 1}", at(k + 1), called=k < calls))
    return build_report(incs, 2026, 3).table()


def test_the_reviewers_case_three_hidden_ones_cannot_be_worked_out():
    """Three booths with 1 call each, two with 5 and 7: before, each hidden cell was
    total - shown = 3 calls over three hidden booths, so 1 each."""
    cells = [row["calls_911"] for row in _table([1, 1, 1, 5, 7])]
    shown = [int(c) for c in cells[:-1] if c != SUPPRESSED]
    hidden = cells[:-1].count(SUPPRESSED)
    assert hidden >= 4 or cells[-1] == SUPPRESSED
    if cells[-1] != SUPPRESSED:
        assert int(cells[-1]) - sum(shown) >= 5  # what the hidden ones add up to is not small


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=1, max_size=5))
def test_no_hidden_count_can_be_worked_out_from_the_total(counts):
    """Every way of filling the hidden cells that fits what is shown (each at least 1,
    adding up to the total) leaves each hidden cell at least two possible values, and the
    hidden cells together are never a small count — whether or not the reader believes
    "<5" (at most 4) for every hidden cell."""
    cells = [row["calls_911"] for row in _table(counts)]
    for c, v in zip(cells[:-1], counts, strict=True):
        assert c == SUPPRESSED or c == str(v)
    if cells[-1] == SUPPRESSED:
        return
    hidden = [i for i, c in enumerate(cells[:-1]) if c == SUPPRESSED]
    rest = int(cells[-1]) - sum(int(c) for c in cells[:-1] if c != SUPPRESSED)
    if not hidden:
        return
    assert rest >= 5
    truth = tuple(counts[i] for i in hidden)
    for cap in (rest, 4):  # a reader who knows complements exist; one who takes "<5" literally
        fills = [f for f in itertools.product(range(1, cap + 1), repeat=len(hidden))
                 if sum(f) == rest]
        if truth not in fills:
            continue  # this reader's reasoning cannot arrive at the true counts
        for k in range(len(hidden)):
            assert len({f[k] for f in fills}) >= 2, (counts, cells, cap)


def test_csv_carries_the_numbers_and_is_formula_safe():
    incs = month_of_incidents()
    incs.append(incident(40, "=HYPERLINK(1)", at(9)))
    text = to_csv(build_report(incs, 2026, 3, suppress=False))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0].keys() >= {"month", "station", "incidents", "naloxone_doses", "calls_911",
                              "transports", "median_alarm_to_ack_s"}
    total = rows[-1]
    assert total["month"] == "2026-03" and total["station"] == "All stations"
    assert total["incidents"] == "16" and total["naloxone_doses"] == "12"
    assert any(r["station"] == "'=HYPERLINK(1)" for r in rows)


def test_incidents_discarded_as_opened_in_error_are_not_counted():
    month = month_of_incidents()
    month.append(incident(40, "st-2", at(9), doses=1, outcome=("opened_in_error",)))
    r = build_report(month, 2026, 3, suppress=False)
    rows = {row["station"]: row for row in r.table()}
    assert rows["Booth 2"]["incidents"] == "7" and rows["All stations"]["incidents"] == "15"
