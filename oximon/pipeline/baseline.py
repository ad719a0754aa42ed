"""The baseline's window sums for batch analysis (`oximon.pipeline.grid`).

Every row's baseline is the mean of the accepted readings in a window of rows lo .. hi - 1
(`axis.Window`s, rows as offsets). Its sums are run sums at shifted slices, by doubling
(`run_sums`), a block of rows at a time, with the jittered axis's extra row at either end
added or taken off (`window_run`). Each accepted reading adds x + 2**k (holes add 0), so
a window's sum holds the readings' sum in its low k bits and their count above them: one
pass of sums for both, exact whenever that packed value fits the dtype, whatever the sums
on the way do (two's complement). The packed sums are kept as they are and unpacked only
at the rows looked up (`Baseline`): a few thousand candidates, not every row.
"""

from __future__ import annotations

import numpy as np

from oximon.pipeline.axis import Holes, Window, ranges, union
from oximon.pipeline.scratch import Scratch
from oximon.pipeline.settings import Q

# Rows per block of the baseline's passes: its dozen or so buffers of a block stay in
# the core's cache between passes (each pass over a whole 24 h record would not).
BLOCK = 16384
_ZERO = np.zeros(1, dtype=np.int64)


class Baseline:
    """Sum and count of the accepted readings in every row's window: packed
    (count * 2**k + sum, `cnt` None) where that fits, else two arrays."""

    def __init__(self, total: np.ndarray, cnt: np.ndarray | None, k: int):
        self._total, self._cnt, self._k = total, cnt, k

    def at(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sum, count) at some rows, in the sums' dtype (count 0: not known)."""
        v = self._total[rows]
        if self._cnt is None:
            return v & ((1 << self._k) - 1), v >> self._k
        return v, self._cnt[rows]

    def forget(self, rows: np.ndarray) -> None:
        """Some rows' baselines are not known yet: count (and sum) 0."""
        self._total[rows] = 0
        if self._cnt is not None:
            self._cnt[rows] = 0

    def known(self, rows: np.ndarray) -> np.ndarray:
        """Whether each row's baseline is known (its count > 0)."""
        if self._cnt is None:
            return self._total[rows] >= (1 << self._k)
        return self._cnt[rows] > 0


def window_sums(ws: Scratch, x: np.ndarray, holes: Holes, w_lo: Window, w_hi: Window,
                cmin: int) -> tuple[np.ndarray, Baseline]:
    """The baseline at every row (the accepted averaged readings x in rows lo .. hi - 1 of
    its window: w_lo's lo .. w_hi's lo), and whether each row is at least cmin below its
    baseline mean: sum >= (x + cmin) * count (the candidates, before the rows whose
    baseline is not known yet). On the packed sums p that test is p >= (x + cmin + 2**k)
    * count, where that product fits: then only the count is taken out of p (a block's
    scratch), else sums and counts are unpacked (or, past int64, summed apart). Averages
    lie within the readings' range, 0 .. 100 %."""
    n, rows = x.size, holes.rows
    # Rows before `first` whose windows all reach row 0 (nearly always) are summed with
    # the rest, from P rows of zeros before v: their offsets' windows start there.
    pad = _from_row_0(w_lo) and _from_row_0(w_hi)
    odd, odd_lo, odd_hi = odd_ends(w_lo, w_hi, n, pad)  # (the rows whose windows are
    p = max(w_lo.o, w_hi.o) + 1 if pad else 0  # not offsets, the first ones apart)
    rows_max = w_lo.o + 1 - w_hi.o
    if odd.size:
        rows_max = max(rows_max, int((odd_hi - odd_lo).max()))
    rows_max = max(rows_max, 1)
    k = (rows_max * 100 * Q).bit_length()  # no window's sum reaches 2**k
    # A window's packed value, count * 2**k + sum, is below (rows_max + 1) * 2**k.
    top = (rows_max + 1) << k
    wide = np.int32 if top <= 2**31 else np.int64
    packed = top <= 2**63
    lift = (1 << k) + cmin  # (x + lift) * count, compared with the packed sums
    if packed and cmin >= 0 and (lift + 100 * Q) * rows_max < (2**31 if wide is np.int32
                                                                else 2**63):
        ywide, cnt = wide, None
    else:
        lift = cmin
        ywide = np.int32 if (100 * Q + max(cmin, 0)) * rows_max < 2**31 \
            and cmin > -Q and wide is np.int32 else np.int64
        cnt = ws.get("cnt" + wide.__name__, n, wide)
    vp = ws.get("i5" if wide is np.int32 else "v", n + p, wide)  # (see run_sums)
    vp[:p] = 0
    v = vp[p:]
    total = ws.get("total" + wide.__name__, n, wide)
    mask = ws.get("b0", n, np.bool_)
    if packed:
        np.add(x, wide(1 << k), out=v)  # (holes may wrap: they are set to 0)
    else:
        np.copyto(v, x)
    v[rows] = 0
    f = 0 if pad else max(w_lo.first, w_hi.first)
    size = min(BLOCK, n)
    y = ws.get("xalt" if ywide is np.int32 else "y", size, ywide)  # (see run_sums)
    c_block = ws.get("base_c", size, wide)
    for a in range(f, n, BLOCK):
        b = min(a + BLOCK, n)
        t = total[a:b]
        window_run(ws, vp, w_lo, w_hi, a, t, p)
        if cnt is None:
            c = c_block[:b - a]
            np.right_shift(t, k, out=c)
        elif packed:
            c = cnt[a:b]
            np.right_shift(t, k, out=c)
            np.bitwise_and(t, wide((1 << k) - 1), out=t)
        else:
            c = cnt[a:b]
            v1p = ws.get("v1", n + p, wide)
            if a == f:
                v1p[:p] = 0
                v1 = v1p[p:]
                v1.fill(1)
                v1[rows] = 0
            window_run(ws, v1p, w_lo, w_hi, a, c, p)
        yb = y[:b - a]
        np.add(x[a:b], lift, out=yb, dtype=ywide)
        np.multiply(yb, c, out=yb)
        np.greater_equal(t, yb, out=mask[a:b])
    if odd.size:  # windows not made of offsets, one by one
        sums = _sums_between(ws, v[:n], odd_lo, odd_hi)
        if cnt is None:  # (the blocks' test, on the packed sums)
            total[odd] = sums
            y_odd = np.add(x[odd], lift, dtype=ywide)
            y_odd *= sums >> k
            mask[odd] = sums >= y_odd
            return mask, Baseline(total, cnt, k)
        if packed:
            t_odd, c_odd = sums & ((1 << k) - 1), sums >> k
        else:
            t_odd, c_odd = sums, np.where(odd_hi > odd_lo, odd_hi - odd_lo - (
                holes.before(odd_hi) - holes.before(odd_lo)), 0)
        total[odd], cnt[odd] = t_odd, c_odd
        mask[odd] = t_odd.astype(np.int64) >= (x[odd].astype(np.int64) + cmin) * c_odd
    return mask, Baseline(total, cnt, k)


