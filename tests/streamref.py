"""Run the live StationPipeline over arrays: the reference that batch analysis must match."""

from __future__ import annotations

import math

import numpy as np

from oximon.pipeline import StationPipeline
from oximon.profile import Profile, load_profile
from oximon.types import Flags, Sample


def stream_alarms(time_s, spo2, pr, flags=None, profile: Profile | None = None,
                  ticks: float | None = None) -> list[tuple]:
    """(condition, priority, raised_s, cleared_s) for every activation, as the live
    pipeline reports them sample by sample (and, with `ticks`, ticked in between)."""
    p = StationPipeline("s", profile or load_profile(None))
    n = len(time_s)
    fl = np.zeros(n, dtype=np.int64) if flags is None else np.asarray(flags)
    open_: dict[str, list] = {}
    out: list[list] = []
    last_t = -math.inf
    for i in range(n):
        t = float(time_s[i])
        if ticks and math.isfinite(t) and math.isfinite(last_t):
            k = last_t + ticks
            while k < t:
                _collect(p.tick(k), open_, out)
                k += ticks
        if math.isfinite(t) and t > last_t:
            last_t = t
        sample = Sample(t, float(spo2[i]), float(pr[i]), flags=Flags(int(fl[i])))
        _collect(p.push(sample), open_, out)
    return sorted((tuple(a) for a in out), key=lambda a: (a[2], a[0]))


def _collect(changes, open_, out) -> None:
    for c in changes:
        if c.active:
            rec = [c.condition, c.priority.label, c.t, None]
            open_[c.condition] = rec
            out.append(rec)
        else:
            open_.pop(c.condition)[3] = c.t


def batch_alarms(result) -> list[tuple]:
    return [(a.condition, a.priority.label, a.raised_s, a.cleared_s) for a in result.alarms]
