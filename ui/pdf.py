"""Qt's PDF writer for oximon's printed documents, usable with no screen.

The incident PDF, the incidents export and the monthly report all come from here: a
QTextDocument laid out on a QPdfWriter page (Qt's own writer, so no extra PDF library to
ship). `ensure_app` lets the CLI write a PDF on a machine with no display (a server that
exports incidents for the health authority) and still leaves the process able to open
windows later.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QMarginsF, QPointF, QRectF
from PySide6.QtGui import (
    QFont,
    QFontMetrics,
    QGuiApplication,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QScreen,
    QTextDocument,
)
from PySide6.QtWidgets import QApplication

from oximon.private_files import open_private


def headless_platform() -> None:
    """With no X11 or Wayland display, use Qt's offscreen platform (a choice the user or
    the test suite already made in QT_QPA_PLATFORM wins)."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def ensure_app() -> QApplication:
    """The process's QApplication, created if needed.

    A full QApplication, not a QGuiApplication: the trace chart is a widget, and Qt aborts
    the process when a widget is made under a plain QGuiApplication (here, or later in the
    same process: a test run, the dashboard opening a window after an export)."""
    app = QCoreApplication.instance()
    if app is None:
        headless_platform()
        return QApplication([])
    if not isinstance(app, QApplication):
        raise RuntimeError("cannot draw the PDF: this process already runs a Qt application "
                           "without widgets (QGuiApplication)")
    return app


def private_file(path: Path) -> None:
    """Create (or truncate) the output as a private file (0600) before Qt writes into it:
    an incident PDF is health information."""
    open_private(path, binary=True).close()


def write_pdf(documents: QTextDocument | Iterable[QTextDocument], path: str | Path,
              title: str) -> int:
    """Lay the documents out on Letter pages with 15 mm margins, each starting on a new
    page, and write them to `path` (private); returns the number of pages.

    `documents` may be a generator: each is laid out and drawn before the next is asked
    for, so an export of many incidents holds one trace image at a time. OSError when the
    file cannot be created (QPdfWriter itself would fail silently)."""
    path = Path(path)
    private_file(path)
    writer = QPdfWriter(str(path))
    writer.setTitle(title)
    writer.setCreator("oximon")
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.Letter))
    writer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter)
    writer.setResolution(300)
    pages = print_documents(documents, writer)
    del writer  # the file is complete once the writer is gone
    os.chmod(path, 0o600)
    return pages


def print_documents(documents: QTextDocument | Iterable[QTextDocument],
                    device: QPagedPaintDevice) -> int:
    """Paint documents on a paged device (a QPdfWriter, or a QPrinter from the print
    dialog), each from a new page, pages numbered at the foot; returns the page count.

    QTextDocument.print_() does one document per device (its painter ends the file), so
    this does what it does — lay the document out on the device's page at the screen's
    dots per inch, so point sizes come out true on paper, with a 2 cm frame inside the
    page margins — for any number of documents. The documents' layout is changed."""
    if isinstance(documents, QTextDocument):
        documents = [documents]
    painter = QPainter()
    if not painter.begin(device):
        raise OSError("cannot start a PDF or print page (is the file writable?)")
    # None with no screen at all, whatever PySide6's stub says
    screen: QScreen | None = QGuiApplication.primaryScreen()
    dpi_x = screen.logicalDotsPerInchX() if screen else 96.0
    dpi_y = screen.logicalDotsPerInchY() if screen else 96.0
    page = QRectF(0, 0, device.width(), device.height())
    count = 0
    try:
        for doc in documents:
            layout = doc.documentLayout()
            layout.setPaintDevice(device)
            frame = doc.rootFrame().frameFormat()
            frame.setLeftMargin(int(2 / 2.54 * dpi_x))  # in screen pixels: the layout
            frame.setRightMargin(int(2 / 2.54 * dpi_x))  # scales them to the device
            frame.setTopMargin(int(2 / 2.54 * dpi_y))
            frame.setBottomMargin(int(2 / 2.54 * dpi_y))
            doc.rootFrame().setFrameFormat(frame)
            doc.setPageSize(page.size())
            foot = QPointF(page.width() - 2 / 2.54 * device.logicalDpiX(),
                           page.height() - 2 / 2.54 * device.logicalDpiY()
                           + QFontMetrics(doc.defaultFont(), device).ascent()
                           + 5 * device.logicalDpiY() / 72.0)
            for i in range(doc.pageCount()):
                if count:
                    device.newPage()
                count += 1
                view = QRectF(0, i * page.height(), page.width(), page.height())
                painter.save()
                painter.translate(0, -view.top())
                doc.drawContents(painter, view)
                painter.restore()
                painter.setFont(QFont(doc.defaultFont()))
                number = str(count)
                painter.drawText(QPointF(foot.x() - painter.fontMetrics().horizontalAdvance(
                    number), foot.y()), number)
    finally:
        painter.end()
    return count
