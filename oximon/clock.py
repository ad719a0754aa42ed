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
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    def wall(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...

    @property
    def speed(self) -> float: ...


class ScaledClock:
    """Virtual time at `speed` × real time, starting at `start` engine seconds."""

    def __init__(self, speed: float = 1.0, start: float = 0.0, epoch: datetime | None = None):
        if not speed > 0:
            raise ValueError("speed must be > 0")
        self._speed = float(speed)
        self._start = float(start)
        self._real0 = time.monotonic()
        self._epoch = epoch or datetime.now(UTC)

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        return self._start + (time.monotonic() - self._real0) * self._speed

    def wall(self) -> datetime:
        return self._epoch + timedelta(seconds=self.now() - self._start)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self._speed)


class RealClock(ScaledClock):
    def __init__(self) -> None:
        super().__init__(speed=1.0)


class ManualClock:
    """A clock for tests: `advance(dt)` moves time and wakes every sleeper that is due."""

    def __init__(self, start: float = 0.0, epoch: datetime | None = None):
        self._now = float(start)
        self._start = float(start)
        self._epoch = epoch or datetime(2026, 1, 1, tzinfo=UTC)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    @property
    def speed(self) -> float:
        return 1.0

    def now(self) -> float:
        return self._now

    def wall(self) -> datetime:
        return self._epoch + timedelta(seconds=self._now - self._start)

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
