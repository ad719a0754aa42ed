"""PySide6 + pyqtgraph dashboard and supervisor review."""