def run_sums(ws: Scratch, v: np.ndarray, m: int, out: np.ndarray, start: int = 0) -> None:
    """out[i] = v[start + i] + ... + v[start + i + m - 1] (v long enough), in v's dtype
    (wrapping, like a prefix sum). By doubling: runs of 1, 2, 4, ... rows from the runs
    half as long, those of m's set bits added up as they come, the last addition into
    `out`: ~log2(m) + popcount(m) shifted additions, each a SIMD pass, where a prefix
    sum (np.cumsum) is one sequential pass ~10x as slow. Where m is 2**a - 2**b (120 =
    128 - 8: the default baseline window at 1 Hz) and v has the rows, a run of 2**a less
    one of 2**b is one pass fewer. (The passes are planned once per m, `_run_plan`: a
    block's call is then only the passes themselves.)"""
    size = out.size
    if m <= 0:
        out.fill(0)
        return
    plan, span = _run_plan(m, v.size - start - size + 1)
    used = size + span - 1
    # (int32: the averaging's buffers, done with by now and likely still in cache)
    pre = "i" if v.dtype == np.int32 else "run"
    srcs = [ws.get(pre + str(i), used, v.dtype.type) for i in (2, 3, 4)]
    srcs.append(v[start:start + used])  # (index -1: v itself)
    for dst, a, ao, b, bo, shrink, op in plan:
        k = size if dst < 0 else used - shrink
        into = out if dst < 0 else srcs[dst][:k]
        first = out if a == _OUT else srcs[a][ao:ao + k]
        if bo < 0:  # (m a power of two: a copy)
            np.copyto(into, first)
        else:
            op(first, srcs[b][bo:bo + k], out=into)


_OUT = -2  # (`_run_plan`: the output itself as an operand)
_Plan = list[tuple[int, int, int, int, int, int, np.ufunc]]
_PLANS: dict[tuple[int, bool], tuple[_Plan, int]] = {}


