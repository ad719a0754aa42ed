"""The streaming stages of `oximon.pipeline.stages`, computed for whole arrays at once.

Every function here reproduces its streaming counterpart *exactly* (same integer units,
same comparisons, same order of float operations), which `tests/test_pipeline_equivalence.py`
checks sample for sample on random and realistic records. These are the reference
implementation of batch analysis (`oximon.analysis._analyze`: windows by binary search);
the fast path for every time axis is `oximon.pipeline.grid`, which reuses the helpers
shared here (`level_runs`, `Findings`, ...). The tricks:

- windows on a regular time grid are fixed index offsets (no binary search);
- rules with state (artifact rejection, the level rules) are solved on the few places where
  something can happen (jumps, readings that are not recovered), not sample by sample;
- sums are integer prefix sums (exact, and far cheaper than float cumsum).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from oximon import time_below as below
from oximon.codes import Priority
from oximon.pipeline.settings import DT_CAP_MS, MS, Q
from oximon.pipeline.stages import ArtifactFilter

BIG = np.int64(1) << np.int64(50)  # sorts after any SpO2 value
CHUNK = 1 << 21  # elements of window values sorted at once (long windows at high rates)
# CT90 / CT85 (`oximon.time_below`): readings strictly below 90 / 85, in milli-percent.
CT_LIMITS = below.limits_in(Q)  # (90000, 85000)


def push(a: np.ndarray, v: int) -> np.ndarray:
    """a with v appended (np.append without its per-call overhead)."""
    out = np.empty(a.size + 1, dtype=np.result_type(a.dtype, np.int64))
    out[:-1] = a
    out[-1] = v
    return out


# One rule's alarm spans: condition, priority, raised times, cleared times (NaN: still
# active when the record ended).
Spans = tuple[str, Priority, np.ndarray, np.ndarray]


def spans(name: str, priority: Priority, raised: list[float],
          cleared: list[float | None]) -> Spans:
    return (name, priority, np.array(raised, dtype=float),
            np.array([np.nan if c is None else c for c in cleared], dtype=float))


class Findings:
    """What a batch path computed, in exact integers where sums are involved (SpO2 in
    milli-percent, time in ms), so the general and the regular-grid paths report identical
    figures. `oximon.analysis` turns it into the result. (A plain class: a dataclass
    costs every `oximon analyze` its creation at import.)"""

    __slots__ = ("b85", "b90", "duration", "events", "nadir_q", "spans", "sum_xw",
                 "valid_ms")

    def __init__(self, spans: list[Spans] | None = None, duration: float = 0.0):
        self.spans: list[Spans] = [] if spans is None else spans
        self.duration = duration
        self.valid_ms = 0  # observed time of the accepted readings
        self.sum_xw = 0  # sum of accepted reading x weight (ms): the mean SpO2
        self.b90 = 0  # ms of accepted readings strictly below 90 (oximon.time_below)
        self.b85 = 0
        self.nadir_q: int | None = None  # the lowest accepted reading (a device value)
        # Candidate events (before the minimum duration): times of the first and last
        # reading, baseline (sum, count) at the start, lowest reading, sum of weights (ms)
        # and of reading x weight over the event (arrays, one entry per candidate).
        self.events: tuple[np.ndarray, ...] | None = None

    def set_events(self, t0: np.ndarray, t1: np.ndarray, s0: np.ndarray, n0: np.ndarray,
                   nadir: np.ndarray, sw: np.ndarray, sxw: np.ndarray) -> None:
        self.events = (t0, t1, s0, n0, nadir, sw, sxw)


def weights_ms(tq: np.ndarray, cap_ms: int) -> np.ndarray:
    """Milliseconds each row stands for: the time to the next row, capped (a gap in the
    file is not observed time); the last row counts like the one before it."""
    n = tq.size
    w = np.zeros(n, dtype=np.int64)
    if n >= 2:
        np.minimum(np.diff(tq), cap_ms, out=w[:-1])
        w[-1] = w[-2]
    return w


def battery_spans(t: np.ndarray, rows: np.ndarray, priority: Priority) -> list[Spans]:
    """battery_low from the rows (sorted) whose flags say so: raised at the first of each
    run of rows, cleared at the row after it."""
    if rows.size == 0:
        return []
    start = np.ones(rows.size, dtype=bool)
    start[1:] = rows[1:] != rows[:-1] + 1
    after = rows[push(start.nonzero()[0][1:] - 1, rows.size - 1)] + 1
    n = t.size
    cleared = np.where(after < n, t[np.minimum(after, n - 1)], np.nan)
    return [("battery_low", priority, t[rows[start]], cleared)]


class Grid:
    """Window starts on the row time grid (int ms). `prefix[r]` counts the selected rows
    before row r, so a window start on the rows maps to an index into the selection."""

    def __init__(self, tq_rows: np.ndarray):
        self.tq = tq_rows
        n = len(tq_rows)
        self.step = 0
        if n >= 2:
            d = np.diff(tq_rows)
            step = int(d[0])
            if step > 0 and bool(np.all(d == step)):
                self.step = step

    def starts(self, rows: np.ndarray, prefix: np.ndarray, span: int, strict: bool,
               tq_sel: np.ndarray) -> np.ndarray:
        """For each selected row (row indices `rows`, times `tq_sel`), the index into the
        selection of the first selected row with time >= t - span (> when strict)."""
        if self.step:
            o = (span - 1) // self.step if strict else span // self.step
            row_lo = np.clip(rows - o, 0, len(self.tq))
            return prefix[row_lo]
        return tq_sel.searchsorted(tq_sel - span, side="right" if strict else "left")


def keep_rows(t: np.ndarray, limit: float) -> np.ndarray:
    """Rows the live pipeline would use: a finite time within the limit that does not go
    back before any earlier row (out-of-order rows are skipped, like the live pipeline)."""
    ok = np.abs(t) <= limit  # False for NaN
    if t.size < 2:
        return ok
    tf = t[ok]
    if tf.size and bool(np.all(tf[1:] >= tf[:-1])):
        return ok
    tk = np.where(ok, t, -np.inf)
    prev = np.empty_like(tk)
    prev[0] = -np.inf
    np.maximum.accumulate(tk[:-1], out=prev[1:])
    return ok & (t >= prev)


def artifact_accept(tq: np.ndarray, q: np.ndarray, step_q: int, rate_q: int,
                    hold_ms: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Accepted mask for the valid readings (times tq, values q), and the confirmed holds:
    (first held index, confirming index) pairs — readings accepted retroactively, whose
    verdicts the live pipeline reports at the confirming reading's time."""
    n = len(q)
    acc = np.ones(n, dtype=bool)
    confirmed: list[tuple[int, int]] = []
    if n < 2:
        return acc, confirmed
    dt = np.minimum(np.diff(tq), DT_CAP_MS)
    jump = np.abs(np.diff(q)) * MS > step_q * MS + rate_q * dt
    cand = jump.nonzero()[0] + 1
    if cand.size == 0:
        return acc, confirmed
    # Away from jumps every reading is accepted, so the filter's state before a jump is
    # simply the previous reading; replay the streaming rule itself from there until it
    # accepts a reading again (then it is back in step with the optimistic assumption).
    f = ArtifactFilter(step_q, rate_q, hold_ms)
    pos = 0
    for c in cand.tolist():
        if c < pos:
            continue
        f.ref_q, f.last_tq, f.suspect_tq = int(q[c - 1]), int(tq[c - 1]), None
        f.held = []
        k = c
        done = False
        while not done and k < n:
            # Small slices as Python ints: cheap, and an artifact rarely outlasts one.
            for tk, qk in zip(tq[k:k + 16].tolist(), q[k:k + 16].tolist(), strict=True):
                if f.accept(tk, qk):
                    done = True
                    break
                k += 1
        if k > c:  # readings c .. k-1 were held back
            if done and f.released:
                confirmed.append((c, k))
            else:  # the jump returned, or the record ended while it was held
                acc[c:k] = False
        pos = k + 1
    return acc, confirmed


