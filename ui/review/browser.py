"""The incident browser: filter, sort, search notes, open one.

Filtering happens in the store's query where it can (date range, station, outcome,
yes/no choices) and in `IncidentFilter.matches` for the rest, so the same rules are tested
without Qt. The browser shows a page of the newest matches at a time (PAGE_SIZE), with the
count of all of them, so a store of 100,000 incidents opens as fast as one of 100; sorting
by a column sorts the page shown.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from oximon.review import (
    Figures,
    Incident,
    IncidentFilter,
    ReviewBackend,
    figures,
    local_time,
    words,
)
from oximon.ui.qtdates import from_qdate, to_qdate
from oximon.vocabulary import NOT_RECORDED, OUTCOME_ORDER

COLUMNS = ["Opened", "Station", "Outcome", "Lowest SpO₂", "Naloxone", "9-1-1",
           "Alarm → ack (s)", "Reviewed", "Amendments", "ID"]
YES_NO = {"Any": None, "Yes": True, "No": False}
REVIEWED = {"Any": None, "Not reviewed": False, "Reviewed": True}
DEFAULT_DAYS = 31
PAGE_SIZE = 200


class _Item(QTableWidgetItem):
    """A cell that sorts by a value (numbers as numbers, blanks last) but shows text."""

    def __init__(self, text: str, key: str | float | None = None):
        super().__init__(text)
        self.key: str | float = text if key is None else key

    def __lt__(self, other: QTableWidgetItem) -> bool:
        a, b = self.key, other.key if isinstance(other, _Item) else other.text()
        if type(a) is not type(b) or isinstance(a, str) or isinstance(b, str):
            return str(a) < str(b)
        return bool(a < b)


class IncidentBrowser(QWidget):
    open_requested = Signal(str)

    def __init__(self, backend: ReviewBackend, parent: QWidget | None = None,
                 today: date | None = None):
        super().__init__(parent)
        self.backend = backend
        self.incidents: list[Incident] = []
        today = today or date.today()
        outer = QVBoxLayout(self)
        bar = QGridLayout()
        self.since = QDateEdit(to_qdate(today - timedelta(days=DEFAULT_DAYS)))
        self.until = QDateEdit(to_qdate(today))
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.dateChanged.connect(self.refresh)
        self.station = QComboBox()
        self.station.addItem("All stations", None)
        for sid, label in backend.stations():
            self.station.addItem(label, sid)
        self.outcome = QComboBox()
        self.outcome.addItem("Any outcome", None)
        for word in OUTCOME_ORDER:
            self.outcome.addItem(words(word), word)
        self.outcome.addItem("not recorded", NOT_RECORDED)
        self.naloxone = _choice(YES_NO)
        self.called = _choice(YES_NO)
        self.reviewed = _choice(REVIEWED)
        self.page = 0
        for combo in (self.station, self.outcome, self.naloxone, self.called, self.reviewed):
            combo.currentIndexChanged.connect(self._first_page)
        for edit in (self.since, self.until):
            edit.dateChanged.disconnect(self.refresh)
            edit.dateChanged.connect(self._first_page)
        self.search = QLineEdit()
        self.search.setPlaceholderText("search notes, amendments, outcome…")
        self.search.setClearButtonEnabled(True)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)
        self._search_timer.timeout.connect(self._first_page)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        fields = [("From", self.since), ("To", self.until), ("Station", self.station),
                  ("Outcome", self.outcome), ("Naloxone", self.naloxone),
                  ("9-1-1", self.called), ("Review", self.reviewed)]
        for col, (name, widget) in enumerate(fields):
            bar.addWidget(QLabel(name), 0, col)
            bar.addWidget(widget, 1, col)
        bar.addWidget(QLabel("Search"), 0, len(fields))
        bar.addWidget(self.search, 1, len(fields))
        bar.setColumnStretch(len(fields), 1)
        outer.addLayout(bar)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setSortingEnabled(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.cellDoubleClicked.connect(lambda row, _c: self._open_row(row))
        self.table.itemActivated.connect(lambda item: self._open_row(item.row()))
        outer.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        self.count = QLabel("")
        self.previous = QPushButton("← Newer")
        self.previous.clicked.connect(lambda: self.show_page(self.page - 1))
        self.next = QPushButton("Older →")
        self.next.clicked.connect(lambda: self.show_page(self.page + 1))
        self.open_button = QPushButton("Open")
        self.open_button.clicked.connect(lambda: self._open_row(self.table.currentRow()))
        bottom.addWidget(self.count, 1)
        bottom.addWidget(self.previous)
        bottom.addWidget(self.next)
        bottom.addWidget(self.open_button)
        outer.addLayout(bottom)
        self.table.sortItems(0, Qt.SortOrder.DescendingOrder)
        self.refresh()

    def current_filter(self) -> IncidentFilter:
        since = from_qdate(self.since.date())
        until = from_qdate(self.until.date()) + timedelta(days=1)
        return IncidentFilter(
            since_ts=datetime(since.year, since.month, since.day).astimezone().timestamp(),
            until_ts=datetime(until.year, until.month, until.day).astimezone().timestamp(),
            station=self.station.currentData(),
            outcome=self.outcome.currentData(),
            naloxone=self.naloxone.currentData(),
            called_911=self.called.currentData(),
            reviewed=self.reviewed.currentData(),
            search=self.search.text().strip(),
            limit=PAGE_SIZE,
            offset=self.page * PAGE_SIZE,
        )

    def _first_page(self) -> None:
        self.show_page(0)

    def show_page(self, page: int) -> None:
        self.page = max(0, page)
        self.refresh()

    def refresh(self) -> None:
        flt = self.current_filter()
        self.total = self.backend.count_incidents(flt)
        if self.page and flt.offset >= self.total:  # fewer matches now: back to the last page
            self.page = max(0, (self.total - 1) // PAGE_SIZE)
            flt = self.current_filter()
        self.incidents = [i for i in self.backend.list_incidents(flt) if flt.matches(i)]
        table = self.table
        sort_col = table.horizontalHeader().sortIndicatorSection()
        order = table.horizontalHeader().sortIndicatorOrder()
        table.setSortingEnabled(False)
        table.setRowCount(len(self.incidents))
        for r, inc in enumerate(self.incidents):
            f = self._figures(inc)
            ack = f.alarm_to_ack_s
            cells = [
                _Item(local_time(inc.opened_ts, "%Y-%m-%d %H:%M"), inc.opened_ts),
                _Item(inc.label),
                _Item(inc.outcome_words or ("still open" if not inc.closed else "—")),
                _Item("—" if f.nadir is None else f"{f.nadir:.0f} %",
                      -1.0 if f.nadir is None else f.nadir),
                _Item(str(f.naloxone_doses) if f.naloxone_doses else "—", f.naloxone_doses),
                _Item("yes" if inc.called_911 else "—", inc.called_911),
                _Item("—" if ack is None else f"{ack:.0f}", 1e9 if ack is None else ack),
                _Item("✔ signed off" if inc.reviewed else "review again"
                      if inc.amended_after_sign_off else "not yet", inc.reviewed),
                _Item(str(len(inc.amendments)) if inc.amendments else "",
                      len(inc.amendments)),
                _Item(inc.id),
            ]
            for c, item in enumerate(cells):
                item.setData(Qt.ItemDataRole.UserRole, inc.id)
                table.setItem(r, c, item)
        table.setSortingEnabled(True)
        table.sortItems(sort_col, order)
        n, first = len(self.incidents), flt.offset + 1
        shown = (f"{n} incident{'s' if n != 1 else ''}" if self.total <= n and not self.page
                 else f"showing {first}–{flt.offset + n} of {self.total} incidents")
        self.count.setText(f"{shown} · {sum(1 for i in self.incidents if not i.reviewed)} "
                           "not reviewed" + (" on this page" if self.total > n else ""))
        self.previous.setEnabled(self.page > 0)
        self.next.setEnabled(flt.offset + n < self.total)

    def _figures(self, inc: Incident) -> Figures:
        """A page's rows come without traces; an open incident has no nadir sealed yet, so
        its figures come from its trace so far (as `oximon incidents show` gives them).
        There is at most one open incident per booth: a few reads a page at most."""
        f = figures(inc)
        if inc.closed or f.nadir is not None:
            return f
        try:
            return figures(self.backend.get_incident(inc.id))
        except KeyError:  # gone since the page was read (a purge, another desk)
            return f

    def row_ids(self) -> list[str]:
        """Incident ids in the order shown (for tests and keyboard navigation)."""
        return [self._row_id(r) for r in range(self.table.rowCount())]

    def _row_id(self, row: int) -> str:
        item = self.table.item(row, 0)
        assert item is not None  # every row is filled in `refresh`
        return item.data(Qt.ItemDataRole.UserRole)

    def _open_row(self, row: int) -> None:
        if 0 <= row < self.table.rowCount():
            self.open_requested.emit(self._row_id(row))


def _choice(options: dict[str, bool | None]) -> QComboBox:
    combo = QComboBox()
    for text, value in options.items():
        combo.addItem(text, value)
    return combo
