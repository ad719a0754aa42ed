"""The tile wall: one tile per station in a grid whose shape follows the screen."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QWidget

from oximon.types import Priority
from oximon.ui.model import StationView
from oximon.ui.style import Palette
from oximon.ui.tile import StationTile

TILE_ASPECT = 1.45  # the width/height a tile reads best at


def grid_shape(n: int, width: float = 16.0, height: float = 9.0) -> tuple[int, int]:
    """Rows × columns for n tiles in a width × height area: the shape whose tiles come
    closest to TILE_ASPECT while wasting the fewest cells."""
    n = max(1, n)
    best: tuple[float, int, int] | None = None
    for cols in range(1, n + 1):
        rows = math.ceil(n / cols)
        aspect = (width / cols) / (height / rows)
        # Empty cells cost more than a tile a little off its best shape: 4 booths are
        # 2×2 (not 3+1), 16 are 4×4 (not 5+5+5+1) on a wide screen.
        cost = abs(math.log(aspect / TILE_ASPECT)) + 2.0 * (rows * cols - n) / n
        if best is None or cost < best[0]:
            best = (cost, rows, cols)
    assert best is not None
    return best[1], best[2]


class TileWall(QWidget):
    """The tiles' area. `area()` is the size the grid's shape is chosen for (the window
    passes the wall *and* the response column, so opening or closing a panel never moves
    a booth to another row or column). A tile's acknowledge and respond requests come out
    as this wall's signals, with the station id."""

    acknowledge_requested = Signal(str)
    respond_requested = Signal(str)

    def __init__(self, ids: Callable[[], list[str]], area: Callable[[], tuple[int, int]]):
        super().__init__()
        self._ids = ids  # the stations, in wall order
        self._area = area
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(6)
        self.tiles: dict[str, StationTile] = {}
        self.shape: tuple[int, int, int] | None = None  # rows, columns, tiles laid out
        self._order: list[str] | None = None
        # Room kept free at the right for the response panel (0: the panel lies over the
        # wall): only while a booth that would be under it alarms (see `covered`).
        self.reserve = 0

    def rebuild(self, palette: Palette, text_scale: float) -> None:
        """A tile for each station (new ones made, gone ones removed), laid out."""
        ids = self._ids()
        for sid in list(self.tiles):
            if sid not in ids:
                tile = self.tiles.pop(sid)
                self.grid.removeWidget(tile)
                tile.deleteLater()
        for sid in ids:
            if sid not in self.tiles:
                tile = StationTile(sid, palette, text_scale)
                tile.acknowledge_requested.connect(self.acknowledge_requested)
                tile.respond_requested.connect(self.respond_requested)
                self.tiles[sid] = tile
        self.lay_out()

    def _shape_for(self, n: int) -> tuple[int, int]:
        w, h = self._area()
        return grid_shape(n, max(1, w - self.reserve), h)

    def covered(self, panel_w: int) -> list[str]:
        """The stations whose tiles, laid out over the whole wall, lie at least partly
        under a panel `panel_w` wide at its right edge."""
        ids = self._ids()
        if panel_w <= 0 or not ids:
            return []
        w, h = self._area()
        _rows, cols = grid_shape(len(ids), w, h)
        gap = self.grid.spacing()
        tile_w = (w - gap * (cols - 1)) / cols
        first = next((c for c in range(cols) if c * (tile_w + gap) + tile_w > w - panel_w),
                     cols)
        return [sid for i, sid in enumerate(ids) if i % cols >= first]

    def make_room(self, panel_w: int, views: Mapping[str, StationView]) -> None:
        """The response panel (`panel_w` wide, 0: none) lies over the right columns.
        While a booth under it has an alarm (medium or high: a person's, no reading, a
        lost device) the wall reflows into the room left of the panel, so every alarming
        tile is on screen; a low notice (battery) does not move it: the banner lists it."""
        alarming = any(a.priority >= Priority.MEDIUM
                       for sid in self.covered(panel_w) if sid in views
                       for a in views[sid].alarms.values())
        self.set_reserve(panel_w + self.grid.spacing() if alarming else 0)

    def set_reserve(self, px: int) -> None:
        """Keep `px` free at the right (the tiles reflow into the rest), or give it back."""
        if px == self.reserve:
            return
        self.reserve = px
        self.grid.setContentsMargins(0, 0, px, 0)
        self.shape = None
        self.lay_out()

    def lay_out(self) -> None:
        ids = self._ids()
        rows, cols = self._shape_for(len(ids))
        if self.shape == (rows, cols, len(ids)) and all(
                self.grid.indexOf(self.tiles[sid]) >= 0 for sid in ids) and \
                self._order == ids:
            return  # same shape, same tiles: nothing moves
        self._order = ids
        for tile in self.tiles.values():
            self.grid.removeWidget(tile)
        for r in range(self.grid.rowCount()):
            self.grid.setRowStretch(r, 0)
        for c in range(self.grid.columnCount()):
            self.grid.setColumnStretch(c, 0)
        for i, sid in enumerate(ids):
            self.grid.addWidget(self.tiles[sid], i // cols, i % cols)
        for r in range(rows):
            self.grid.setRowStretch(r, 1)
        for c in range(cols):
            self.grid.setColumnStretch(c, 1)
        self.shape = (rows, cols, len(ids))

    def lay_out_soon(self) -> None:
        """Once the layouts settled (after a panel opened or closed, a resize)."""
        QTimer.singleShot(0, self, self.lay_out)

    def set_palette(self, palette: Palette, text_scale: float) -> None:
        for tile in self.tiles.values():
            tile.set_palette(palette, text_scale)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.tiles:
            rows, cols = self._shape_for(len(self.tiles))
            if (rows, cols, len(self.tiles)) != self.shape:
                self.lay_out_soon()
