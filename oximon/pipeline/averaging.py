"""Averager.push at every accepted row, for whole arrays.

A window that holds no hole is a run of `m` rows (or m + 1 where the time axis jitters,
`Window.d`): its median or mean comes from shifted slices of the readings (a sorting
network for short windows), a block of rows at a time (its passes run on data in
cache). Windows that touch a hole or the start of the record are few: a small block of
rows per run of holes gives them all (`_after_holes`); the rare windows of an odd stretch
of the time axis are computed one by one.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from oximon.pipeline.axis import Holes, Window, union
from oximon.pipeline.scratch import Scratch, scratch
from oximon.pipeline.vector import CHUNK, sorting_network

# Rows per block: every pass of the averaging over a block while it is in cache.
BLOCK = 16384
HOLE = np.int32(1 << 30)  # the averaged value of a hole: above any threshold, never "low"


def average(ws: Scratch, q: np.ndarray, win: Window, holes: Holes, hmask: np.ndarray,
            median: bool) -> np.ndarray:
    """The averaged readings (int32, milli-percent); HOLE at the holes."""
    n = q.size
    o = win.o
    x = _aligned(ws, "x", n, 3)  # (row 3, where the blocks start: on a cache line)
    d = win.d if o + 1 < n else None  # rows whose window has one more row
    if median and o == 3:  # (the default: 4 s at 1 Hz)
        _four_or_five(ws, x, q, d)
    else:
        alt = ws.get("xalt", n, np.int32)
        for a in range(o, n, BLOCK):  # rows a .. b - 1 (each written once: x is final)
            b = min(a + BLOCK, n)
            full_windows(ws, x[a - o:b], q[a - o:b], o + 1, median)
            if d is not None:
                lo = max(a - o - 1, 0)  # (the readings of the longer windows)
                full_windows(ws, alt[lo:b], q[lo:b], o + 2, median)
                xb, ab = x[a:b], alt[a:b]  # x + d * (alt - x): no branches
                np.subtract(ab, xb, out=ab)
                np.multiply(ab, d[a:b], out=ab)
                np.add(xb, ab, out=xb)
    # Rows whose window is not a plain run of rows: those whose window reaches back to a
    # hole, and the odd ones (most of them the first rows: their own block).
    rest = _after_holes(x, q, win, holes, hmask, median)
    if rest.size:
        rest = rest[~hmask[rest]]
    if rest.size:
        x[rest] = _short_windows(q, rest, win.lo_of(rest), hmask, median)
    x[holes.rows] = HOLE
    return x


def _after_holes(x: np.ndarray, q: np.ndarray, win: Window, holes: Holes, hm: np.ndarray,
                 median: bool) -> np.ndarray:
    """x at the `reach` rows after each run of holes (the window of row end + k, lo =
    end + k - o (- d), holds the hole at `end` for k up to o, o + 1 where d), at the
    first rows (as if after holes up to row -1, where their window starts at row 0) and
    at the odd rows whose window is a plain one cut short (lo >= r - o: after a dropout,
    the rows whose window starts after it). Returns the rows left to `_short_windows`
    (other odd rows, the rows after a run too near the end of the record).

    Why a block per run: the rows of run i's windows are rows end - m + 2 .. end + reach,
    so one gather of those few rows per run, and shifted lines of it, give every window's
    m slots as contiguous lines (slot j of row end + 1 + k is row end - m + 2 + j + k),
    where gathering each slot by its own index costs a full-size index matrix and ~3x
    the time (~1,150 rows on a jittered day, ~4 % of its analysis). An odd row r is a
    column of its own (end r - reach: r is its last line) whose slots before its lo are
    masked: its window shares the block's passes (one by one, they cost a dropout's day
    ~40 calls more)."""
    o, d, n = win.o, win.d, q.size
    m = o + 1 + (d is not None)  # the longest plain window's rows
    reach = m - 1
    odd, ends = win.odd, holes.ends
    # The first rows' windows are rows 0 .. r (odd rows ascending, their lo too).
    start = bool(reach) and odd.size >= reach and int(odd[reach - 1]) == reach - 1 \
        and int(win.odd_lo[reach - 1]) == 0
    rest, floor = (odd[reach:], win.odd_lo[reach:]) if start else (odd, win.odd_lo)
    own = _EMPTY
    if rest.size and reach:  # odd rows whose window is a plain one cut short
        cut_short = floor >= rest - o
        if not start:  # (rows before `reach`: their column's slots would lie before row 0)
            cut_short &= rest >= reach
        if cut_short.all():
            own, rest = rest, _EMPTY
        else:
            own, floor, rest = rest[cut_short], floor[cut_short], rest[~cut_short]
    cut = int(ends.searchsorted(n - reach))  # runs whose rows after reach the end
    if cut < ends.size and reach:
        near = (ends[cut:, None] + np.arange(1, reach + 1)).ravel()
        rest = union(rest, near[near < n])
    if not reach or not (cut or start or own.size):
        return rest
    h = cut + start  # columns of runs (the first rows': column 0), then odd rows'
    parts = (_BEFORE, ends[:cut]) if start else (ends[:cut],)
    e = np.concatenate((*parts, own - reach) if own.size else parts)
    idx = e + _slots(m, reach)  # (W, R): line w holds row end - m + 2 + w of each run
    qt, ht = q[idx], hm[idx]
    if start:  # (rows before row 0: missing)
        ht[:m - 1, 0] = True
    if cut and ends[0] < m - 2:  # runs whose first slots lie before row 0
        neg = int(e[:h].searchsorted(m - 2))
        np.logical_or(ht[:, :neg], idx[:, :neg] < 0, out=ht[:, :neg])
    if own.size:  # (an odd row's slots before its lo: missing)
        np.logical_or(ht[:, h:], idx[:, h:] < floor, out=ht[:, h:])
    np.putmask(qt, ht, HOLE)
    r, k = e.size, reach * e.size
    plan = _plan(m) if median else None
    lines = np.empty((m + (plan is not None), k), np.int32)  # (+ a spare line: `_middles`)
    v = lines[:m]
    v.reshape(m, reach, r)[...] = np.ndarray((m, reach, r), np.int32, qt, 0,
                                             (4 * r, 4 * r, 4))
    rows = idx[m - 1:].ravel()  # the rows, k = line * r + run
    if d is not None:  # slot 0 (row r - o - 1) is in the window only where d
        np.putmask(v[0], ~d[rows], HOLE)
    ok = v < HOLE  # (missing slots: HOLE, above any reading)
    c = np.add.reduce(ok.view(np.int8), axis=0, dtype=np.int8).astype(np.intp)
    if not median:  # (c is 0 only at a hole's row, which HOLE then overwrites)
        _put(x, rows, np.where(ok, v, 0).sum(axis=0, dtype=np.int64) // np.maximum(c, 1),
             h, own)
        return rest
    if plan is not None:
        _put(x, rows, _middles(lines, c, plan), h, own)
        return rest
    if m > 8:
        v.sort(axis=0)
    else:
        _sort_lines(v)
    c -= 1  # the middle slots (c - 1) // 2 and c // 2, in the flattened lines (c = 0
    # only at a hole's row: slot -1 // 2, a valid index, and HOLE then overwrites it)
    at = c >> 1
    at *= k
    at += np.arange(k)
    a = v.take(at)
    c &= 1
    c *= k
    at += c
    _put(x, rows, (a + v.take(at)) >> 1, h, own)
    return rest


def _put(x: np.ndarray, rows: np.ndarray, val: np.ndarray, h: int, own: np.ndarray) -> None:
    """x at the block's rows (line by line, a column per run): every line of the first h
    columns (runs), the last line of the others (odd rows: their other lines are rows
    whose window may start elsewhere, so they write the odd row, which its last line
    then writes again: a 2-D index of the runs' columns alone costs ~3x)."""
    if own.size:
        rows.reshape(-1, h + own.size)[:-1, h:] = own
    x[rows] = val
    if own.size:
        x[own] = val[-own.size:]


_BEFORE = np.array([-1], dtype=np.int64)
_EMPTY = np.zeros(0, dtype=np.int64)
_SLOTS: dict[tuple[int, int], np.ndarray] = {}


def _slots(m: int, reach: int) -> np.ndarray:
    """Offsets from a run's end of the rows its windows read (a column, per shape)."""
    col = _SLOTS.get((m, reach))
    if col is None:
        col = _SLOTS[(m, reach)] = np.arange(2 - m, reach + 1, dtype=np.int64)[:, None]
    return col


# Comparator networks that leave the three smallest of m lines, sorted, in lines 0 .. 2
# (the middle slots of up to 5 present ones; fewest comparators, by exhaustive search
# over 0/1 inputs): for the usual windows, 4 and 5 rows (4 s at 1 Hz, on a grid or not).
_NETS = {4: ((0, 1), (2, 3), (0, 2), (1, 3), (1, 2)),
         5: ((0, 1), (0, 2), (1, 2), (2, 3), (2, 4), (0, 2), (1, 4), (1, 2))}
_PLANS: dict[int, tuple[tuple[tuple[bool, int, int, int], ...], np.ndarray] | None] = {}


def _plan(m: int) -> tuple[tuple[tuple[bool, int, int, int], ...], np.ndarray] | None:
    """`_NETS[m]` as passes over m + 1 lines (max?, line, line, out): a comparator's min
    goes to a free line and its max stays in place (two calls, no copy back), an output
    nothing reads is not computed; and which line holds slot (c - 1) // 2 and c // 2
    after it, for c = 0 .. m. None: no network for m."""
    if m in _PLANS:
        return _PLANS[m]
    net = _NETS.get(m)
    if net is None:
        _PLANS[m] = None
        return None
    line, free, steps = list(range(m)), m, []
    for at, (i, j) in enumerate(net):
        read = {w for comp in net[at + 1:] for w in comp} | {0, 1, 2}
        a, b = line[i], line[j]
        if i in read:
            steps.append((False, a, b, free if j in read else a))
            if j in read:
                line[i], free = free, a
        if j in read:
            steps.append((True, a, b, b))
    c = np.arange(m + 1)
    where = np.array([line[0], line[1], line[2]], dtype=np.intp)
    _PLANS[m] = plan = tuple(steps), np.stack((where[np.maximum(c - 1, 0) // 2],
                                               where[c // 2]))
    return plan


def _middles(lines: np.ndarray, c: np.ndarray,
             plan: tuple[tuple[tuple[bool, int, int, int], ...], np.ndarray]) -> np.ndarray:
    """(slot (c - 1) // 2 + slot c // 2) // 2 of each column's sorted slots (missing ones,
    HOLE, sort last): the network on 1-D lines (two calls a comparator, ~40 % less time
    than the transposition network's strided rounds), then one gather per middle slot."""
    steps, where = plan
    ln = list(lines)
    mn, mx = np.minimum, np.maximum
    for is_max, a, b, out in steps:
        (mx if is_max else mn)(ln[a], ln[b], out=ln[out])
    k = lines.shape[1]
    at = where * k
    ar = scratch().arange(k)
    lo, hi = at[0].take(c), at[1].take(c)
    lo += ar
    hi += ar
    mid = lines.take(lo)
    mid += lines.take(hi)
    mid >>= 1
    return mid


def _sort_lines(v: np.ndarray) -> None:
    """Sort each column of v (m lines, m small) in place: an odd-even transposition
    network, each round's comparators as two strided views of the lines (3 calls a
    round, where one pair of calls per comparator costs ~1.5x as many)."""
    m = v.shape[0]
    tmp = np.empty((m // 2, v.shape[1]), dtype=v.dtype)
    for i in range(m):
        s = i % 2
        p = (m - s) // 2
        a, b, t = v[s:s + 2 * p:2], v[s + 1:s + 2 * p:2], tmp[:p]
        np.minimum(a, b, out=t)
        np.maximum(a, b, out=b)
        np.copyto(a, t)


def _short_windows(q: np.ndarray, rows: np.ndarray, lo: np.ndarray, hm: np.ndarray,
                   median: bool) -> np.ndarray:
    """The average at some rows, each over rows lo .. row less the holes, one by one: a
    matrix with one column per row and one line per step back (so that every pass, and
    the count, runs along contiguous lines: across a short axis numpy is ~3x slower)."""
    m = int((rows - lo).max()) + 1
    win = rows[None, :] - np.arange(m)[:, None]
    idx = np.maximum(win, 0)
    ok = (win >= lo) & ~hm[idx]
    cnt = ok.sum(axis=0)
    if not median:
        return np.where(ok, q[idx], 0).sum(axis=0, dtype=np.int64) // cnt
    vals = np.where(ok, q[idx], HOLE)  # missing slots sort last (readings are <= 100 %)
    j = np.arange(rows.size)
    if m > 8:
        srt = np.sort(vals.T, axis=1)
        return (srt[j, (cnt - 1) // 2].astype(np.int64) + srt[j, cnt // 2]) // 2
    _sort_lines(vals)  # (cheaper than np.sort)
    return (vals[(cnt - 1) // 2, j].astype(np.int64) + vals[cnt // 2, j]) // 2


def _four_or_five(ws: Scratch, x: np.ndarray, q: np.ndarray, d: np.ndarray | None) -> None:
    """x[r] = the median of rows r - 3 .. r, or of r - 4 .. r where d, for r >= 3: both
    from the two middle ones of every 4 neighbouring readings (`_quads`), a block at a
    time, inlined: per block its 13 passes (6 on a grid) and nothing else (the calls of
    `full_windows` cost the jittered day's averaging ~10 % more)."""
    n = q.size
    size = min(BLOCK + 4, n)
    lo_, hi_, f_, g_, t_ = (_aligned(ws, k, size) for k in ("i2", "i3", "i4", "i5", "i6"))
    mn, mx = np.minimum, np.maximum
    for a in range(3, n, BLOCK):  # rows a .. b - 1, from readings s .. b - 1
        b = min(a + BLOCK, n)
        s = max(a - 4, 0)
        qs = q[s:b]
        k = b - s
        lo, hi = lo_[:k - 1], hi_[:k - 1]
        mn(qs[:-1], qs[1:], out=lo)
        mx(qs[:-1], qs[1:], out=hi)
        f, g = f_[:k - 3], g_[:k - 3]  # the middle two of rows s + i .. s + i + 3
        mx(lo[:-2], lo[2:], out=f)
        mn(hi[:-2], hi[2:], out=g)
        xb = x[a:b]
        np.add(f[a - 3 - s:], g[a - 3 - s:], out=xb)
        np.right_shift(xb, 1, out=xb)
        if d is None or k < 5:
            continue
        # Rows s + 4 .. b - 1: med3(the row, the middle two of the 4 rows before), then
        # x + d * (that - x): no branches. (Row 3 of the first block: d is False.)
        e, f, g, t, u = q[s + 4:b], f[:k - 4], g[:k - 4], t_[:k - 4], lo[:k - 4]
        mx(e, f, out=t)  # max(e, f) ...
        mn(t, g, out=t)  # ... min(max(e, f), g)
        mn(e, f, out=u)
        mx(t, u, out=t)
        xb = x[s + 4:b]
        np.subtract(t, xb, out=t)
        np.multiply(t, d[s + 4:b], out=t)
        np.add(xb, t, out=xb)


_OFFSET: dict[int, int] = {}  # (a buffer's id: elements to its first 64-byte boundary)


def _aligned(ws: Scratch, name: str, n: int, at: int = 0) -> np.ndarray:
    """ws's int32 buffer `name`, n elements from where element `at` of it lies on a
    64-byte boundary (a cache line: numpy's wide passes store ~15 % faster there)."""
    buf = ws.get(name, n + 16, np.int32)
    base = buf.base if buf.base is not None else buf
    off = _OFFSET.get(id(base))
    if off is None:  # (an id reused by a later buffer: only a slower pass, same figures)
        if len(_OFFSET) > 64:
            _OFFSET.clear()
        off = _OFFSET[id(base)] = (-base.__array_interface__["data"][0] % 64) // 4
    off = (off - at) % 16
    return buf[off:off + n]


def full_windows(ws: Scratch, x: np.ndarray, q: np.ndarray, m: int, median: bool) -> None:
    """x[r] = the average of q[r - m + 1 .. r], for r >= m - 1."""
    n = q.size
    o = m - 1
    if o >= n:
        return
    out = x[o:]
    if not median:
        c = ws.get("csum", n + 1, np.int64)
        c[0] = 0
        np.cumsum(q, dtype=np.int64, out=c[1:])
        tmp = ws.get("i64", n - o, np.int64)
        np.subtract(c[m:], c[:n + 1 - m], out=tmp)
        np.floor_divide(tmp, m, out=tmp)
        out[:] = tmp
    elif m == 1:
        out[:] = q
    elif m == 2:
        np.add(q[1:], q[:-1], out=out)
        np.right_shift(out, 1, out=out)
    elif m == 3:
        lo = ws.get("i2", n - 2, np.int32)
        np.minimum(q[:-2], q[1:-1], out=lo)
        np.maximum(q[:-2], q[1:-1], out=out)
        np.minimum(out, q[2:], out=out)
        np.maximum(out, lo, out=out)
    elif m == 4:
        # Middle two of a, b, c, d: max(min(a, b), min(c, d)) and min(max(a, b),
        # max(c, d)) (`_quads`).
        lo4, hi4 = _quads(ws, q)
        np.add(lo4, hi4, out=out)
        np.right_shift(out, 1, out=out)
    elif m == 5:
        # med3(e, the two middle ones of a, b, c, d): the quads of the row before.
        lo4, hi4 = _quads(ws, q)
        f, g = lo4[:n - 4], hi4[:n - 4]
        e = q[4:]
        tmp = ws.get("i6", n - 4, np.int32)
        np.maximum(e, f, out=out)  # max(e, f) ...
        np.minimum(out, g, out=out)  # ... min(max(e, f), g)
        np.minimum(e, f, out=tmp)
        np.maximum(out, tmp, out=out)
    elif m <= 8:  # a sorting network over shifted columns
        cols = [q[i:n - o + i] for i in range(m)]  # i = m - 1 is the current row
        for a, b in sorting_network(m):
            cols[a], cols[b] = np.minimum(cols[a], cols[b]), np.maximum(cols[a], cols[b])
        np.add(cols[(m - 1) // 2], cols[m // 2], out=out)
        np.right_shift(out, 1, out=out)
    else:  # long windows (high rates): sort a bounded block of windows at a time
        win = sliding_window_view(q, m)  # row k holds rows k .. k + o
        rows = max(1, CHUNK // m)
        for a in range(0, n - o, rows):
            srt = np.sort(win[a:a + rows], axis=1)
            out[a:a + rows] = (srt[:, (m - 1) // 2] + srt[:, m // 2]) >> 1


def _quads(ws: Scratch, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two middle ones of every 4 neighbouring readings (r - 3 .. r, at r - 3):
    max(min(a, b), min(c, d)) and min(max(a, b), max(c, d)), the pairs (a, b) and (c, d)
    one array of neighbouring pairs, shifted."""
    n = q.size
    lo = ws.get("i2", n - 1, np.int32)
    hi = ws.get("i3", n - 1, np.int32)
    np.minimum(q[:-1], q[1:], out=lo)
    np.maximum(q[:-1], q[1:], out=hi)
    lo4 = ws.get("i4", n - 3, np.int32)
    hi4 = ws.get("i5", n - 3, np.int32)
    np.maximum(lo[:-2], lo[2:], out=lo4)
    np.minimum(hi[:-2], hi[2:], out=hi4)
    return lo4, hi4
