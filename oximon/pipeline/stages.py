"""The streaming stages of the signal pipeline, one small class per job.

Each stage is the *definition* of its rule; `oximon.pipeline.vector` computes the same
thing for whole arrays and is tested against these sample for sample. Units are the exact
integers of `settings` (SpO2 in milli-percent, time in ms).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque

from oximon.pipeline.settings import DT_CAP_MS, MS


class ArtifactFilter:
    """Rejects motion artifacts: a jump faster than physiology allows.

    A reading is accepted when it lies within `step + rate × dt` of the last accepted one,
    dt being the time since the previous valid reading (so a fall hidden by a finger-out
    gap is judged over the whole gap, while a spike that lingers for a few readings does
    not earn itself a wider allowance). A reading outside that bound is held back as an
    artifact. A jump that returns within `hold_ms` never reaches the detectors. If readings
    keep disagreeing for `hold_ms` the new level is real: the reading that confirms it is
    accepted and so are the held ones, retroactively, with their own times (`released`),
    so the rules count their delays from the jump and a real sudden fall alarms at
    jump + max(delay, hold), not jump + hold + delay.
    """

    __slots__ = ("held", "hold", "last_tq", "rate", "ref_q", "released", "step", "suspect_tq")

    def __init__(self, step_q: int, rate_q: int, hold_ms: int):
        self.step = step_q * MS
        self.rate = rate_q
        self.hold = hold_ms
        self.ref_q: int | None = None
        self.last_tq = 0
        self.suspect_tq: int | None = None
        self.held: list[tuple[float, int, int]] = []  # (t, tq, q) held back, oldest first
        # After accept() returned True: held readings confirmed as real, to be accepted
        # before the current one (empty unless a hold was just confirmed).
        self.released: list[tuple[float, int, int]] = _NONE

    def accept(self, tq: int, q: int, t: float = 0.0) -> bool:
        ref = self.ref_q
        dt = min(tq - self.last_tq, DT_CAP_MS)
        self.last_tq = tq
        if ref is not None and abs(q - ref) * MS > self.step + self.rate * dt:
            if self.suspect_tq is None:
                self.suspect_tq = tq
            if tq - self.suspect_tq < self.hold:
                self.held.append((t, tq, q))
                return False
            self.released = self.held  # the new level persisted: the held ones were real
        else:
            self.released = _NONE  # back within the bound: the held ones were an artifact
        if self.held:
            self.held = []
        self.ref_q, self.suspect_tq = q, None
        return True


_NONE: list[tuple[float, int, int]] = []  # shared, never appended to


class Averager:
    """Median (or mean) of the accepted readings in the last `window_ms` (t - w, t].

    The median of an even count is the floor of the mean of the middle two, in integers,
    so the batch path can reproduce it exactly.
    """

    __slots__ = ("median", "sorted", "sum", "window", "ws")

    def __init__(self, window_ms: int, median: bool):
        self.window = window_ms
        self.median = median
        self.ws: deque[tuple[int, int]] = deque()
        self.sorted: list[int] = []
        self.sum = 0

    def push(self, tq: int, q: int) -> int:
        ws = self.ws
        ws.append((tq, q))
        self.sum += q
        if self.median:
            insort(self.sorted, q)
        edge = tq - self.window
        while ws[0][0] <= edge and len(ws) > 1:  # the current reading always counts
            _, old = ws.popleft()
            self.sum -= old
            if self.median:
                del self.sorted[bisect_left(self.sorted, old)]
        n = len(ws)
        if self.median:
            s = self.sorted
            return (s[(n - 1) // 2] + s[n // 2]) // 2
        return self.sum // n


class Baseline:
    """The person's own recent baseline: the mean of the averaged readings from
    `lag + window` to `lag` ms ago, as an exact (sum, count) pair. It is known once the
    oldest reading in it is at least half a window old."""

    __slots__ = ("cover", "lag", "pending", "span", "sum", "win")

    def __init__(self, window_ms: int, lag_ms: int):
        self.lag = lag_ms
        self.span = lag_ms + window_ms
        self.cover = lag_ms + window_ms // 2
        self.pending: deque[tuple[int, int]] = deque()
        self.win: deque[tuple[int, int]] = deque()
        self.sum = 0

    def update(self, tq: int, q: int) -> tuple[int, int]:
        """Baseline (sum, count) seen by the reading at tq (count 0 = not known yet);
        then remember this reading."""
        pending, win = self.pending, self.win
        edge = tq - self.lag
        while pending and pending[0][0] < edge:
            item = pending.popleft()
            win.append(item)
            self.sum += item[1]
        edge = tq - self.span
        while win and win[0][0] < edge:
            self.sum -= win.popleft()[1]
        pending.append((tq, q))
        if win and win[0][0] <= tq - self.cover:
            return self.sum, len(win)
        return 0, 0


class Level:
    """A rule that must hold for `delay_ms` before it is active, with hysteresis on both
    sides: once breached, only a reading past the recovery level restarts the delay (so
    89, 90, 89... is one episode, not many), and an active rule clears only there.
    Invalid readings are not shown to it: they neither confirm nor clear. A gap between
    readings longer than `gap_ms` restarts the delay (a new episode), but never clears an
    active rule. It becomes active only on a reading that breaches.

    With `sat` > 0 it also has an integrated delay (like Nellcor SatSeconds): from the
    onset, each later reading adds `depth` (how far below the threshold, 0 if not)
    times the time since the reading before; the rule becomes active as soon as that sum
    reaches `sat`, even before `delay_ms` ran out. A deep fall alarms within seconds, a
    shallow dip waits the full delay. The sum starts afresh with every onset (the same
    reset as the delay's), so a dip that recovered leaves nothing behind."""

    __slots__ = ("acc", "active", "delay", "gap", "last_tq", "onset_t", "onset_tq", "sat")

    def __init__(self, delay_ms: int, gap_ms: int, sat: int = 0):
        self.delay = delay_ms
        self.gap = gap_ms
        self.sat = sat
        self.acc = 0
        self.active = False
        self.onset_tq: int | None = None
        self.onset_t = 0.0
        self.last_tq: int | None = None

    def update(self, t: float, tq: int, breach: bool, recovered: bool, depth: int = 0) -> int:
        """+1 when the rule became active at this reading, -1 when it cleared, else 0."""
        last, self.last_tq = self.last_tq, tq
        if self.active:
            if recovered:
                self.active = False
                self.onset_tq = None
                return -1
            return 0
        if recovered or (last is not None and tq - last > self.gap):
            self.onset_tq = None
        if self.onset_tq is not None and last is not None and depth > 0:
            self.acc += depth * (tq - last)
        if not breach:
            return 0
        if self.onset_tq is None:
            self.onset_tq, self.onset_t, self.acc = tq, t, 0
        if tq - self.onset_tq >= self.delay or (self.sat and self.acc >= self.sat):
            self.active = True
            return 1
        return 0
