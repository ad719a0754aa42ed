"""Dialogs sized to what they show and never larger than the screen they open on (a
1366×768 laptop with a title bar and a task bar included): their content decides the size,
the screen's available area caps it, and only what truly does not fit scrolls.

`screen_area` is the one place the available area is read (tests replace it to stand for
a laptop screen)."""

from __future__ import annotations

from PySide6.QtCore import QMargins, QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHeaderView,
    QScrollArea,
    QStyle,
    QTableWidget,
    QWidget,
)

FRAME_GUESS = QMargins(4, 32, 4, 4)  # a title bar and thin edges, until really shown


def screen_area(widget: QWidget | None) -> QRect:
    """The available geometry (without task bars) of the screen `widget` is on."""
    screen = widget.screen() if widget is not None else None
    screen = screen or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


class ContentTable(QTableWidget):
    """A table that asks for room for all its rows and every column's full text (header
    included), so a dialog sized to its hint shows them without clipping or scrolling;
    it shrinks to `min_rows` rows (and scrolls) only when the screen is too small."""

    def __init__(self, columns: list[str] | tuple[str, ...], min_rows: int = 3):
        super().__init__(0, len(columns))
        self.min_rows = min_rows
        self.setHorizontalHeaderLabels(list(columns))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

    def _chrome(self) -> QSize:
        frame = 2 * self.frameWidth()
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        return QSize(frame + bar, frame + self.horizontalHeader().sizeHint().height())

    def _rows_h(self, rows: int) -> int:
        one = self.verticalHeader().defaultSectionSize()
        shown = sum(self.rowHeight(r) for r in range(min(rows, self.rowCount())))
        return shown + one * max(0, rows - self.rowCount())

    def content_width(self) -> int:
        header = self.horizontalHeader()
        return sum(max(header.sectionSizeHint(c), self.sizeHintForColumn(c))
                   for c in range(self.columnCount()))

    def sizeHint(self) -> QSize:
        chrome = self._chrome()
        rows = max(self.rowCount(), self.min_rows)
        return QSize(self.content_width() + chrome.width(), self._rows_h(rows) +
                     chrome.height())

    def minimumSizeHint(self) -> QSize:
        chrome = self._chrome()
        return QSize(min(300, self.content_width()) + chrome.width(),
                     self._rows_h(self.min_rows) + chrome.height())


def wanted_size(dialog: QDialog) -> QSize:
    """The dialog's size hint, plus what its scroll areas' content asks beyond the few
    lines a scroll area asks for by itself."""
    layout = dialog.layout()
    if layout is not None:
        layout.activate()
    want = dialog.sizeHint()
    w, h = want.width(), want.height()
    for scroll in dialog.findChildren(QScrollArea):
        body = scroll.widget()
        if body is None:
            continue
        bar = scroll.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        inner = body.sizeHint()
        outer = scroll.sizeHint()
        w += max(0, inner.width() + bar + 2 * scroll.frameWidth() - outer.width())
        h += max(0, inner.height() + 2 * scroll.frameWidth() - outer.height())
    return QSize(w, h)


def frame_margins(window: QWidget) -> QMargins:
    """The window frame around a window: the real one once shown, else a title bar's
    worth (the frame is the window manager's and unknown before the first show)."""
    frame, inner = window.frameGeometry(), window.geometry()
    if window.isVisible() and frame != inner:
        return QMargins(inner.left() - frame.left(), inner.top() - frame.top(),
                        frame.right() - inner.right(), frame.bottom() - inner.bottom())
    return FRAME_GUESS


def fit_dialog(dialog: QDialog, area: QRect | None = None) -> QSize:
    """Resize `dialog` to its content, capped by the screen's available area (its frame
    included), and keep it on that screen, centred over its parent where that fits.
    Returns the size given."""
    area = area if area is not None else screen_area(dialog.parentWidget() or dialog)
    dialog.ensurePolished()  # the style sheet's fonts decide the sizes
    m = frame_margins(dialog)
    fw, fh = m.left() + m.right(), m.top() + m.bottom()
    room = QSize(max(200, area.width() - fw), max(150, area.height() - fh))
    dialog.setMaximumSize(room)
    want = wanted_size(dialog)
    size = QSize(min(want.width(), room.width()), min(want.height(), room.height()))
    dialog.resize(size)
    parent = dialog.parentWidget()
    centre = parent.geometry().center() if parent is not None else area.center()
    w, h = size.width() + fw, size.height() + fh  # the frame's outer size
    x = min(max(area.left(), centre.x() - w // 2), area.left() + area.width() - w)
    y = min(max(area.top(), centre.y() - h // 2), area.top() + area.height() - h)
    dialog.move(x, y)  # a window's position is its frame's
    return size