def _run_plan(m: int, room: int) -> tuple[_Plan, int]:
    """The passes of `run_sums` for runs of m rows, given how long a run v has room for
    (`room` rows from each output row's start), and the run length they read (m, or
    2**a for m = 2**a - 2**b). Each pass: (dst, a, a_offset, b, b_offset, shrink, op):
    buffers 0..2, -1 v's rows, -2 the output; it computes `used - shrink` rows (dst -1:
    into the output, its size; b_offset -1: a copy). Three buffers suffice."""
    top = 1 << m.bit_length()  # (m = top - low, low a power of two, if that form)
    low = top - m
    gap = low > 0 and low & (low - 1) == 0 and 4 * low <= top and top <= room
    key = (m, gap)
    if key not in _PLANS:
        bits = _bits_plan(m)
        fewer = _gap_plan(top, low) if gap else bits
        _PLANS[key] = (fewer, top) if len(fewer) < len(bits) else (bits, m)
    return _PLANS[key]


def _gap_plan(top: int, low: int) -> _Plan:
    """Runs of top - low rows: doublings up to runs of top / 2 (those of `low` kept),
    then two of those added into the output, and the run of `low` at its end taken off."""
    plan: _Plan = []
    ci, keep, length = -1, -1, 1  # (runs of `low` rows: v itself if low is 1)
    while length < top // 2:
        ni = next(i for i in range(3) if i not in (ci, keep))
        plan.append((ni, ci, 0, ci, length, 2 * length - 1, np.add))
        ci, length = ni, 2 * length
        if length == low:
            keep = ci
    plan.append((-1, ci, 0, ci, length, 0, np.add))
    plan.append((-1, _OUT, 0, keep, top - low, 0, np.subtract))
    return plan


def _bits_plan(m: int) -> _Plan:
    """Runs of m rows from the runs of m's set bits, added up as the doublings reach
    them: the current runs, the runs of the bits taken so far, and the next doubling."""
    plan: _Plan = []
    ci, ai, taken, length = -1, -1, 0, 1
    while True:
        if m & length:
            if not taken:
                ai = ci
            else:
                if taken + length == m:
                    plan.append((-1, ai, 0, ci, taken, 0, np.add))
                    break
                if ai < 0:  # (the runs taken so far are v itself: a buffer of their own)
                    ai = 3 - ci if ci > 0 else 1
                    src = -1
                else:
                    src = ai
                plan.append((ai, src, 0, ci, taken, taken + length - 1, np.add))
            taken += length
            if taken == m:  # (m a power of two)
                plan.append((-1, ai, 0, ai, -1, 0, np.add))
                break
        ni = next(i for i in range(3) if i not in (ci, ai))
        plan.append((ni, ci, 0, ci, length, 2 * length - 1, np.add))
        ci, length = ni, 2 * length
    return plan


def window_run(ws: Scratch, v: np.ndarray, w_lo: Window, w_hi: Window, a: int,
               out: np.ndarray, p: int = 0) -> None:
    """out[i] = the sum of v over rows lo .. hi - 1 of row a + i's window, for rows whose
    both ends are offsets: a run of L = o_lo - o_hi rows ending at r - o_hi - 1
    (`run_sums`; where a jittered window has one more row at either end, v there is
    added or taken off). The sums wrap like prefix sums: exact wherever the window's
    sum fits. (Row r is v[p + r]: p rows before row 0 that the offsets may reach.)"""
    b = a + out.size
    run_sums(ws, v, w_lo.o - w_hi.o, out, p + a - w_lo.o)
    for w, fix in ((w_hi, np.subtract), (w_lo, np.add)):
        if w.d is not None:
            tmp = ws.get("wdiff" + v.dtype.str, out.size, v.dtype.type)
            np.multiply(v[p + a - w.o - 1:p + b - w.o - 1], w.d[a:b], out=tmp)
            fix(out, tmp, out=out)


def _sums_between(ws: Scratch, v: np.ndarray, lo: np.ndarray, hi: np.ndarray
                  ) -> np.ndarray:
    """v[lo] + ... + v[hi - 1] for the windows that are not offsets (0 where empty; lo
    and hi never go back from one window to the next), in v's dtype (wrapping like the
    run sums): differences of one prefix sum over the rows the windows cover, stretch
    after stretch of overlapping windows. Nearly always the windows are the record's
    first rows: one short stretch. After each dropout of an irregular record they are
    ~a window's rows, a few hundred rows of stretch a dropout, where a prefix sum over
    the whole day cost ~0.2 ms and summing each window apart ~1 ms."""
    s = int(lo[0])
    if int(lo[-1]) == s and int(hi[0]) >= s:  # (all from one row: nearly always the
        pre = ws.get("pre" + v.dtype.str, int(hi[-1]) - s + 1, v.dtype.type)  # first
        pre[0] = 0  # rows, from row 0; none empty)
        np.cumsum(v[s:s + pre.size - 1], dtype=v.dtype, out=pre[1:])
        return pre[hi - s if s else hi]
    lo = np.minimum(lo, hi)
    # (a window past the ends of all before it starts a stretch: windows edge[j] ..
    # edge[j + 1] - 1 are stretch j's, its rows s_lo[j] .. s_hi[j] - 1)
    brk = (lo[1:] > hi[:-1]).nonzero()[0]
    edge = np.empty(brk.size + 2, dtype=np.int64)
    edge[0], edge[-1] = 0, lo.size
    np.add(brk, 1, out=edge[1:-1])
    s_lo, s_hi = lo[edge[:-1]], hi[edge[1:] - 1]
    # Row r of stretch j is at place r - s_hi[j] + (the rows of the stretches up to j).
    shift = np.cumsum(s_hi - s_lo)
    total = int(shift[-1])
    shift -= s_hi
    pre = ws.get("pre" + v.dtype.str, total + 1, v.dtype.type)
    pre[0] = 0
    if brk.size < 64:  # (a slice a stretch: cheaper than gathering the rows)
        ends = s_hi.tolist()
        rows = np.concatenate([v[a:ends[j]] for j, a in enumerate(s_lo.tolist())])
    else:
        rows = v[ranges(s_lo, s_hi)]
    np.cumsum(rows, dtype=v.dtype, out=pre[1:])
    shift = np.repeat(shift, np.diff(edge))
    return pre[hi + shift] - pre[lo + shift]


