"""Text of a PDF for tests: Qt's own QtPdf when it imports, else poppler's pdftotext.

Whitespace is collapsed to single spaces (a PDF breaks lines wherever the layout did)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def pdf_text(path: str | Path) -> str:
    try:
        from PySide6.QtPdf import QPdfDocument
        from PySide6.QtWidgets import QApplication
    except ImportError:
        exe = shutil.which("pdftotext")
        if exe is None:
            raise RuntimeError("no PDF text extractor: install poppler-utils") from None
        out = subprocess.run([exe, str(path), "-"], capture_output=True, text=True,
                             check=True).stdout
        return " ".join(out.split())
    # a full QApplication (not QGuiApplication), so widget tests after this one still work
    _app = QApplication.instance() or QApplication([])
    doc = QPdfDocument()
    doc.load(str(path))
    if doc.status() != QPdfDocument.Status.Ready:
        raise RuntimeError(f"{path}: not a readable PDF ({doc.error()})")
    text = "\n".join(doc.getAllText(p).text() for p in range(doc.pageCount()))
    return " ".join(text.split())  # line breaks fall anywhere: compare words
