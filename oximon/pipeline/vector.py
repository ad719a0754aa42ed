"""The streaming stages of `oximon.pipeline.stages`, computed for whole arrays at once.

Every function here reproduces its streaming counterpart *exactly* (same integer units,
same comparisons, same order of float operations), which `tests/test_pipeline_equivalence.py`
checks sample for sample on random and realistic records. The tricks that make it fast:

- windows on a regular time grid are fixed index offsets (no binary search);
- rules with state (artifact rejection, the level rules) are solved on the few places where
  something can happen (jumps, breaches), not sample by sample;
- sums are integer prefix sums (exact, and far cheaper than float cumsum).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oximon.pipeline.settings import DT_CAP_MS, MS
from oximon.pipeline.stages import ArtifactFilter

BIG = np.int64(1) << np.int64(50)  # sorts after any SpO2 value


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
        return np.searchsorted(tq_sel, tq_sel - span, side="right" if strict else "left")


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
    cand = np.flatnonzero(jump) + 1
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


def _network(m: int) -> list[tuple[int, int]]:
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
        if any_short:
            win = np.where(np.arange(m)[None, :] >= (m - cnt)[:, None], win, BIG)
        srt = np.sort(win, axis=1)
        return (srt[k, (cnt - 1) // 2] + srt[k, cnt // 2]) // 2
    cols = [padded[m - 1 - i: m - 1 - i + n] for i in range(m)]
    if any_short:
        cols = [c if i == 0 else np.where(cnt > i, c, BIG) for i, c in enumerate(cols)]
    for a, b in _network(m):
        x, y = cols[a], cols[b]
        cols[a], cols[b] = np.minimum(x, y), np.maximum(x, y)
    med = (cols[(m - 1) // 2] + cols[m // 2]) >> 1  # floor of the mean, like // 2
    if any_short:
        idx = np.flatnonzero(short)
        sub = np.stack([c[idx] for c in cols])
        j = np.arange(idx.size)
        c = cnt[idx]
        med[idx] = (sub[(c - 1) // 2, j] + sub[c // 2, j]) // 2
    return med


@dataclass
class Episode:
    """One activation of a level rule, as indices into the readings it saw."""

    raised: int
    cleared: int | None  # None: still active at the end
    onset: int


def level_episodes(tq: np.ndarray, breach: np.ndarray, recovered: np.ndarray, delay: int,
                   gap: int) -> list[Episode]:
    """Level.update over readings with times tq (breach implies not recovered)."""
    b = np.flatnonzero(breach)
    if b.size == 0:
        return []
    # Segments of readings that are not recovered, split where the time gap is too long;
    # the delay runs from the first breach in a segment.
    nr = np.flatnonzero(~recovered)  # contains every breach
    seg_start = np.ones(nr.size, dtype=bool)
    seg_start[1:] = nr[1:] != nr[:-1] + 1
    has_prev = nr > 0
    npv = nr[has_prev]
    seg_start[has_prev] |= (tq[npv] - tq[npv - 1]) > gap
    seg = (np.cumsum(seg_start) - 1)[np.searchsorted(nr, b)]
    first = np.ones(b.size, dtype=bool)
    first[1:] = seg[1:] != seg[:-1]
    onset = b[np.flatnonzero(first)][np.cumsum(first) - 1]
    ok = (tq[b] - tq[onset]) >= delay
    ok_idx, ok_onset = b[ok], onset[ok]
    if ok_idx.size == 0:
        return []
    ends = np.flatnonzero(np.diff(nr) != 1)
    ends = np.append(ends, nr.size - 1)
    n = len(tq)
    # Where each candidate raise would clear (the end of its not-recovered run + 1), and
    # the next candidate after that clear: then follow the chain from the first one.
    clear = nr[ends[np.searchsorted(ends, np.searchsorted(nr, ok_idx))]] + 1
    nxt = np.searchsorted(ok_idx, clear, side="right").tolist()
    clear_l, ok_l, onset_l = clear.tolist(), ok_idx.tolist(), ok_onset.tolist()
    out: list[Episode] = []
    i, m = 0, len(ok_l)
    while i < m:
        c = clear_l[i]
        out.append(Episode(ok_l[i], c if c < n else None, onset_l[i]))
        if c >= n:
            break
        i = nxt[i]
    return out


def gap_episodes(since: np.ndarray, until: np.ndarray, delay: float,
                 open_last: bool) -> list[tuple[float, float | None, float]]:
    """Time rules (no_reading, stale_data): each (since, until) interval that lasted at
    least `delay` raises at since + delay and clears at `until` — except the last interval
    when `open_last` (the record ended first). Returns (raised, cleared, onset)."""
    with np.errstate(invalid="ignore", over="ignore"):
        hit = np.flatnonzero((until - since) >= delay)
    out: list[tuple[float, float | None, float]] = []
    last = len(since) - 1
    for i in hit.tolist():
        s = float(since[i])
        cleared = None if (open_last and i == last) else float(until[i])
        out.append((s + delay, cleared, s))
    return out
