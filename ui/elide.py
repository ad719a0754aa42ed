"""A one-line label that elides its text to whatever width the layout gives it.

A plain QLabel asks the layout for its whole text's width; on a crowded wall (24 tiles and a
response panel on a laptop, or large fonts) that pushes the window larger than the screen
or clips words mid-letter. This one asks for nothing, shows as much as fits with an
ellipsis where the cut is (the middle for names, so "Booth 24" never loses its number, the
end for sentences), and keeps the whole text in `text()` and the tooltip. Given shorter
wordings too (`set_texts`), it shows the longest one that fits whole before it cuts any:
"Severe low" reads better on a small tile than "Severe low oxy…".
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
        self._shorter: tuple[str, ...] = ()

    def setText(self, text: str) -> None:
        self.set_texts(text)

    def set_texts(self, text: str, *shorter: str) -> None:
        """The whole text and, longest first, shorter wordings to fall back on."""
        if text != self.text() or shorter != self._shorter:
            self._shorter = shorter
            super().setText(text)
            self.setToolTip(text if text else "")
            self.update()

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.fontMetrics().height())

    def sizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance(self.text()),
                     self.fontMetrics().height())

    def shown(self) -> str:
        """The text as drawn at the current width (what a person sees)."""
        width = max(0, self.contentsRect().width())
        fm = self.fontMetrics()
        for wording in (self.text(), *self._shorter):
            if fm.horizontalAdvance(wording) <= width:
                return wording
        return fm.elidedText((self.text(), *self._shorter)[-1], self.mode, width)

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
