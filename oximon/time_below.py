"""Time below 90 % (and 85 %), defined once.

GUIDELINE.md: below 90 % the person may not be getting enough oxygen; an incident record
keeps the time below 90 % and below 85 %. The store seals it at an incident's close,
review and the monthly report show it, and batch analysis reports it as CT90/CT85 (the
percent of valid time). Whatever the definition becomes, it changes here.

The definition: a reading counts when it is valid (not missing, not NaN) and *strictly*
below the limit: 89 counts below 90, 90 does not. That is CT90 as the clinical literature,
device summaries (the Wellue/Viatom O2Ring's "time below 90 %") and OSCAR report it.
(pobm's CT counts readings <= the limit; oximon does not follow it there.) Each such
reading stands for the time until the next reading, capped at the trace's usual spacing,
so a gap (probe off, lost device) never counts as time below. A trace already kept at one
row per `row_s` seconds (the store's 1 Hz incident trace) counts each row as `row_s`.
Batch analysis (`oximon.pipeline`) works in integer milli-percent: `limits_in(1000)` gives
the same limits there, and a reading q counts when q < limit.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

LIMITS: tuple[float, float] = (90.0, 85.0)  # the record's "time below 90 % / 85 %"
LOW, SEVERE = LIMITS


def limits_in(scale: int) -> tuple[int, ...]:
    """LIMITS in integer units of 1/scale percent (batch analysis works in milli-percent):
    a reading so quantised counts as below when it is strictly less than the limit."""
    return tuple(round(limit * scale) for limit in LIMITS)


def is_below(spo2: float | None, limit: float) -> bool:
    """A valid reading strictly below `limit`."""
    return spo2 is not None and not math.isnan(spo2) and spo2 < limit


def usual_step(ts: Sequence[float]) -> float:
    """The trace's usual spacing (the median; 1 s for a trace of fewer than 2 readings)."""
    if len(ts) < 2:
        return 1.0
    steps = sorted(b - a for a, b in itertools.pairwise(ts))
    mid = len(steps) // 2
    median = steps[mid] if len(steps) % 2 else (steps[mid - 1] + steps[mid]) / 2
    return median or 1.0


def time_below(ts: Sequence[float], spo2: Sequence[float | None], limit: float,
               row_s: float | None = None) -> float:
    """Seconds of valid readings below `limit` (see the module's definition)."""
    if not ts:
        return 0.0
    step = usual_step(ts) if row_s is None else row_s
    total = 0.0
    for i, value in enumerate(spo2):
        if not is_below(value, limit):
            continue
        if row_s is not None:
            total += row_s
            continue
        dt = ts[i + 1] - ts[i] if i + 1 < len(ts) else step
        total += min(dt, step)
    return total
