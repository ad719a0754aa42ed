"""Which samples become stored readings: the first sample of each second per station (1 Hz
numerics), never two rows for one moment even if the wall clock steps back."""

from __future__ import annotations

import math

from oximon.store.writer import Row
from oximon.types import Sample


def _num(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


class ReadingGate:
    """Per station: the last second taken and the last recorded ts."""

    def __init__(self) -> None:
        self._last_sec: dict[str, int] = {}
        self._last_ts: dict[str, float] = {}

    def take(self, station: str, sample: Sample, ts: float) -> Row | None:
        """The row to store for `sample` (recorded at `ts`), or None to skip it."""
        sec = math.floor(sample.t)
        if self._last_sec.get(station) == sec:
            return None  # 1 Hz numerics: the first sample of each second
        self._last_sec[station] = sec
        if ts <= self._last_ts.get(station, -math.inf):
            return None  # the wall clock stepped back; never two rows for one moment
        self._last_ts[station] = ts
        return (station, ts, _num(sample.spo2), _num(sample.pr), _num(sample.pi),
                int(sample.flags))

    def last_ts(self, station: str) -> float | None:
        """The stamp of the station's newest row (None before any)."""
        return self._last_ts.get(station)

    def continue_after(self, station: str, ts: float) -> None:
        """This station's next rows must come after `ts` (rows a stopped run wrote)."""
        self._last_ts[station] = max(self._last_ts.get(station, -math.inf), ts)
