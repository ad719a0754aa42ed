"""Device drivers: one module per protocol (a pure byte parser plus its transport), the
simulator and the replay source. `open_source()` turns a `--source` spec into a Source."""

from oximon.drivers.registry import SourceSpecError, open_source

__all__ = ["SourceSpecError", "open_source"]
