"""The searches behind the SpO2 level rules of batch analysis (`oximon.pipeline.grid`).

The rules are solved on the rows where they are not recovered, several rules side by side
in one sorted array of rows (each rule's rows offset by a multiple of 2n + 2, so no run
spans two rules). What a rule does is decided at a few hundred places on a 24 h record
(where runs break, where segments start, where delays end): these helpers find them with
a few passes over the rows and otherwise work on those small arrays, with lookups that
avoid binary searches through long arrays where the usual case needs none.
"""

from __future__ import annotations

import numpy as np

from oximon.pipeline.axis import Axis, Holes

_EMPTY = np.zeros(0, dtype=np.int64)
_ZERO = np.zeros(1, dtype=np.int64)
# The rows compared where a delay ends on an irregular axis (`reach`), around the guess.
_AROUND = np.arange(-1, 2)[:, None]


def runs_of(pad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The runs of True in a mask of m places, first and last places, and a run from m on
    (`vector.first_at`'s breaches: far fewer runs than breaches to search). `pad` holds
    the mask at 1 .. m, with a place before it and two after, set here: a False on each
    side makes every run start and end at an edge, and a True after the mask the run from
    m (joined to a run that reaches m - 1: nothing changes for `first_at`)."""
    m = pad.size - 3
    pad[0] = pad[m + 2] = False
    pad[m + 1] = True
    edge = (pad[1:] != pad[:-1]).nonzero()[0]  # (place e: pad[e + 1] is the other)
    return edge[0::2], edge[1::2] - 1


def place(pos: np.ndarray, at: np.ndarray, d: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The first place in sorted distinct `pos` whose value is v or more (pos.size:
    none), knowing pos[at] = v - d: most often at + d (no value skipped in between),
    searched only where it is not."""
    m = pos.size
    g = np.minimum(at + d, m - 1)
    miss = (pos[g] != v).nonzero()[0]
    if miss.size:
        g[miss] = pos.searchsorted(v[miss])
    return g


def reach(ax: Axis, rows: np.ndarray, which: np.ndarray, delays: list[int]) -> np.ndarray:
    """The first row at least delays[which] ms after each row (n: none). On a grid, so
    many steps on; else, at usual rates, k or k + 1 rows on (k: the delay in usual
    intervals, rounded, at least 1): rows k - 1 .. k + 1 on are compared, and the answer
    is k or k + 1 on wherever the first is before it and the last not. Only elsewhere
    (near a dropout, a change of rate) is it searched among all the rows' times, whose
    top levels are no longer in cache by then. (Per delay, not per row: the k.)"""
    n = ax.n
    if ax.step:  # tq = tq0 + row x step
        return np.minimum(rows + np.array([-(-d // ax.step) for d in delays])[which], n)
    tq, dmed = ax.tq, ax.dmed  # (int32 or int64, `Axis`: the delays in its dtype keep
    end = tq[rows] + np.array(delays, dtype=tq.dtype)[which]  # the search from casting tq)
    k = rows + np.array([max(1, (2 * d + dmed) // (2 * dmed)) for d in delays])[which]
    # (k at most n - 2: where that is too soon, the search; if n is 2, row k - 1 = -1
    # is the last, and row k + 1 too: a search.)
    np.minimum(k, n - 2, out=k)
    t = tq[k + _AROUND] < end  # (rows k - 1, k, k + 1 on)
    miss = (t[2] >= t[0]).nonzero()[0]  # (row k - 1 on not before, or row k + 1 before)
    k = k + t[1]
    if miss.size:
        k[miss] = tq.searchsorted(end[miss])
    return k


def breaks(pos: np.ndarray, ax: Axis, holes: Holes, hmask: np.ndarray, gap: int
           ) -> tuple[np.ndarray, np.ndarray]:
    """Where runs of consecutive readings start in sorted accepted rows `pos` (rows far
    apart, more than n, are another rule's), and where, inside a run, an interval over
    max_gap (`gap`) splits it (`vector.level_runs`' starts and gaps). Rows apart are
    consecutive readings when only holes lie between them: looked up where they are
    apart, not everywhere; an interval between neighbouring rows is over max_gap only
    on an axis that has such intervals."""
    n, kk, m = ax.n, 2 * ax.n + 2, pos.size
    # (in fresh temporaries: memory the heap has just had back is likely in cache; a
    # buffer of their own, kept between calls, measured slower: more to keep in cache)
    brk = (pos[1:] != pos[:-1] + 1).nonzero()[0] + 1
    a = pos[brk - 1] + 1
    ra = a % kk  # the rows between are ra .. rb - 1 (rb beyond n: another rule's)
    rb = pos[brk] - (a - ra)
    # A row between is an accepted reading (a real break) unless the first, ra, is a
    # hole whose run of holes reaches rb (ra is n only after the last row: no hole).
    across = hmask[np.minimum(ra, n - 1)]
    gaps = _EMPTY
    if across.any():
        i = across.nonzero()[0]
        ends = holes.ends
        across[i] = ends[ends.searchsorted(ra[i])] + 1 >= rb[i]
        i = i[across[i]]  # (a run goes on across holes: split if that takes too long)
        gaps = brk[i][ax.rel[rb[i]] - ax.rel[ra[i] - 1] > gap]  # (int32 if it fits)
    real = ~across
    if ax.dmax > gap:  # neighbouring rows more than max_gap apart
        long_ = ax.long_after(gap) + 1  # (the later row of each)
        ll = (long_ + kk * np.arange(int(pos[-1]) // kk + 1)[:, None]).ravel()
        p = pos.searchsorted(ll)
        ok = (p > 0) & (p < m)
        p, ll = p[ok], ll[ok]
        p = p[(pos[p] == ll) & (pos[p - 1] == ll - 1)]
        if p.size:
            gaps = np.sort(np.concatenate([gaps, p]))
    return brk[real], gaps


def sat_reach(ax: Axis, rows: np.ndarray, x: np.ndarray, level: int, o: np.ndarray,
              g: np.ndarray, sat: int, gap: int) -> np.ndarray:
    """Where Level's integrated delay ends, if before the plain delay's end: from each
    onset o (a place in a rule's rows, sorted), the first place p where the rows' depth
    below `level` (readings x) x ms since the reading before, summed over o + 1 .. p,
    reaches `sat`, or g (the plain delay's first place) if that comes first. The sum
    matters only from an onset to g, a few rows on at usual rates: summed there, a row
    of places per step on (the sums run down the columns), not over all the rule's
    rows. Within a segment no interval is over max_gap; past its end (an interval over
    max_gap, or a row recovered) the place is too late to raise, whatever the sum."""
    width = int((g - o).max(initial=0))
    if width <= 1:
        return g
    if o.size * width > rows.size:  # (the delay spans many rows: sum them all once)
        w = _sat_sum(ax, rows, np.maximum(level - x[rows], 0), gap)
        return np.minimum(w.searchsorted(w[o] + sat), g)
    # Each onset's sums side by side, a column per onset and a row per place from o + 1
    # (a repeated last row adds 0 ms, and any place past it is past g), summed down the
    # columns; terms never negative, ms capped like `_sat_sum`'s: the places before the
    # sum reaches `sat` are those where it is still below.
    at = np.arange(width)[:, None] + o
    if int(o[-1]) + width > rows.size:  # (o sorted)
        np.minimum(at, rows.size - 1, out=at)
    r = rows[at]
    tr = r * ax.step if ax.step else ax.rel[r]  # (int32 where the times fit)
    term = np.minimum(tr[1:] - tr[:-1], gap + 1)
    depth = np.subtract(level, x[r[1:]])
    term = np.multiply(term, np.maximum(depth, 0, out=depth), dtype=np.int64)
    below = np.cumsum(term, axis=0, out=term) < sat
    return np.minimum(below.sum(axis=0) + o + 1, g)


def _sat_sum(ax: Axis, rows: np.ndarray, depth: np.ndarray, gap: int) -> np.ndarray:
    """The running sum of Level's integrated delay over a rule's rows: each row's depth
    times the ms since the row before (its reading before: only holes lie between the
    rows of a run, and a run's first row starts the sum afresh anyway); 0 for the first.
    An interval over max_gap restarts the delay, so it never counts: capped there, the
    sum stays far inside int64 on any record."""
    w = np.zeros(rows.size, dtype=np.int64)
    if ax.step:  # (on a grid, rows apart x step)
        np.subtract(rows[1:], rows[:-1], out=w[1:])
        w *= ax.step
    else:
        tr = ax.tq[rows]
        np.subtract(tr[1:], tr[:-1], out=w[1:])
    np.minimum(w, gap + 1, out=w)
    np.multiply(w, depth, out=w)
    return np.cumsum(w, out=w)
