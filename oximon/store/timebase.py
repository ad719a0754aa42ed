"""The store's two times: engine seconds (`t`, from the injected Clock, virtual in tests
and `--speed` runs) and recorded UTC epoch seconds (`ts`).

Every recorded time is a true wall time: nothing is ever dated after the wall clock.
- At speed 1 (live monitoring, and a ManualClock standing in for the wall clock in tests)
  the clock's own `wall()` is the recorded time, as it always was.
- In a compressed run (`--speed X`, X != 1) the clock's `wall()` is the *virtual* calendar
  (ten minutes of scenario in one real minute at ×10): recording it dated incidents in the
  future. Such a run records the real wall time at which each thing happened; the virtual
  engine seconds stay in each event's and alarm-log entry's `t`, and the run is marked as
  compressed (the session's `speed`, each incident's `timeline`) so a reviewer reads the
  virtual figures as what they are (see `Timeline`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from oximon.clock import Clock


@dataclass(frozen=True)
class Timeline:
    """How a run's times relate to the wall clock, recorded with its session and with
    every incident it opens (in the hash chain) when it is not plain live monitoring."""

    speed: float = 1.0  # virtual seconds per real second
    simulated: bool = False  # every source a simulator or a recording: nobody was there

    @property
    def live(self) -> bool:
        return self.speed == 1.0 and not self.simulated

    def marker(self) -> dict[str, Any] | None:
        """What an incident's "opened" event says about its run (None: live, unchanged)."""
        if self.live:
            return None
        return {"speed": self.speed, "simulated": self.simulated}


def label(timeline: dict[str, Any] | None) -> str | None:
    """The short form kept in the incidents table and shown in lists: "simulated ×10"."""
    if not timeline:
        return None
    speed = float(timeline.get("speed", 1.0))
    words = "simulated" if timeline.get("simulated") else "not live"
    return words if speed == 1.0 else f"{words} ×{speed:g}"


def describe(timeline: dict[str, Any] | None) -> str:
    """The words a reviewer reads for an incident's `timeline` marker ("" when live)."""
    if not timeline:
        return ""
    speed = float(timeline.get("speed", 1.0))
    words = "SIMULATED" if timeline.get("simulated") else "NOT LIVE"
    if speed != 1.0:
        return (f"{words}, run at ×{speed:g} speed: dates are real wall times; durations "
                "and +offsets are the scenario's virtual time")
    return f"{words}: a simulator or a recording, nobody was monitored"


class Timebase:
    """Engine time and recorded time of one store."""

    def __init__(self, clock: Clock | None, real_time: Callable[[], float] = time.time,
                 simulated: bool = False):
        self.clock = clock
        self.real_time = real_time
        speed = clock.speed if clock is not None else 1.0
        self.timeline = Timeline(speed=float(speed), simulated=simulated)

    @property
    def compressed(self) -> bool:
        """The clock runs faster or slower than the wall: its `wall()` is not a date."""
        return self.timeline.speed != 1.0

    def now_t(self) -> float:
        return self.clock.now() if self.clock is not None else 0.0

    def now_ts(self) -> float:
        if self.clock is None or self.compressed:
            return round(self.real_time(), 6)
        return round(self.clock.wall().timestamp(), 3)

    def wall(self, t: float) -> float:
        """Engine seconds → UTC epoch seconds. In a compressed run: the real moment that
        engine time `t` was reached (never after the wall clock's now)."""
        if self.clock is None:
            return round(self.real_time(), 3)
        if self.compressed:
            ago = max(0.0, self.clock.now() - t) / self.timeline.speed
            # Microseconds: at ×1000 one virtual second is a real millisecond, and two
            # readings of one station must never share a stamp.
            return round(self.real_time() - ago, 6)
        return round(self.clock.wall().timestamp() - (self.clock.now() - t), 3)