def sorting_network(m: int) -> list[tuple[int, int]]:
    """Comparators of an odd-even transposition sort of m items (m small)."""
    return [(i, i + 1) for r in range(m) for i in range(r % 2, m - 1, 2)]


def average(q: np.ndarray, lo: np.ndarray, median: bool) -> np.ndarray:
    """Averager.push for every accepted reading, given each window's first index."""
    n = len(q)
    k = np.arange(n)
    lo = np.minimum(lo, k)
    cnt = k - lo + 1
    if n == 0:
        return q.copy()
    if not median:
        c = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(q, out=c[1:])
        return (c[1:] - c[lo]) // cnt
    m = int(cnt.max())
    padded = np.concatenate([np.full(m - 1, BIG, dtype=np.int64), q])
    short = cnt < m
    any_short = bool(short.any())
    if m > 8:
        from numpy.lib.stride_tricks import sliding_window_view

        win = sliding_window_view(padded, m)  # row k holds q[k-m+1 .. k]
        out = np.empty(n, dtype=np.int64)
        rows = max(1, CHUNK // m)  # sort a bounded block of windows at a time
        for a in range(0, n, rows):
            w, c = win[a:a + rows], cnt[a:a + rows]
            if any_short:
                w = np.where(np.arange(m)[None, :] >= (m - c)[:, None], w, BIG)
            srt = np.sort(w, axis=1)
            j = np.arange(c.size)
            out[a:a + rows] = (srt[j, (c - 1) // 2] + srt[j, c // 2]) // 2
        return out
    cols = [padded[m - 1 - i: m - 1 - i + n] for i in range(m)]
    if any_short:
        cols = [c if i == 0 else np.where(cnt > i, c, BIG) for i, c in enumerate(cols)]
    for a, b in sorting_network(m):
        x, y = cols[a], cols[b]
        cols[a], cols[b] = np.minimum(x, y), np.maximum(x, y)
    med = (cols[(m - 1) // 2] + cols[m // 2]) >> 1  # floor of the mean, like // 2
    if any_short:
        idx = short.nonzero()[0]
        sub = np.stack([c[idx] for c in cols])
        j = np.arange(idx.size)
        c = cnt[idx]
        med[idx] = (sub[(c - 1) // 2, j] + sub[c // 2, j]) // 2
    return med


class Episode(NamedTuple):
    """One activation of a level rule, as indices into the readings it saw."""

    raised: int
    cleared: int | None  # None: still active at the end
    onset: int


def level_runs(pos: np.ndarray, tqn: np.ndarray, breach: np.ndarray, delay: int, gap: int,
               w: np.ndarray | None = None, sat: int = 0
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Level.update, solved on the readings where a rule is *not recovered* (the only ones
    where anything can happen): `pos` their positions in the rule's stream of readings
    (consecutive = nothing recovered in between), `tqn` their times, `breach` whether each
    breaches. Returns (raise, end, onset) index arrays into these: the rule became active
    at `raise` (its delay counted from `onset`) and clears at the reading after `end` (the
    last of its not-recovered run), if there is one. With `w` (the running sum of each
    reading's depth x time since the reading before: never decreasing) and `sat` > 0 the
    rule also becomes active at the first breach where w has grown by `sat` since the
    onset (Level's integrated delay). (`oximon.pipeline.grid` solves the SpO2 rules with
    the same two halves, `segment_onsets` and `first_raised`, searching its own way.)"""
    b = breach.nonzero()[0]
    if b.size == 0:
        return _NO_RUNS
    m = tqn.size
    b = push(b, m)  # (the breaches as runs of one, `first_at`)
    # Runs of consecutive positions (nothing recovered in between); segments also split
    # where the time gap is too long.
    starts = (pos[1:] != pos[:-1] + 1).nonzero()[0] + 1
    gaps = ((tqn[1:] - tqn[:-1]) > gap).nonzero()[0] + 1
    gaps = gaps[pos[gaps] == pos[gaps - 1] + 1]  # (not where a run starts anyway)
    onset, seg_end = segment_onsets(b, b, starts, gaps, m)
    # The first breach at least `delay` after the onset, if still in the segment (times
    # increase: the first reading that late, then the first breach from there).
    cand = first_at(b, b, tqn.searchsorted(tqn[onset] + delay))
    if w is not None and sat > 0:
        cand = np.minimum(cand, first_at(b, b, w.searchsorted(w[onset] + sat)))
    return first_raised(cand, onset, seg_end, starts, m)


def first_at(b0: np.ndarray, b1: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The first breach at or after each position p (0 <= p <= m; m: none), the breaches
    given as runs b0[i] .. b1[i] (sorted), the last run m .. m."""
    return np.maximum(b0[b1.searchsorted(p)], p)


def segment_onsets(b0: np.ndarray, b1: np.ndarray, starts: np.ndarray, gaps: np.ndarray,
                   m: int) -> tuple[np.ndarray, np.ndarray]:
    """The onsets of `level_runs`' segments that hold a breach, and where each of those
    segments ends (m readings; the breaches as runs, `first_at`; `starts` and `gaps`
    where runs start and where a time gap splits one inside a run): the delay runs
    from the first breach in a segment."""
    seg = np.concatenate([_ZERO, starts, gaps])
    if gaps.size:
        seg.sort()
    seg_end = push(seg[1:], m)
    onset = first_at(b0, b1, seg)
    has = onset < seg_end
    return onset[has], seg_end[has]


def first_raised(cand: np.ndarray, onset: np.ndarray, seg_end: np.ndarray,
                 starts: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`level_runs`' answer from each onset's first breach that raises (`cand`; at or
    beyond the segment's end: none)."""
    ok = cand < seg_end
    cand, onset = cand[ok], onset[ok]
    if cand.size == 0:
        return _NO_RUNS
    # Once active, a rule stays so to the end of its run (a gap does not clear it), and
    # the next run starts afresh: so it is raised at the first candidate of each run.
    run_starts = np.concatenate([_ZERO, starts])
    run = run_starts.searchsorted(cand, side="right") - 1
    firsts = np.ones(run.size, dtype=bool)
    np.not_equal(run[1:], run[:-1], out=firsts[1:])
    run = run[firsts]
    ends = push(starts, m) - 1
    return cand[firsts], ends[run], onset[firsts]


_ZERO = np.zeros(1, dtype=np.int64)
_NO_RUNS = (np.zeros(0, dtype=np.int64),) * 3


def level_episodes(tq: np.ndarray, breach: np.ndarray, recovered: np.ndarray, delay: int,
                   gap: int, depth: np.ndarray | None = None, sat: int = 0) -> list[Episode]:
    """Level.update over readings with times tq (breach implies not recovered); `depth`
    (each reading's depth below the threshold, 0 if not) with `sat` > 0: the integrated
    delay."""
    nr = (~recovered).nonzero()[0]  # contains every breach
    if nr.size == 0:
        return []
    w = None
    if depth is not None and sat > 0:
        w = np.cumsum(integrand(depth[nr], tq[nr], gap + 1))
    raised, ended, onsets = level_runs(nr, tq[nr], breach[nr], delay, gap, w=w, sat=sat)
    n = len(tq)
    out = []
    for r, e, o in zip(nr[raised].tolist(), (nr[ended] + 1).tolist(), nr[onsets].tolist(),
                       strict=True):
        out.append(Episode(r, e if e < n else None, o))
    return out


def integrand(depth: np.ndarray, tq: np.ndarray, cap: int | None = None) -> np.ndarray:
    """Each reading's share of an integrated delay: its depth times the time since the
    reading before it (0 for the first, and never negative), as int64. `cap` (max_gap +
    1) bounds the time: a longer interval restarts the delay, so its share never counts,
    and capped the running sums cannot overflow however far apart the times are."""
    dt = np.zeros(tq.size, dtype=np.int64)
    if tq.size > 1:
        np.subtract(tq[1:], tq[:-1], out=dt[1:], casting="unsafe")
        np.maximum(dt, 0, out=dt)
        if cap is not None:
            np.minimum(dt, cap, out=dt)
    return depth.astype(np.int64) * dt


def gap_episodes(since: np.ndarray, until: np.ndarray, delay: float,
                 open_last: bool) -> list[tuple[float, float | None, float]]:
    """Time rules (no_reading, stale_data): each (since, until) interval that lasted at
    least `delay` raises at since + delay and clears at `until` — except the last interval
    when `open_last` (the record ended first). Returns (raised, cleared, onset)."""
    with np.errstate(invalid="ignore", over="ignore"):
        hit = ((until - since) >= delay).nonzero()[0]
    out: list[tuple[float, float | None, float]] = []
    last = len(since) - 1
    for i in hit.tolist():
        s = float(since[i])
        cleared = None if (open_last and i == last) else float(until[i])
        out.append((s + delay, cleared, s))
    return out


def gap_spans(name: str, priority: Priority, since: np.ndarray, until: np.ndarray,
              delay: float, open_last: bool) -> Spans:
    """`gap_episodes` as the rule's spans, in whole arrays (no Python object per
    episode): the same float additions, so the same times. (The fast path's times are
    finite, and it runs inside `analyze`'s np.errstate: none here, whose entry costs
    several µs inside a call.)"""
    hit = ((until - since) >= delay).nonzero()[0]
    cleared = until[hit]
    if open_last and hit.size and int(hit[-1]) == len(since) - 1:
        cleared[-1] = np.nan  # (the record ended first)
    return (name, priority, since[hit] + delay, cleared)
