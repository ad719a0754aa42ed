"""The store's two times: engine seconds (`t`, from the injected Clock, virtual in tests
and `--speed` runs) and recorded UTC epoch seconds (`ts`). Recorded times carry an offset
so a run continues from where the previous run on this machine stopped (see sessions)."""

from __future__ import annotations

import time

from oximon.clock import Clock


class Timebase:
    """Engine time and recorded time of one store."""

    def __init__(self, clock: Clock | None):
        self.clock = clock
        self.offset = 0.0  # added to the clock's wall time (set when a session starts)

    def now_t(self) -> float:
        return self.clock.now() if self.clock is not None else 0.0

    def clock_wall(self) -> float:
        if self.clock is not None:
            return self.clock.wall().timestamp()
        return time.time()

    def now_ts(self) -> float:
        return round(self.clock_wall() + self.offset, 3)

    def wall(self, t: float) -> float:
        """Engine seconds → UTC epoch seconds, through the clock's wall time."""
        if self.clock is None:
            return round(time.time() + self.offset, 3)
        return round(self.clock.wall().timestamp() - (self.clock.now() - t) + self.offset, 3)
