"""SIGTERM and SIGINT are a request to stop cleanly, not a crash.

`systemctl stop`, a shutdown, `kill PID` or Ctrl-C: the engine finishes its current pass,
the store writes what is pending and ends the session as "stopped" (so the next run never
reports "oximon stopped unexpectedly"), and the command exits 0. A second signal while
stopping means "now": it raises KeyboardInterrupt, and the finally-blocks still close
the store."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignals:
    """Installed in the main thread; `received` names the first signal (for the log)."""

    def __init__(self, request_stop: Callable[[], None]):
        self._request_stop = request_stop
        self.received: str | None = None
        self._before: dict[int, object] = {}

    def install(self) -> StopSignals:
        if threading.current_thread() is not threading.main_thread():
            return self  # signals are only delivered to the main thread's handlers
        for sig in STOP_SIGNALS:
            self._before[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.received is not None:
            raise KeyboardInterrupt  # a second signal: stop now (finally-blocks still run)
        self.received = signal.Signals(signum).name
        self._request_stop()

    def restore(self) -> None:
        for sig, before in self._before.items():
            signal.signal(sig, before)  # type: ignore[arg-type]
        self._before.clear()
