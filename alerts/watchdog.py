"""Watchdog: notices when the engine stops monitoring, and says so.

A stalled loop cannot report its own stall, so the check runs in a separate thread that
reads the engine's heartbeat (the monotonic time of the loop's last pass). When the
heartbeat is older than `watchdog.stall_s` (plus one loop period):
- the `on_stall` hook is called at once from the watchdog thread (the headless monitor
  prints a status line; a second screen or supervisor can be told), because the loop may
  never come back;
- the condition "monitoring_stopped" is handed to the engine's loop thread-safely, so the
  alarm manager raises (and latches) the high alarm as soon as the loop runs again, and the
  incident record shows that monitoring stopped and for how long.
The UI, which may share that loop, calls `engine_stopped()` from its redraw timer to notice
an engine that has died or ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from oximon.alerts.manager import SYSTEM_STATION
from oximon.alerts.visual import condition_words
from oximon.events import EngineStalled
from oximon.types import ConditionChange

if TYPE_CHECKING:
    from oximon.engine import Engine

log = logging.getLogger(__name__)

ENGINE_TICK_S = 0.25  # the engine's loop period in engine seconds (oximon.engine.TICK_S)


def heartbeat_age(heartbeat: float | None, now: float) -> float | None:
    return None if heartbeat is None else max(0.0, now - heartbeat)


def is_stalled(heartbeat: float | None, now: float, stall_s: float,
               period_s: float = 0.0) -> bool:
    """True when a loop that beats every `period_s` has not beaten for `stall_s` more.
    A loop that never started (heartbeat None) is not stalled: it is starting."""
    age = heartbeat_age(heartbeat, now)
    return age is not None and age > stall_s + period_s


def engine_stopped(engine: Engine, now: float | None = None) -> str | None:
    """For the UI's redraw timer: words to show when the engine no longer monitors, else
    None. Covers an engine whose run ended or died and one whose loop is stalled."""
    now = time.monotonic() if now is None else now
    if engine.heartbeat is None:
        return None
    if not engine.running:
        return "Monitoring stopped — the engine is not running"
    period = ENGINE_TICK_S / max(engine.clock.speed, 1e-9)
    if is_stalled(engine.heartbeat, now, engine.profile["watchdog"]["stall_s"], period):
        age = now - engine.heartbeat
        return f"Monitoring stopped — no engine activity for {age:.0f} s"
    return None


StallHook = Callable[[EngineStalled], None]


class WatchdogThread:
    """Polls an engine's heartbeat from a daemon thread (real time, every `poll_s`)."""

    def __init__(self, engine: Engine, loop: asyncio.AbstractEventLoop,
                 on_stall: StallHook | None = None, poll_s: float = 0.1,
                 stall_s: float | None = None):
        self.engine = engine
        self.loop = loop
        self.on_stall = on_stall
        self.poll_s = poll_s
        self.stall_s = engine.profile["watchdog"]["stall_s"] if stall_s is None else stall_s
        self.priority = engine.profile["watchdog"]["priority"]
        self.stalled = False
        self.stalls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="oximon-watchdog", daemon=True)

    def start(self) -> WatchdogThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.check(time.monotonic())
            except Exception:  # the watchdog itself must keep watching
                log.exception("watchdog check failed")

    def check(self, now: float) -> None:
        engine = self.engine
        if not engine.running and not self.stalled:
            return  # not started yet, or stopped on purpose (the UI checks `running`)
        period = ENGINE_TICK_S / max(engine.clock.speed, 1e-9)
        stalled = engine.running and is_stalled(engine.heartbeat, now, self.stall_s, period)
        if stalled == self.stalled:
            return
        self.stalled = stalled
        t = engine.clock.now()
        if stalled:
            self.stalls += 1
            age = now - (engine.heartbeat or now)
            message = f"{condition_words('monitoring_stopped')} (engine stalled {age:.1f} s)"
            change = ConditionChange(SYSTEM_STATION, "monitoring_stopped", True, t,
                                     self.priority, technical=True, onset=engine.heartbeat_t,
                                     message=message)
            log.error("watchdog: %s", message)
            if self.on_stall is not None:
                self.on_stall(EngineStalled(t=t, station=SYSTEM_STATION, words=message,
                                            stalled_s=round(age, 3)))
        else:
            change = ConditionChange(SYSTEM_STATION, "monitoring_stopped", False, t,
                                     self.priority, technical=True)
        with contextlib.suppress(RuntimeError):  # a closed loop: nothing left to tell
            self.loop.call_soon_threadsafe(engine.report, [change])
