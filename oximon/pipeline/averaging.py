"""Averager.push at every accepted row, for whole arrays.

A window that holds no hole is a run of `m` rows (or m + 1 where the time axis jitters,
`Window.d`): its median or mean comes from shifted slices of the readings (a sorting
network for short windows), a block of rows at a time (its passes run on data in
cache). Windows that touch a hole, the start of the record or an odd stretch of the time
axis are few and computed one by one, as a small matrix.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from oximon.pipeline.axis import Holes, Window, union
from oximon.pipeline.scratch import Scratch
from oximon.pipeline.vector import CHUNK, sorting_network

# Rows per block: every pass of the averaging over a block while it is in cache.
BLOCK = 16384
HOLE = np.int32(1 << 30)  # the averaged value of a hole: above any threshold, never "low"


def average(ws: Scratch, q: np.ndarray, win: Window, holes: Holes, hmask: np.ndarray,
            median: bool) -> np.ndarray:
    """The averaged readings (int32, milli-percent); HOLE at the holes."""
    n = q.size
    o = win.o
    x = ws.get("x", n, np.int32)
    d = win.d if o + 1 < n else None  # rows whose window has one more row
    alt = ws.get("xalt", n, np.int32)
    for a in range(o, n, BLOCK):  # rows a .. b - 1 (each written once: x is final)
        b = min(a + BLOCK, n)
        lo = max(a - o - 1, 0)  # the readings of the longer windows: lo .. b - 1
        sh = a - o - lo  # (those of the shorter ones start sh later)
        quads = _quads(ws, q[lo:b]) if median and o + 1 in (4, 5) else None
        full_windows(ws, x[a - o:b], q[a - o:b], o + 1, median,
                     quads and (quads[0][sh:], quads[1][sh:]))
        if d is not None:
            full_windows(ws, alt[lo:b], q[lo:b], o + 2, median, quads)
            xb, ab = x[a:b], alt[a:b]  # x + d * (alt - x): no branches
            np.subtract(ab, xb, out=ab)
            np.multiply(ab, d[a:b], out=ab)
            np.add(xb, ab, out=xb)
    # Rows whose window is not a plain run of rows: the odd ones, and those whose window
    # reaches back to a hole: the window of row end + k, lo = end + k - o (- d), holds
    # the hole at `end` for k up to o (o + 1 where d).
    reach = o + (win.d is not None)
    short = win.odd
    if holes.rows.size and reach:
        near = (holes.ends[:, None] + np.arange(1, reach + 1)[None, :]).ravel()
        short = union(short, near[near < n])
    if short.size:
        short = short[~hmask[short]]
    if short.size:
        x[short] = _short_windows(q, short, win.lo_of(short), hmask, median)
    x[holes.rows] = HOLE
    return x


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
    lines = list(vals)  # a sorting network over the lines: cheaper than np.sort
    for a, b in sorting_network(m):
        lines[a], lines[b] = np.minimum(lines[a], lines[b]), np.maximum(lines[a], lines[b])
    srt = np.stack(lines)
    return (srt[(cnt - 1) // 2, j].astype(np.int64) + srt[cnt // 2, j]) // 2


def full_windows(ws: Scratch, x: np.ndarray, q: np.ndarray, m: int, median: bool,
                 quads: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """x[r] = the average of q[r - m + 1 .. r], for r >= m - 1 (`quads`: `_quads(q)`,
    if already at hand: the jittered axis takes windows of 4 and of 5 from the same)."""
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
        lo4, hi4 = quads or _quads(ws, q)
        np.add(lo4, hi4, out=out)
        np.right_shift(out, 1, out=out)
    elif m == 5:
        # med3(e, the two middle ones of a, b, c, d): the quads of the row before.
        lo4, hi4 = quads or _quads(ws, q)
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
