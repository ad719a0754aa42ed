"""Stations and devices: scan and pair, assign a device to a booth and alias, rename,
swap, remove, and a device-health view (state, last seen, battery, drops this shift).

Discovery and opening are handed in (the composition root wires the drivers' BLE scan and
serial port listing, `oximon.cli.discovery`; the demo uses simulated devices):
- `discover()` returns a list of `FoundDevice` or a `ScanResult` (devices plus sentences to
  show, e.g. "Bluetooth is not available…"), or an awaitable of either, for a BLE scan
  that takes seconds; it then runs on the asyncio loop the dashboard shares with Qt;
- `open_source(spec)` turns a found device's spec ("ble:AA:BB:..:plx", "serial:/dev/ttyUSB0:
  cms50", "sim:normal:7") into a Source, raising ValueError/OSError with a message people
  can read.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from oximon.engine import Engine
from oximon.ports import Source
from oximon.types import Station
from oximon.ui.dialog_fit import ContentTable, fit_dialog
from oximon.ui.model import DashboardModel
from oximon.ui.tile import format_age

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FoundDevice:
    spec: str  # what `open_source` takes
    name: str
    transport: str  # "ble" | "serial" | "sim"
    detail: str = ""  # protocol guess, signal strength...


@dataclass(frozen=True)
class ScanResult:
    devices: list[FoundDevice]
    notes: list[str] = field(default_factory=list)  # shown as they are (one sentence each)


Scan = list[FoundDevice] | ScanResult
Discovery = Callable[[], Scan | Awaitable[Scan]]
Opener = Callable[[str], Source]
Paired = Callable[[Station, str], None]


def devices_in_use(engine: Engine) -> set[str]:
    """Addresses of the devices already feeding a station (not offered again)."""
    return {live.station.device.address for live in engine.stations.values()
            if live.station.device is not None}


def simulated_discovery(engine: Engine, count: int = 4) -> Discovery:
    """A discovery that 'finds' simulated oximeters not yet paired (the demo's scan)."""
    scenarios = ("normal", "slow-desat", "finger-out", "low-battery", "motion", "disconnect")

    def discover() -> list[FoundDevice]:
        in_use = devices_in_use(engine)
        out: list[FoundDevice] = []
        seed = 100
        while len(out) < count:
            seed += 1
            scenario = scenarios[seed % len(scenarios)]
            spec = f"sim:{scenario}:{seed}"
            if spec not in in_use:
                out.append(FoundDevice(spec, f"Simulated oximeter {seed}", "sim",
                                       f"scenario {scenario}"))
        return out

    return discover


class DevicesDialog(QDialog):
    COLUMNS = ("Booth", "Alias", "Device", "State", "Last seen", "Battery", "Drops this shift")

    def __init__(self, model: DashboardModel, discover: Discovery, open_source: Opener,
                 parent: QWidget | None = None, on_paired: Paired | None = None):
        super().__init__(parent)
        self.setWindowTitle("Stations and devices")
        self.model = model
        self.discover = discover
        self.open_source = open_source
        self.on_paired = on_paired
        self.found: list[FoundDevice] = []
        self._scan_task: asyncio.Future | None = None
        self._remove_armed: str | None = None

        # Pairing.
        self.scan_button = QPushButton("Scan for devices")
        self.scan_button.clicked.connect(self.scan)
        self.found_table = self._table(("Device", "Kind", "Details"), min_rows=2)
        self.booth = QLineEdit()
        self.booth.setPlaceholderText("booth number")
        self.alias = QLineEdit()
        self.alias.setPlaceholderText("alias shown on the tile (no real names)")
        self.pair_button = QPushButton("Pair to this booth")
        self.pair_button.clicked.connect(self.pair_selected)
        pair = QGroupBox("Pair a device")
        pl = QGridLayout(pair)  # one row of controls under the scan's table: compact
        pl.addWidget(self.found_table, 0, 0, 1, 6)
        pl.addWidget(self.scan_button, 1, 0)
        pl.addWidget(QLabel("Booth"), 1, 1)
        pl.addWidget(self.booth, 1, 2)
        pl.addWidget(QLabel("Alias"), 1, 3)
        pl.addWidget(self.alias, 1, 4)
        pl.addWidget(self.pair_button, 1, 5)
        pl.setColumnStretch(4, 1)

        # Stations and their health.
        self.stations_table = self._table(self.COLUMNS)
        self.stations_table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        self.stations_table.itemSelectionChanged.connect(self._selection_changed)
        self.new_alias = QLineEdit()
        self.new_alias.setPlaceholderText("new alias for the selected station")
        self.rename_button = QPushButton("Rename")
        self.rename_button.clicked.connect(self.rename_selected)
        self.swap_button = QPushButton("Swap devices (select two)")
        self.swap_button.clicked.connect(self.swap_selected)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        st = QGroupBox("Stations (devices reconnect by themselves)")
        sl = QVBoxLayout(st)
        sl.addWidget(self.stations_table)
        row = QHBoxLayout()
        row.addWidget(self.new_alias, 1)
        row.addWidget(self.rename_button)
        row.addWidget(self.swap_button)
        row.addWidget(self.remove_button)
        sl.addLayout(row)

        self.status = QLabel("")
        self.status.setWordWrap(True)
        close = QPushButton("Close  [Esc]")
        close.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(pair)
        layout.addWidget(st, 1)  # every station's row: it gets the room left
        layout.addLayout(bottom)

        self._suggest_booth()
        self.refresh()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(1000)

    @staticmethod
    def _table(columns: Sequence[str], min_rows: int = 3) -> QTableWidget:
        return ContentTable(tuple(columns), min_rows)

    def say(self, text: str) -> None:
        self.status.setText(text)

    # -- scanning and pairing ------------------------------------------------------------
    def scan(self) -> None:
        self.say("Scanning…")
        self.scan_button.setEnabled(False)
        try:
            result = self.discover()
        except Exception as exc:
            self._scan_done(None, exc)
            return
        if inspect.isawaitable(result):
            self._scan_task = asyncio.ensure_future(result)
            self._scan_task.add_done_callback(
                lambda fut: self._scan_done(None if fut.cancelled() or fut.exception()
                                            else fut.result(),
                                            None if fut.cancelled() else fut.exception()))
        else:
            self._scan_done(result, None)

    def _scan_done(self, found: list[FoundDevice] | ScanResult | None,
                   error: BaseException | None) -> None:
        self.scan_button.setEnabled(True)
        if error is not None or found is None:
            self.say(f"Scan failed: {error or 'cancelled'}")
            return
        notes = found.notes if isinstance(found, ScanResult) else []
        self.found = list(found.devices if isinstance(found, ScanResult) else found)
        self.found_table.setRowCount(len(self.found))
        for i, dev in enumerate(self.found):
            for j, text in enumerate((dev.name, dev.transport, dev.detail or dev.spec)):
                self.found_table.setItem(i, j, QTableWidgetItem(text))
        if self.found:
            self.found_table.selectRow(0)
        what = (f"Found {len(self.found)} device(s). Choose one, a booth and an alias, then "
                "Pair." if self.found else "No devices found.")
        self.say(" ".join([*notes, what]))

    def _empty_booth(self, booth: str) -> Station | None:
        """The station at `booth` if it has no device yet (a booth set up in the site file
        before its oximeter arrived)."""
        for live in self.model.engine.stations.values():
            if live.station.booth == booth and live.station.device is None:
                return live.station
        return None

    def _suggest_booth(self) -> None:
        for sid in self.model.station_ids():  # a booth waiting for a device comes first
            st = self.model.live(sid).station
            if st.device is None:
                self.booth.setText(st.booth)
                self.alias.setText(st.alias)
                return
        used = {live.station.booth for live in self.model.engine.stations.values()}
        n = 1
        while str(n) in used:
            n += 1
        self.booth.setText(str(n))
        self.alias.setText(f"Booth {n}")

    def pair_selected(self) -> None:
        rows = self.found_table.selectionModel().selectedRows()
        if not rows:
            self.say("Choose a device from the scan first.")
            return
        dev = self.found[rows[0].row()]
        booth = self.booth.text().strip()
        if not booth:
            self.say("Give the booth a number or name.")
            return
        empty = self._empty_booth(booth)
        if empty is None and any(live.station.booth == booth
                                 for live in self.model.engine.stations.values()):
            self.say(f"Booth {booth} already has a device: remove or swap it first.")
            return
        try:
            source = self.open_source(dev.spec)
        except (ValueError, OSError) as exc:
            self.say(f"Cannot use {dev.name}: {exc}")
            return
        alias = self.alias.text().strip() or f"Booth {booth}"
        if empty is not None:  # the booth keeps its station id (and its records)
            self.model.remove_station(empty.id)
            sid = empty.id
        else:
            kind = source.info.transport or dev.transport
            n = 1
            while f"{kind}-{n}" in self.model.engine.stations:
                n += 1
            sid = f"{kind}-{n}"
        station = Station(sid, alias=alias, booth=booth, device=source.info)
        if self.on_paired is not None:
            self.on_paired(station, dev.spec)
        self.model.add_station(station, source)
        self.say(f"Paired {dev.name} to booth {booth} ({station.label}).")
        self.found.pop(rows[0].row())
        self.found_table.removeRow(rows[0].row())
        self._suggest_booth()
        self.refresh()

    # -- the stations --------------------------------------------------------------------
    def selected_stations(self) -> list[str]:
        rows = sorted(r.row() for r in self.stations_table.selectionModel().selectedRows())
        ids = self.model.station_ids()
        return [ids[r] for r in rows if r < len(ids)]

    def _selection_changed(self) -> None:
        self._remove_armed = None
        self.remove_button.setText("Remove")
        sel = self.selected_stations()
        if len(sel) == 1:
            self.new_alias.setText(self.model.live(sel[0]).station.alias)

    def rename_selected(self) -> None:
        sel = self.selected_stations()
        if len(sel) != 1:
            self.say("Select one station to rename.")
            return
        alias = self.new_alias.text().strip()
        if not alias:
            self.say("Type the new alias first.")
            return
        self.model.rename(sel[0], alias)
        self.say(f"Renamed to {alias}.")
        self.refresh()

    def swap_selected(self) -> None:
        sel = self.selected_stations()
        if len(sel) != 2:
            self.say("Select exactly two stations to swap their devices.")
            return
        a, b = sel
        self.model.swap(a, b)
        self.say(f"Swapped: {self.model.label(a)} and {self.model.label(b)} changed devices.")
        self.stations_table.clearSelection()
        self.refresh()

    def remove_selected(self) -> None:
        """Two taps: the first arms (and says what will go), the second removes."""
        sel = self.selected_stations()
        if len(sel) != 1:
            self.say("Select one station to remove.")
            return
        sid = sel[0]
        if self._remove_armed != sid:
            self._remove_armed = sid
            self.remove_button.setText(f"Tap again to remove {self.model.label(sid)}")
            return
        try:
            self.model.remove_station(sid)
        except ValueError as exc:
            self.say(str(exc))
            return
        finally:
            self._remove_armed = None
            self.remove_button.setText("Remove")
        self.say("Removed.")
        self.stations_table.clearSelection()
        self.refresh()

    def health_rows(self) -> list[tuple[str, ...]]:
        now = self.model.now()
        rows: list[tuple[str, ...]] = []
        for sid in self.model.station_ids():
            live = self.model.live(sid)
            st = live.station
            dev = st.device
            device = f"{dev.name or dev.address} ({dev.transport})" if dev else "none"
            seen = ("never" if live.last_sample_t is None
                    else f"{format_age(max(0.0, now - live.last_sample_t))} ago")
            battery = "—" if live.battery is None else f"{live.battery:.0f} %"
            drops = str(self.model.views[sid].health.drops)
            rows.append((st.booth, st.alias, device, live.state.words, seen, battery, drops))
        return rows

    def refresh(self) -> None:
        rows = self.health_rows()
        table = self.stations_table
        grew = table.rowCount() != len(rows)
        if grew:
            table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, text in enumerate(row):
                item = table.item(i, j)
                if item is None:
                    table.setItem(i, j, QTableWidgetItem(text))
                elif item.text() != text:
                    item.setText(text)
        if grew and self.isVisible():
            fit_dialog(self)  # a station came or went: the dialog follows its rows

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.accept()
        else:
            super().keyPressEvent(event)

    def done(self, result: int) -> None:
        self.timer.stop()
        if self._scan_task is not None and not self._scan_task.done():
            self._scan_task.cancel()
        super().done(result)