def _from_row_0(w: Window) -> bool:
    """Whether w's odd rows start with its first rows, 0 .. first - 1, whose windows all
    start at row 0, and the offsets there, r - o - d[r], are at most 0 (so that over
    zeros before row 0 they sum as from row 0)."""
    f = w.first
    return not f or (f <= w.o + 1 and w.odd.size >= f and int(w.odd[f - 1]) == f - 1
                     and int(w.odd_lo[f - 1]) == 0)


def odd_ends(w_lo: Window, w_hi: Window, n: int, pad: bool = False
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows where either window is not offsets (the `union` of their odd rows, of
    n), and each window's lo at those rows. Nearly always both windows' odd rows are the
    record's first rows: the longer of the two, without a sort. After the dropouts of an
    irregular record one window's odd rows (the longer window's) nearly always hold the
    other's: then those, found by a search of the fewer among the more. Else from a mask
    of the rows. Either way each window's odd rows are at known places in the union: its
    lo there is its `odd_lo`, elsewhere r - o - d[r] (`lo_over`), with no search per row
    (`Window.lo_of`'s, among ~1,800 odd rows, cost ~0.05 ms on a day with ten dropouts).
    With `pad`, the odd rows past each window's first rows (`_from_row_0`)."""
    a, b, a_lo, b_lo = w_lo.odd, w_hi.odd, w_lo.odd_lo, w_hi.odd_lo
    if pad:
        a, a_lo = a[w_lo.first:], a_lo[w_lo.first:]
        b, b_lo = b[w_hi.first:], b_lo[w_hi.first:]
        if not (a.size or b.size):
            return a, a_lo, b_lo
    elif a.size and b.size and a[-1] == a.size - 1 and b[-1] == b.size - 1:
        if a.size >= b.size:  # (sorted distinct from 0: 0 .. size - 1)
            return a, w_lo.odd_lo, w_hi.lo_of(a)
        return b, w_lo.lo_of(b), w_hi.odd_lo
    at = _places(b, a) if b.size <= a.size else None
    if at is not None:
        return a, a_lo, lo_over(w_hi, a, at, b_lo)
    at = _places(a, b) if a.size <= b.size else None
    if at is not None:
        return b, lo_over(w_lo, b, at, a_lo), b_lo
    if a.size + b.size > n >> 6:
        mask = np.zeros(n, dtype=bool)
        mask[a] = True
        mask[b] = True
        odd = mask.nonzero()[0]
    else:
        odd = union(a, b)
    return (odd, lo_over(w_lo, odd, odd.searchsorted(a), a_lo),
            lo_over(w_hi, odd, odd.searchsorted(b), b_lo))


def _places(sub: np.ndarray, rows: np.ndarray) -> np.ndarray | None:
    """Where each of sub's rows is among rows (both sorted, distinct), or None if one
    is not there."""
    at = rows.searchsorted(sub)
    if sub.size and (int(at[-1]) >= rows.size or not (rows[at] == sub).all()):
        return None
    return at


def lo_over(w: Window, rows: np.ndarray, at: np.ndarray,
            odd_lo: np.ndarray | None = None) -> np.ndarray:
    """w's lo at some rows (sorted, distinct) that hold all its odd rows (or those of
    them whose lo is odd_lo), at places `at`: r - o - d[r] (at least 0), and odd_lo at
    the odd ones."""
    lo = rows - w.o
    if w.d is not None:
        lo -= w.d[rows]
    lo[at] = w.odd_lo if odd_lo is None else odd_lo
    return np.maximum(lo, 0, out=lo)
