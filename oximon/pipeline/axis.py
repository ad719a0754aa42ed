"""The time axis of a record for batch analysis: row times in exact ms, and the windows
of the streaming rules as row offsets.

Why offsets: a pass over a 24 h record costs ~10 µs when it reads shifted slices of an
array and ~130 µs when it gathers by an index array. On a regular grid every window is a
fixed number of rows. Real recordings (a logger's receive times, oximon's own `--record`
files) jitter by tens or hundreds of ms: then a window is *nearly* fixed, one row more
or less. A `Window` keeps that shape: `lo[r] = r - o - d[r]` with d a 0/1 mask, computed
with slices, and the few rows where even that is wrong (the start of the record, either
side of a dropout) as exceptions, found by binary search. So one implementation serves
every time axis, as fast as the grid where the axis is nearly one.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Literal

import numpy as np

from oximon.pipeline.reach import Reach
from oximon.pipeline.scratch import scratch
from oximon.pipeline.settings import MS

_EMPTY = np.zeros(0, dtype=np.int64)
_TRUE = np.ones(1, dtype=bool)
_BLOCK = 16384  # rows of times rounded at once (`Axis`)
_ROUND = 1.5 * 2.0**52  # (see Axis)


def union(*arrays: np.ndarray) -> np.ndarray:
    """Sorted distinct values of some small int arrays (cheaper than np.union1d here)."""
    a = np.sort(np.concatenate(arrays))
    if a.size > 1:
        a = a[np.concatenate((_TRUE, a[1:] != a[:-1]))]
    return a


class Axis:
    """Row times of a record whose times never go back: `t` (s) and `tq` (int ms, as the
    streaming pipeline rounds them, from some origin: only their differences, and
    searches among them, mean anything); `step` the grid step in ms if every row is
    exactly one step after the one before, else 0; `dmax` the longest interval (ms).

    tq is int32 where the record spans under 2**31 - 2**24 ms (24 days), from its first
    row's ms made even: any duration of the rules (a few hours at most by the profile's
    limits, under 2**24 ms) added to a time keeps it in int32, where numpy keeps such
    sums (no cast of the whole array), and the window passes and searches read half the
    bytes. Else int64. (`rel`: the same array, the name the window passes know it by.)"""

    def __init__(self, t: np.ndarray):
        n = self.n = t.size
        self.t = t
        self.step = self.dmax = self.dmed = self.dmin = self.span = self.long_ms = 0
        self._long: np.ndarray | None = None
        self._long_ms_each = _EMPTY
        self._reach: Reach | None = None
        self._reach_made = False
        self.usual = 1.0  # (ms: `dmed`, or the mean interval where none is long)
        ws = scratch()
        # rint in two cheap float passes (a float-to-int cast costs two): adding
        # 1.5 * 2**52 rounds to a whole number, half to even like np.rint (one unit in
        # the last place is 1 there), which the low bits then hold: exact for |t| * MS
        # < 2**51, which the times' limit T_LIMIT_S keeps (the caller's `keep_rows`).
        # The float's bits are rint(t * MS) + the constant's bits: times from another
        # origin, as good as any. The first and last rows' (the same float arithmetic,
        # in Python) choose int32 or int64.
        f0, fz = (float(t[0]) * MS + _ROUND, float(t[-1]) * MS + _ROUND) if n else (0, 0)
        span = self.span = int(fz - f0)
        if span < 2**31 - 2**24:
            # Adding instead an even whole number _ROUND - e (e: the first row's ms, made
            # even) rounds alike (x + C has x's fraction, and C even keeps which of its
            # neighbours is even) to _ROUND + rint(x) - e, whose low 32 bits are the
            # times from e: one cast takes them. A block of rows at a time, in a small
            # float buffer that stays in cache.
            e = int(f0 - _ROUND)
            c = _ROUND - (e - (e & 1))
            tq = self.tq = self.rel = ws.get("rel", n, np.int32)
            fb = ws.get("tqb", min(n, _BLOCK), np.float64)
            for a in range(0, n, _BLOCK):
                b = min(a + _BLOCK, n)
                f = fb[:b - a]
                np.multiply(t[a:b], MS, out=f)
                np.add(f, c, out=f)
                np.copyto(tq[a:b], f.view(np.int64), casting="unsafe")  # (the low 32 bits)
        else:
            tq = self.tq = self.rel = ws.get("tq", n, np.float64).view(np.int64)
            tqf = tq.view(np.float64)
            np.multiply(t, MS, out=tqf)
            np.add(tqf, _ROUND, out=tqf)
        if n < 2:
            return
        # The intervals (in a buffer of one more row: the weights, `weights`).
        self._dt = ws.get("dt" + tq.dtype.str, n, tq.dtype.type)
        d = self.dt = np.subtract(tq[1:], tq[:-1], out=self._dt[:n - 1])
        lo = int(d.min())
        # The intervals add up to the span: if the first and last rows are a whole number
        # of the shortest apart, every one is the shortest (no pass for the longest).
        hi = lo if lo > 0 and span == lo * (n - 1) else int(d.max())
        self.dmax, self.dmin = hi, lo
        if lo == hi and lo > 0:
            self.step = self.dmed = lo
            return  # (windows on a grid are offsets: no times needed)
        # The usual interval, from a sample of them (a full median costs ~1 ms).
        # (np.partition: np.median's checks and mean cost several times the work.)
        sample = d[::max(1, d.size // 2048)].copy()
        mid = int(np.partition(sample, sample.size // 2)[sample.size // 2])
        self.dmed = self.usual = max(1, mid)
        self.long_ms = 2 * self.dmed
        # The usual interval to count a window's rows by: the mean where no interval is
        # long (exact, where a sample's median is a few ms off under wide jitter).
        if hi <= self.long_ms and span >= n - 1:
            self.usual = span / (n - 1)

    def long_after(self, x: int) -> np.ndarray:
        """The intervals longer than x ms (index i: from row i to row i + 1), sorted.
        Intervals over `long_ms` (twice the usual one: dropouts) are found in one pass,
        the first time they are asked for, and every rule asking for longer ones (a gap,
        a stale reading, a window: seconds) filters those few instead of passing over
        every interval again. (None is longer than dmax: no pass at all.)"""
        if self.dmax <= x or self.n < 2:
            return _EMPTY
        if x < self.long_ms:
            return (self.dt > x).nonzero()[0]
        if self._long is None:
            self._long = (self.dt > self.long_ms).nonzero()[0]
            self._long_ms_each = self.dt[self._long]  # (`weights` may cap dt later)
        return self._long if x == self.long_ms else self._long[self._long_ms_each > x]

    def reach(self) -> Reach | None:
        """Bounds of how far back row r - m lies (`oximon.pipeline.reach`), made the
        first time a window asks for them."""
        if not self._reach_made:
            self._reach, self._reach_made = Reach.of(self), True
        return self._reach

    def weights(self, cap_ms: int) -> np.ndarray | int:
        """Milliseconds each row stands for: the time to the next row, capped at cap_ms
        (a gap is not observed time); the last row counts like the one before it. One
        int on a regular grid; else in tq's dtype.

        Where only long intervals (over `long_ms`) are capped, they are capped in `dt`
        itself (a copy of the day's intervals cost more than the rest of the dropouts'
        extra work in the time rules): from then on `dt` holds the weights, and
        `long_after` still answers with the intervals' own lengths."""
        if self.step or self.n < 2:
            return min(self.step, cap_ms) if self.step else 0
        d, buf = self.dt, self._dt  # (buf: one more row than the intervals)
        if self.dmax <= cap_ms or cap_ms >= self.long_ms:
            if self.dmax > cap_ms:
                d[self.long_after(cap_ms)] = cap_ms
            buf[-1] = buf[-2]
            return buf
        w = scratch().get("w" + d.dtype.str, self.n, d.dtype.type)
        np.copyto(w[:-1], d)  # (a copy and the few long ones capped: cheaper than
        w[self.long_after(cap_ms)] = cap_ms  # a minimum over every interval)
        w[-1] = w[-2]
        return w

    def window(self, span: int, strict: bool) -> Window:
        """For each row r, the first row whose time is >= tq[r] - span (> when strict)."""
        return Window(self, span, strict)


