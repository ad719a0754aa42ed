"""A one-line label that elides its text to whatever width the layout gives it.

A plain QLabel asks the layout for its whole text's width; on a crowded wall (24 tiles and a
response panel on a laptop, or large fonts) that pushes the window larger than the screen
or clips words mid-letter. This one asks for nothing, shows as much as fits with an
ellipsis where the cut is (the middle for names, so "Booth 24" never loses its number, the
end for sentences), and keeps the whole text in `text()` and the tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QStyle, QStyleOption


class ElidedLabel(QLabel):
    def __init__(self, text: str = "", mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
                 align: Qt.AlignmentFlag | None = None):
        super().__init__(text)
        self.mode = mode
        if align is not None:
            self.setAlignment(align)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:
        if text != self.text():
            super().setText(text)
            self.setToolTip(text if text else "")

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.fontMetrics().height())

    def sizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance(self.text()),
                     self.fontMetrics().height())

    def shown(self) -> str:
        """The text as drawn at the current width (what a person sees)."""
        r = self.contentsRect()
        return self.fontMetrics().elidedText(self.text(), self.mode, max(0, r.width()))

    def fits(self) -> bool:
        return self.shown() == self.text()

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        opt = QStyleOption()
        opt.initFrom(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_Widget, opt, p, self)
        self.style().drawItemText(p, self.contentsRect(), int(self.alignment()),
                                  self.palette(), self.isEnabled(), self.shown(),
                                  QPalette.ColorRole.WindowText)
        p.end()
