"""Python dates and times to Qt's and back, spelled out.

PySide6 converts `datetime.date` to `QDate` (and `toPython()` back) at run time, but its
type stubs know neither direction; these keep the conversions typed and in one place.
"""

from __future__ import annotations

from datetime import date, time

from PySide6.QtCore import QDate, QTime


def to_qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def from_qdate(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


def from_qtime(q: QTime) -> time:
    return time(q.hour(), q.minute(), q.second(), q.msec() * 1000)