class Window:
    """lo[r] = r - o - d[r] (d None: all 0), except at rows `odd` where it is `odd_lo`.
    (A strict window of span 0 holds row r itself: lo[r] = r.)"""

    def __init__(self, ax: Axis, span: int, strict: bool):
        n, tq, step = ax.n, ax.tq, ax.step
        self.n, self.tq, self.span, self.strict = n, tq, span, strict
        self.step = step
        self.d: np.ndarray | None = None
        self._every: np.ndarray | None = None  # (every row's lo, where many are odd)
        if strict and span <= 0:  # (no time is after a row's own: the row itself, as
            self.o = self.first = 0  # the live averager's current reading always counts)
            self.odd = self.odd_lo = _EMPTY
            return
        if step or n < 2:
            s = max(step, 1)
            o = self.o = (span - 1) // s if strict else span // s
            self.first = min(o, n)  # rows before this: the window reaches row 0
            self.odd = np.arange(self.first, dtype=np.int64)
            self.odd_lo = np.zeros(self.first, dtype=np.int64)
            if not step and n:  # one row
                self.odd_lo = np.zeros(n, dtype=np.int64)
                self.odd = np.arange(n, dtype=np.int64)
            return
        # The window reaches about k usual intervals back (k the nearest whole number);
        # with jitter row r - k may or may not be in it. Take o = k - 1 so that row
        # r - o is in it, r - o - 1 may be (d: where it is) and r - o - 2 is not: one
        # pass of the time differences to row r - k gives d. Whether the rest holds
        # everywhere is told by that pass's extremes and the shortest interval, or else
        # by the axis's bounds (`Axis.reach`: wide jitter), or else row by row: the rows
        # where it fails are exceptions (`odd`), found by binary search, as are the rows
        # whose k rows back span a long interval (a dropout: `_runs_across`).
        self.inside = np.less if strict else np.less_equal
        self.within = operator.lt if strict else operator.le  # (ints: a ufunc costs µs)
        k = max(1, int(span / ax.usual + 0.5))
        if k >= n:  # (no row reaches k rows back)
            self.o, self.first = k, n
            parts: list[np.ndarray] = []
            across = None
        else:
            parts, across = self._by_passes(ax, k)
        self._exceptions(parts, across)

    def _by_passes(self, ax: Axis, k: int) -> tuple[list[np.ndarray], np.ndarray | None]:
        """The offsets from passes of time differences: to row r - k (d), and where its
        extremes and the shortest interval (or the axis's bounds) cannot tell, to rows
        r - k + 1 and r - k - 1.
        (Where r - k is always in, or always out and r - k + 1 may be out too, k was a
        row off: then one row further, or nearer, at most twice.) Returns the odd rows
        found (other than the first rows) and the rows after long intervals."""
        n, span, inside, within, ws = self.n, self.span, self.inside, self.within, scratch()
        in_ok = k == 1  # row r - o is in everywhere (row r itself: span > 0 if strict)
        in_apart = False  # (in_ok shown only on the rows that span no long interval)
        for tries in range(3):
            e = self._diff(ax, k, k)  # rows k .. n - 1: how far back row r - k lies
            lo_e, hi_e, across = _extremes(ax, e, k)
            if within(hi_e, span) and k + 1 < n:  # always in
                move = 1
            elif not (in_ok or within(lo_e, span) or within(hi_e - ax.dmin, span)):
                move = -1  # always out, and row r - k + 1 may be out too
            else:
                break
            if tries == 2:
                break
            k += move
            in_ok = move > 0 or k == 1
            in_apart = move > 0 and across is not None
        if in_apart and across is None:  # (row r - o was shown in only on the rows
            in_ok = k == 1  # spanning no long interval: now all rows count)
        o = self.o = k - 1
        f = self.first = k  # (from row o + 1 on, row r - o - 1 exists: rows before
        # may reach before the record, exceptions; row r - o - 2 from row o + 2 on)
        if within(lo_e, span):  # (else d would be all False)
            d = self.d = ws.get("wd" + str(span) + str(self.strict), n, np.bool_)
            d[:f] = False
            inside(e, span, out=d[f:])
        parts = []
        out = ws.get("wbad", n - f, np.bool_)
        # (the axis's bounds, asked for only where the cheap ones fail: their upper
        # bounds hold only where no long interval is spanned, their lower ones at every
        # row)
        usable = across is not None or not ax.long_after(ax.long_ms).size
        if not (in_ok or within(hi_e - ax.dmin, span)
                or (usable and _bound(ax, o, 1, within, span))):  # row r - o may be out
            np.logical_not(inside(self._diff(ax, o, f), span, out=out), out=out)
            parts.append(out.nonzero()[0] + f)
        if (f + 1 < n and within(lo_e + ax.dmin, span)
                and _bound(ax, o + 2, 0, within, span)):
            two = inside(self._diff(ax, o + 2, f + 1), span, out=out[1:])  # row r - o - 2
            parts.append(two.nonzero()[0] + (f + 1))  # may be in
        if across is not None and across.size:  # (rows whose k rows back span a long
            parts.append(across)  # interval)
        return parts, across

    def _exceptions(self, parts: list[np.ndarray], across: np.ndarray | None) -> None:
        """`odd` and `odd_lo`: the first rows (whose windows may reach before row 0) and
        the odd rows found (`parts`; `across`: the rows after long intervals, if any)."""
        f, n, tq, span, within = self.first, self.n, self.tq, self.span, self.within
        first = scratch().arange(f)  # (read only, like every `odd`)
        reach_0 = not f or within(int(tq[min(f, n) - 1]) - int(tq[0]), span)
        if not parts and reach_0:
            # Only the first rows, and every one's window reaches row 0 (nearly always).
            self.odd, self.odd_lo = first, np.zeros(f, dtype=np.int64)
            return
        side: Literal["left", "right"] = "right" if self.strict else "left"
        if len(parts) == 1 and parts[0] is across and reach_0:
            # The first rows (their windows reach row 0) and the rows after long
            # intervals (searched): in order already.
            self.odd = np.concatenate((first, across))
            lo = self.odd_lo = np.empty(self.odd.size, dtype=np.int64)
            lo[:f] = 0
            lo[f:] = (tq[:int(across[-1]) + 1]).searchsorted(tq[across] - span, side)
            return
        odd = self.odd = union(first, *parts) if parts else first
        # A window starts at or before its row: searched among the rows up to the last
        # odd one (a few first rows, nearly always: in cache, where the whole day's
        # times cost a miss per step).
        top = int(odd[-1]) + 1 if odd.size else n
        self.odd_lo = tq[:top].searchsorted(tq[odd] - span, side)

    @staticmethod
    def _diff(ax: Axis, k: int, f: int) -> np.ndarray:
        """For rows f .. n - 1: how many ms after row r - k row r comes."""
        tq, n = ax.rel, ax.n
        diff = scratch().get("wdiff" + tq.dtype.str, n - f, tq.dtype.type)
        return np.subtract(tq[f:], tq[f - k:n - k], out=diff)

    def at(self, a: np.ndarray, out: np.ndarray) -> np.ndarray:
        """out[r] = a[lo[r]] for every row (a may be longer than n: a prefix array)."""
        n, o, f, d = self.n, self.o, self.first, self.d
        if f < n:
            if d is None:
                out[f:] = a[f - o:n - o]
            else:  # a[r - o] or, where d, a[r - o - 1]: arithmetic (no branches)
                hi, lo, dd, dst = a[f - o:n - o], a[f - o - 1:n - o - 1], d[f:], out[f:]
                tmp = scratch().get("at" + a.dtype.str, n - f, a.dtype.type)
                if a.dtype == np.bool_:
                    np.logical_xor(lo, hi, out=tmp)
                    np.logical_and(tmp, dd, out=tmp)
                    np.logical_xor(hi, tmp, out=dst)
                else:
                    np.subtract(lo, hi, out=tmp)
                    np.multiply(tmp, dd, out=tmp)
                    np.add(hi, tmp, out=dst)
        if self.odd.size:
            out[self.odd] = a[self.odd_lo]
        return out

    def lo(self) -> np.ndarray:
        """The first row of every row's window."""
        return self.at(scratch().arange(self.n + 1), np.empty(self.n, dtype=np.int64))

    def lo_of(self, rows: np.ndarray) -> np.ndarray:
        """lo at some rows (sorted, distinct): cheap for a few. (Read only: it may be
        odd_lo itself.)"""
        odd, k = self.odd, rows.size
        if k == odd.size and (rows is odd or np.array_equal(rows, odd)):
            return self.odd_lo  # (the odd rows themselves: a baseline's, after dropouts)
        lo = rows - self.o
        if k and int(rows[-1]) == k - 1 and odd.size and int(odd[-1]) == odd.size - 1:
            # Rows 0 .. k - 1 and odd rows 0 .. f - 1 (nearly always: the first rows):
            # slices, no search.
            if self.d is not None:
                lo -= self.d[:k]
            f = min(odd.size, k)
            lo[:f] = self.odd_lo[:f]
            return np.maximum(lo, 0)
        if odd.size > self.n >> 5:  # (many odd rows: an irregular record's dropouts,
            if self._every is None:  # where a search per row among them cost ~1 ms)
                self._every = self.lo()
            return self._every[rows]
        if self.d is not None:
            lo -= self.d[rows]
        if self.odd.size:
            j = np.minimum(self.odd.searchsorted(rows), self.odd.size - 1)
            hit = self.odd[j] == rows
            lo[hit] = self.odd_lo[j[hit]]
        return np.maximum(lo, 0)


    def runs_starting_in(self, starts: np.ndarray, ends: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
        """For runs of rows starts[i] .. ends[i] (sorted, disjoint): the rows a[i] ..
        b[i] - 1 whose window starts in run i (a window's start only moves forward, so
        they are a range of rows, found from the times)."""
        if self.step:  # on a grid lo[r] = max(r - o, 0): no search
            a = np.where(starts > 0, np.minimum(starts + self.o, self.n), 0)
            return a, np.maximum(np.minimum(ends + self.o + 1, self.n), a)
        k = starts.size
        first = self._first_from(np.concatenate((starts, ends + 1)))
        a = np.where(starts > 0, first[:k], 0)
        return a, np.maximum(first[k:], a)

    def _first_from(self, s: np.ndarray) -> np.ndarray:
        """The first row whose window starts at row s or later (n: none), for each s > 0.
        From the offsets: lo[r] = r - o - d[r] puts it at r = s + o + d[s + o], which is
        exact where rows r - 1 and r are not odd (lo[r - 1] < s <= lo[r]); binary search
        on the times only elsewhere (where the search everywhere, a cache miss per step
        in a day's times, cost ~2 % of a jittered day's analysis)."""
        n, o, d = self.n, self.o, self.d
        r = s + o
        if d is not None:
            r += d[np.minimum(r, n - 1)]
        np.minimum(r, n, out=r)
        odd, first = self.odd, self.first
        if odd.size == first:  # (only the first rows: rows r - 1 and r are not odd)
            check = r <= first
        else:
            j = np.minimum(odd.searchsorted(r - 1), odd.size - 1)
            check = odd[j] <= r
        if check.any():
            tq, i = self.tq, check.nonzero()[0]
            before = tq[np.maximum(s[i] - 1, 0)] + self.span
            r[i] = tq.searchsorted(before, "left" if self.strict else "right")
        return r

    def rows_starting_in(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """The rows (sorted) whose window starts in one of the runs (`runs_starting_in`)."""
        if not starts.size:
            return _EMPTY
        return ranges(*self.runs_starting_in(starts, ends))


def _runs_across(ax: Axis, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The rows whose k rows back span a long interval (`Axis.long_after`): sorted, and
    as runs a[i] .. b[i] - 1 (empty: no long interval); None where they are too many to
    treat apart (over a quarter of the rows). Why: after a dropout, k rows back reach
    further back in time for k rows; they are odd rows, whose window start is searched,
    and are left out of whatever bounds the others."""
    n = ax.n
    long_ = ax.long_after(ax.long_ms) if ax.long_ms else _EMPTY
    if not long_.size:
        return _EMPTY, _EMPTY, _EMPTY
    if long_.size * k > n >> 2:
        return None
    a, b = np.maximum(long_ + 1, k), np.minimum(long_ + k + 1, n)  # rows i + 1 .. i + k
    apart = a[1:] > b[:-1]  # (runs that overlap merged: b only grows)
    whole = int(long_[0]) + 1 >= k and int(long_[-1]) + k < n  # (none cut short)
    if not apart.all():
        whole = False
        a, b = a[np.concatenate((_TRUE, apart))], b[np.concatenate((apart, _TRUE))]
    # (runs of k rows each: one broadcast sum)
    across = (a[:, None] + scratch().arange(k)).ravel() if whole else ranges(a, b)
    return across, a, b


def _bound(ax: Axis, m: int, side: int, within: Callable[[int, int], bool], span: int
           ) -> bool:
    """Whether `Axis.reach`'s least (side 0) or greatest (1) reach of m rows back is
    within the span (no bounds: the least is, the greatest is not)."""
    reach = ax.reach()
    if reach is None:
        return side == 0
    return within(reach.bounds(m)[side], span)


def _extremes(ax: Axis, e: np.ndarray, k: int) -> tuple[int, int, np.ndarray | None]:
    """The least and greatest of e (rows k .. n - 1: how far back row r - k lies) over
    the rows whose k rows back span no long interval, and those rows (`_runs_across`;
    None: too many, counted in). Counted in the extremes, they would make every row
    suspect (a pass of time differences to find the few odd ones). (e is overwritten
    there.)"""
    runs = _runs_across(ax, k)
    if runs is None or not runs[0].size:
        return int(e.min()), int(e.max()), None if runs is None else runs[0]
    across, a, b = runs
    # A row that spans none: before the first run, or right after it.
    other = k if int(a[0]) > k else int(b[0])
    if other >= ax.n:
        return int(e.min()), int(e.max()), None
    v = e[other - k]  # (a value among the others': extremes unchanged)
    if a.size <= 2:  # (a slice each: ~1 us, an index of their rows ~5 us)
        for i, j in zip(a.tolist(), b.tolist(), strict=True):
            e[i - k:j - k] = v
    else:
        e[across - k] = v
    return int(e.min()), int(e.max()), across


def ranges(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The rows a[i] .. b[i] - 1 for every i, concatenated (ranges sorted, disjoint)."""
    size = np.maximum(b - a, 0)
    total = int(size.sum())
    if not total:
        return _EMPTY
    first = np.cumsum(size) - size
    return np.arange(total) + np.repeat(a - first, size)


class Holes:
    """Sorted rows left out of a stream of readings, with their runs."""

    def __init__(self, rows: np.ndarray, n: int):
        self.rows = rows
        self.n = n
        self.starts = self.ends = _EMPTY
        m = rows.size
        if m:  # (the runs from one mask of breaks: a run starts after one, ends before)
            brk = np.empty(m + 1, dtype=np.bool_)
            brk[0] = brk[m] = True
            np.not_equal(np.subtract(rows[1:], rows[:-1]), 1, out=brk[1:m])
            self.starts, self.ends = rows[brk[:m]], rows[brk[1:]]

    def before(self, r: np.ndarray) -> np.ndarray:
        """How many holes lie before each row: row - this = its place in the stream."""
        return self.rows.searchsorted(r)

    def next_kept(self, r: np.ndarray) -> np.ndarray:
        """The first row at or after each r that is not a hole (n or more: none)."""
        r = np.asarray(r, dtype=np.int64)
        if not self.rows.size:
            return r
        j = np.minimum(self.ends.searchsorted(r), self.ends.size - 1)
        inside = (self.starts[j] <= r) & (r <= self.ends[j])
        return np.where(inside, self.ends[j] + 1, r)
