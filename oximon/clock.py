"""Clocks: every timing in oximon reads one of these, so alarm logic is testable and
`--speed` works.

- `RealClock`: wall time; `now()` is monotonic seconds since the clock started.
- `ScaledClock`: virtual time that runs `speed` times faster than real time (`--speed`).
- `ManualClock`: time moves only when a test calls `advance()`; sleepers wake in order.

`now()` is engine seconds (what `Sample.t` and every event's `t` use). `wall()` is the
calendar time that corresponds to `now()`, for records people read later.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    def wall(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...

    async def sleep_until(self, target: float) -> None: ...

    def pace(self, until: float | None) -> None:
        """The engine's ticker grants time up to `until` (None: freely); only a paced
        clock (ScaledClock under --speed) holds virtual time to it."""
        ...

    @property
    def speed(self) -> float: ...


class ScaledClock:
    """Virtual time at `speed` × real time, starting at `start` engine seconds.

    A *paced* clock (the default when `speed` is not 1) never runs ahead of the engine:
    the engine's ticker calls `pace(t)` after each pass ("time may run up to t"), and when
    real time would carry virtual time past `t` — the loop is overloaded and has not yet
    done the work for that time — virtual time stands still (the clock "slips") until the
    engine grants more. An overloaded `--speed` run therefore just takes longer in real
    time and gives the same verdicts; it never sees data as stale because the CPU was busy.
    At speed 1 (live monitoring) real time stays real: a stalled loop is a real fault.
    `now()` never goes backwards. `held=True` starts it standing at `start` until the
    first `pace()`, so setting up (opening the store...) costs no virtual time.
    """

    def __init__(self, speed: float = 1.0, start: float = 0.0, epoch: datetime | None = None,
                 *, paced: bool | None = None, held: bool = False):
        if not (speed > 0 and math.isfinite(speed)):
            raise ValueError("speed must be a finite number > 0")
        self._speed = float(speed)
        self._start = float(start)
        self._real0 = time.monotonic()
        self._epoch = epoch or datetime.now(UTC)
        self.paced = (self._speed != 1.0) if paced is None else paced
        self._lock = threading.Lock()  # now() is also read from the watchdog thread
        self._slipped = 0.0  # real seconds during which virtual time stood still
        self._limit: float | None = self._start if (held and self.paced) else None
        self._last = self._start
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def slipped(self) -> float:
        """Real seconds virtual time has stood still so far (0 when never overloaded)."""
        return self._slipped

    def now(self) -> float:
        with self._lock:
            v = self._start + (time.monotonic() - self._real0 - self._slipped) * self._speed
            limit = self._limit
            if limit is not None and v > limit:
                self._slipped += (v - limit) / self._speed
                v = limit
            if v < self._last:
                v = self._last
            self._last = v
            return v

    def wall(self) -> datetime:
        return self._epoch + timedelta(seconds=self.now() - self._start)

    def pace(self, until: float | None) -> None:
        """Let virtual time run up to `until` (None: freely again). Only a paced clock
        listens; the limit never moves back."""
        if not self.paced:
            return
        with self._lock:
            if until is None:
                self._limit = None
            elif self._limit is None or until > self._limit:
                self._limit = until
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def sleep(self, seconds: float) -> None:
        if not self.paced:
            await asyncio.sleep(max(0.0, seconds) / self._speed)
            return
        await self.sleep_until(self.now() + max(0.0, seconds))

    async def sleep_until(self, target: float) -> None:
        """Return once virtual time has reached `target`, which may take longer than
        (target - now) / speed of real time while the clock is held. The engine's ticker
        sleeps exactly to the limit it granted (a relative sleep could overshoot it)."""
        if not self.paced:
            await asyncio.sleep(max(0.0, target - self.now()) / self._speed)
            return
        while True:
            now = self.now()
            if now >= target:
                return
            limit = self._limit
            if limit is not None and now >= limit:
                fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self._waiters.append(fut)
                await fut  # until the engine grants more time
                continue
            await asyncio.sleep((min(target, limit if limit is not None else target) - now)
                                / self._speed)


class RealClock(ScaledClock):
    def __init__(self) -> None:
        super().__init__(speed=1.0)


class ManualClock:
    """A clock for tests: `advance(dt)` moves time and wakes every sleeper that is due.

    `speed` stands in for a `--speed` run's clock (what it reports; time still moves only
    by `advance`/`set`): a store on it records the real wall time, not `wall()`."""

    def __init__(self, start: float = 0.0, epoch: datetime | None = None, speed: float = 1.0):
        self._speed = float(speed)
        self._now = float(start)
        self._start = float(start)
        self._epoch = epoch or datetime(2026, 1, 1, tzinfo=UTC)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        return self._now

    def wall(self) -> datetime:
        return self._epoch + timedelta(seconds=self._now - self._start)

    def pace(self, until: float | None) -> None:
        """Time moves only by `advance`/`set`: nothing to hold."""

    async def sleep_until(self, target: float) -> None:
        await self.sleep(target - self._now)

    async def sleep(self, seconds: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + max(0.0, seconds), next(self._seq), fut))
        await fut

    def set(self, t: float) -> None:
        """Jump to `t` (tests that drive the engine synchronously)."""
        self._now = float(t)

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking sleepers in due order and letting them run."""
        target = self._now + seconds
        while True:
            await asyncio.sleep(0)
            if not self._sleepers or self._sleepers[0][0] > target:
                break
            due, _, fut = heapq.heappop(self._sleepers)
            self._now = max(self._now, due)
            if not fut.done():
                fut.set_result(None)
            for _ in range(3):
                await asyncio.sleep(0)
        self._now = target
        await asyncio.sleep(0)
