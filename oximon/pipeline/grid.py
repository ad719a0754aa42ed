"""Batch analysis on a regular time grid: the fast path of `oximon.analysis.analyze`.

Most recordings come from a device at a fixed rate, every row `step` ms after the one
before. Then every window of the streaming rules is a fixed number of rows, so windowed
sums are differences of prefix sums at fixed offsets (slices, not searches), and the
pipeline can work on the rows themselves instead of compacted copies. The few rows that are
not accepted readings (invalid, or held back as artifacts: the "holes") are handled apart:
the windows they touch, and the rule states around them, are fixed up on those rows only.
Every full-length intermediate lives in reusable scratch buffers (`scratch`), int32 where
exact. The result is the same `Findings` as the general path (proved against the streaming
pipeline by the equivalence tests, sample for sample).
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from oximon.pipeline.scratch import scratch
from oximon.pipeline.settings import DT_CAP_MS, INVALID_FLAGS, MS, T_LIMIT_S, Q, Settings
from oximon.pipeline.stages import ArtifactFilter
from oximon.pipeline.vector import (
    CHUNK,
    CT_LIMITS,
    Findings,
    Spans,
    battery_spans,
    gap_episodes,
    integrand,
    level_runs,
    push,
    sorting_network,
)
from oximon.pipeline.vector import spans as vspans
from oximon.types import Flags, Priority

HOLE = np.int32(1 << 30)  # the averaged value of a hole: above any threshold, never "low"
_EMPTY = np.zeros(0, dtype=np.int64)
_TRUE = np.ones(1, dtype=bool)


def _union(*arrays: np.ndarray) -> np.ndarray:
    """Sorted distinct values of some small int arrays (cheaper than np.union1d here)."""
    a = np.sort(np.concatenate(arrays))
    if a.size > 1:
        a = a[np.concatenate((_TRUE, a[1:] != a[:-1]))]
    return a


class Holes:
    """Sorted rows left out of a stream of readings, with their runs."""

    def __init__(self, rows: np.ndarray, n: int):
        self.rows = rows
        self.n = n
        if rows.size:
            brk = np.flatnonzero(rows[1:] != rows[:-1] + 1)
            self.starts = rows[np.concatenate(([0], brk + 1))]
            self.ends = rows[push(brk, rows.size - 1)]
        else:
            self.starts = self.ends = _EMPTY

    def before(self, r: np.ndarray) -> np.ndarray:
        """How many holes lie before each row: row - this = its place in the stream."""
        return np.searchsorted(self.rows, r)

    def next_kept(self, r: np.ndarray) -> np.ndarray:
        """The first row at or after each r that is not a hole (n or more: none)."""
        r = np.asarray(r, dtype=np.int64)
        if not self.rows.size:
            return r
        j = np.minimum(np.searchsorted(self.ends, r), self.ends.size - 1)
        inside = (self.starts[j] <= r) & (r <= self.ends[j])
        return np.where(inside, self.ends[j] + 1, r)


def _regular_step(t: np.ndarray, n: int) -> int:
    """The grid step in ms if every row is exactly one step after the one before (in the
    rounded ms the streaming pipeline uses), else 0."""
    if n < 2 or not (abs(t[0]) <= T_LIMIT_S and abs(t[-1]) <= T_LIMIT_S):
        return 0
    ws = scratch()
    tqf = ws.get("f0", n, np.float64)
    np.multiply(t, MS, out=tqf)
    np.rint(tqf, out=tqf)
    step = float(tqf[1] - tqf[0])
    if not 1.0 <= step <= DT_CAP_MS:
        return 0
    d = ws.get("f1", n - 1, np.float64)
    np.subtract(tqf[1:], tqf[:-1], out=d)
    eq = ws.get("b0", n - 1, np.bool_)
    np.equal(d, step, out=eq)
    return int(step) if eq.all() else 0


def analyze_grid(s: Settings, t: np.ndarray, sp: np.ndarray, pr: np.ndarray,
                 fl: np.ndarray | None) -> Findings | None:
    """Findings for a record on a regular time grid, or None if it is not on one."""
    n = t.size
    step = _regular_step(t, n)
    if not step:
        return None
    return _Grid(s, t, sp, pr, fl, step).run()


class _Grid:
    def __init__(self, s: Settings, t: np.ndarray, sp: np.ndarray, pr: np.ndarray,
                 fl: np.ndarray | None, step: int):
        self.s, self.t, self.sp, self.pr, self.step = s, t, sp, pr, step
        self.n = t.size
        self.tq0 = round(float(t[0]) * MS)
        self.ws = scratch()
        self.bad = self.low_batt = _EMPTY
        if fl is not None:
            nz = np.flatnonzero(fl != 0)  # (on a bool mask: 10x faster than on ints)
            if nz.size:
                f = fl[nz]
                self.bad = nz[(f & INVALID_FLAGS) != 0]
                self.low_batt = nz[(f & int(Flags.LOW_BATTERY)) != 0]
        self.spans: list[Spans] = []
        self.spo2_rules: list[tuple[str, Priority, np.ndarray, np.ndarray, int,
                                    np.ndarray | None, int]] = []

    def run(self) -> Findings:
        s, n = self.s, self.n
        self._validity()
        self._artifacts()
        self._average()
        x, holes = self.x, self.holes
        # -- SpO2 threshold rules: only rows below the recovery level can do anything ----
        mask = self.ws.get("b0", n, np.bool_)
        low, severe = s.spo2_low, s.spo2_severe
        np.less(x, low.recover, out=mask)
        nr_low = np.flatnonzero(mask)
        xv = x[nr_low]
        self._spo2_rule(low.name, low.priority, nr_low, xv < low.threshold, low.delay_ms,
                        np.maximum(int(low.threshold) - xv.astype(np.int64), 0), low.sat)
        if severe.recover <= low.recover:
            nr = nr_low[xv < severe.recover]
        else:
            np.less(x, severe.recover, out=mask)
            nr = np.flatnonzero(mask)
        self._spo2_rule(severe.name, severe.priority, nr, x[nr] < severe.threshold,
                        severe.delay_ms)
        # -- the baseline rules ---------------------------------------------------------------
        cand = self._baseline()
        ddc, cc = self._deficit(cand)
        keep = ddc >= s.drop_recover_q * cc
        nr = cand[keep]
        self._spo2_rule("spo2_drop", s.drop_priority, nr,
                        ddc[keep] >= s.drop_points_q * cc[keep], s.drop_delay_ms)
        self._spo2_levels()
        f = Findings(spans=self.spans)
        self._events(f, cand[ddc >= s.event_points_q * cc])
        self._pulse()
        self._time_rules()
        # -- metrics: every row weighs min(step, max_gap) -------------------------------------
        w0 = min(self.step, s.gap_ms)
        n_acc = n - holes.rows.size
        f.duration = float(self.t[-1] - self.t[0]) + w0 / MS
        f.valid_ms = n_acc * w0
        if n_acc:  # the accepted readings themselves (device values, not averages)
            q = self.q
            f.sum_xw = (int(q.sum(dtype=np.int64))
                        - int(q[holes.rows].sum(dtype=np.int64))) * w0
            q[holes.rows] = 100 * Q  # holes count nothing below 90, nor as the lowest
            f.nadir_q = int(q.min())
            mask = self.ws.get("b0", n, np.bool_)
            np.less(q, max(CT_LIMITS), out=mask)
            v = q[np.flatnonzero(mask)]  # the few that count at all
            f.b90, f.b85 = (int(np.count_nonzero(v < lim)) * w0 for lim in CT_LIMITS)
        return f

    # -- validity and artifacts -----------------------------------------------------------------
    def _validity(self) -> None:
        s, n, ws = self.s, self.n, self.ws
        valid = self.valid = ws.get("valid", n, np.bool_)
        tmp = ws.get("b0", n, np.bool_)
        np.greater_equal(self.sp, s.spo2_min_q / Q, out=valid)
        np.less_equal(self.sp, 100.0, out=tmp)
        np.logical_and(valid, tmp, out=valid)
        valid[self.bad] = False
        np.logical_not(valid, out=tmp)
        self.inv = Holes(np.flatnonzero(tmp), n)
        qf = ws.get("f0", n, np.float64)
        np.multiply(self.sp, Q, out=qf)
        np.rint(qf, out=qf)
        q = self.q = ws.get("q", n, np.int32)
        np.copyto(q, qf, casting="unsafe")
        q[self.inv.rows] = 0

    def _artifacts(self) -> None:
        """ArtifactFilter over the valid readings: candidates are the jumps beyond the
        bound between neighbouring readings; the filter itself is replayed from each."""
        s, n, q, step, inv = self.s, self.n, self.q, self.step, self.inv
        bound = s.art_step_q * MS + s.art_rate_q * min(step, DT_CAP_MS)
        d = self.ws.get("i1", n, np.int32)[:n - 1]
        np.subtract(q[1:], q[:-1], out=d)
        np.abs(d, out=d)
        jump = self.ws.get("b0", n - 1, np.bool_)
        np.greater(d, bound // MS, out=jump)  # |dq| * MS > bound, in integers
        cand = np.flatnonzero(jump) + 1
        cand = cand[self.valid[cand] & self.valid[cand - 1]]
        prev = cand - 1
        if inv.rows.size:  # a reading after a run of invalid rows: judged over the gap
            after = inv.ends + 1
            ok = (after < n) & (inv.starts > 0)
            after, before = after[ok], inv.starts[ok] - 1
            dt = np.minimum((after - before) * step, DT_CAP_MS)
            big = (np.abs(q[after].astype(np.int64) - q[before]) * MS
                   > s.art_step_q * MS + s.art_rate_q * dt)
            cand = np.concatenate([cand, after[big]])
            prev = np.concatenate([prev, before[big]])
            order = np.argsort(cand, kind="stable")
            cand, prev = cand[order], prev[order]
        self.confirmed_first = self.confirmed_at = _EMPTY
        rows = inv.rows
        if cand.size:
            rej = self._replay(cand, prev)
            if rej.size:
                rows = _union(rows, rej[self.valid[rej]])
        self.holes = Holes(rows, n)
        # A hole mask, and hb[r] = the number of holes before row r (r - hb[r] is the place
        # of an accepted row in the stream of accepted readings).
        hm = self.hmask = self.ws.get("hmask", n, np.bool_)
        hm.fill(False)
        hm[rows] = True
        hb = self.hb = self.ws.get("hb", n + 1, np.int32)
        hb[0] = 0
        np.cumsum(hm, dtype=np.int32, out=hb[1:])

    def _replay(self, ca: np.ndarray, pa: np.ndarray) -> np.ndarray:
        """Run the ArtifactFilter from each candidate jump (sorted rows `ca`, previous
        valid rows `pa`) until it accepts a reading again; returns the rows it rejected.
        Where the next hold-length of rows is all valid (nearly always), that is solved
        for all candidates at once; otherwise the filter itself is replayed."""
        s = self.s
        h = max(0, -(-s.art_hold_ms // self.step))  # by row c + h the hold has run out
        fast = np.empty(ca.size, dtype=bool)
        k = np.empty(ca.size, dtype=np.int64)
        real = np.empty(ca.size, dtype=bool)
        block = max(1, CHUNK // (h + 1))  # (a bounded matrix at high rates)
        for a in range(0, ca.size, block):
            fast[a:a + block], k[a:a + block], real[a:a + block] = self._holds(
                ca[a:a + block], pa[a:a + block], h)
        # A candidate inside the span another one held back is not a fresh jump: follow
        # the chain of candidates that are.
        nxt = np.searchsorted(ca, k, side="right").tolist()
        fast_l, cand = fast.tolist(), ca.tolist()
        live: list[int] = []
        slow: dict[int, tuple[int, bool]] = {}
        f = ArtifactFilter(s.art_step_q, s.art_rate_q, s.art_hold_ms)
        i, m = 0, len(cand)
        while i < m:
            live.append(i)
            if fast_l[i]:
                i = nxt[i]
            else:
                kk, done, is_real = self._replay_one(f, cand[i], int(pa[i]))
                slow[i] = (kk, done and is_real)
                i = bisect_right(cand, kk)
        li = np.array(live, dtype=np.int64)
        c_l, k_l, real_l = ca[li], k[li], real[li]
        if slow:
            at = np.searchsorted(li, list(slow))
            k_l[at] = [v[0] for v in slow.values()]
            real_l[at] = [v[1] for v in slow.values()]
        held = k_l > c_l
        conf = held & real_l
        if conf.any():
            self.confirmed_first, self.confirmed_at = c_l[conf], k_l[conf]
        rej = held & ~real_l  # the jump returned, or the record ended while it was held
        c_r, k_r = c_l[rej], k_l[rej]
        if not c_r.size:
            return _EMPTY
        lengths = k_r - c_r
        starts = np.cumsum(lengths) - lengths
        return np.arange(int(lengths.sum())) + np.repeat(c_r - starts, lengths)

    def _holds(self, ca: np.ndarray, pa: np.ndarray,
               h: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For candidates whose next h + 1 rows are all valid ("fast"): the row where the
        filter accepts again (k) and whether that is because the hold ran out (real)."""
        s, n, q, valid, step = self.s, self.n, self.q, self.valid, self.step
        rows = ca[:, None] + np.arange(h + 1)[None, :]
        fast = rows[:, -1] < n
        rows = np.minimum(rows, n - 1)
        fast &= valid[rows].all(axis=1)
        dt = np.full(rows.shape, min(step, DT_CAP_MS), dtype=np.int64)
        dt[:, 0] = np.minimum((ca - pa) * step, DT_CAP_MS)
        within = (np.abs(q[rows].astype(np.int64) - q[pa][:, None]) * MS
                  <= s.art_step_q * MS + s.art_rate_q * dt)
        stop = within | (np.arange(h + 1)[None, :] * step >= s.art_hold_ms)
        j = np.argmax(stop, axis=1)
        return fast, ca + j, ~within[np.arange(ca.size), j]

    def _replay_one(self, f: ArtifactFilter, c: int, p: int) -> tuple[int, bool, bool]:
        """The streaming filter from candidate c (previous accepted reading p): the row
        where it accepts again, whether it did, and whether the held ones were real."""
        n, q, valid, step, tq0 = self.n, self.q, self.valid, self.step, self.tq0
        f.ref_q, f.last_tq, f.suspect_tq, f.held = int(q[p]), tq0 + p * step, None, []
        k = c
        while k < n:
            qs, vs = q[k:k + 16].tolist(), valid[k:k + 16].tolist()
            for qk, vk in zip(qs, vs, strict=True):
                if vk and f.accept(tq0 + k * step, qk):
                    return k, True, bool(f.released)
                k += 1
        return k, False, False

    def _known_t(self, rows: np.ndarray) -> np.ndarray:
        """When the live pipeline knew each row's verdicts: its own time, or for a reading
        held back and then confirmed, the confirming reading's time."""
        t = self.t[rows]
        cf = self.confirmed_first
        if cf.size and rows.size:
            j = np.searchsorted(cf, rows, side="right") - 1
            jc = np.maximum(j, 0)
            inside = (j >= 0) & (rows < self.confirmed_at[jc])
            t = np.where(inside, self.t[self.confirmed_at[jc]], t)
        return t

    # -- averaging ---------------------------------------------------------------------------------
    def _average(self) -> None:
        """Averager.push at every accepted row; holes get HOLE. Full windows (no hole in
        them) from shifted slices; windows that touch a hole or the start, one by one."""
        s, n, q, holes = self.s, self.n, self.q, self.holes
        o = max(0, (s.avg_ms - 1) // self.step)  # window (t - w, t]: rows r - o .. r
        m = o + 1
        x = self.x = self.ws.get("x", n, np.int32)
        if o < n:
            self._full_windows(x, q, o, m, s.avg_median)
        # Rows whose window is short: the first o rows, and o rows after each hole.
        short = np.arange(min(o, n), dtype=np.int64)
        if holes.rows.size and o:
            near = (holes.ends[:, None] + np.arange(1, m)[None, :]).ravel()
            short = _union(short, near[near < n])
        if short.size:
            hm = self.hmask
            short = short[~hm[short]]
            win = short[:, None] - np.arange(m)[None, :]
            idx = np.maximum(win, 0)
            ok = (win >= 0) & ~hm[idx]
            cnt = ok.sum(axis=1)
            if s.avg_median:  # missing slots sort last (valid readings are <= 100 %)
                vals = np.where(ok, q[idx], HOLE)
                if m <= 8:  # a sorting network over the columns: cheaper than np.sort
                    cols = list(vals.T)
                    for a, b in sorting_network(m):
                        cols[a], cols[b] = (np.minimum(cols[a], cols[b]),
                                            np.maximum(cols[a], cols[b]))
                    srt = np.stack(cols, axis=1)
                else:
                    srt = np.sort(vals, axis=1)
                j = np.arange(short.size)
                x[short] = (srt[j, (cnt - 1) // 2] + srt[j, cnt // 2]) // 2
            else:
                x[short] = np.where(ok, q[idx], 0).sum(axis=1, dtype=np.int64) // cnt
        # Prefix sums of the averaged readings (holes count 0) for the baseline and metrics.
        x[holes.rows] = 0
        c = self.csum = self.ws.get("csum", n + 1, np.int64)
        c[0] = 0
        np.cumsum(x, dtype=np.int64, out=c[1:])
        x[holes.rows] = HOLE

    def _full_windows(self, x: np.ndarray, q: np.ndarray, o: int, m: int,
                      median: bool) -> None:
        n = self.n
        out = x[o:]
        if not median:
            c = self.ws.get("csum", n + 1, np.int64)
            c[0] = 0
            np.cumsum(q, dtype=np.int64, out=c[1:])
            tmp = self.ws.get("i64", n - o, np.int64)
            np.subtract(c[m:], c[:n + 1 - m], out=tmp)
            np.floor_divide(tmp, m, out=tmp)
            out[:] = tmp
        elif m == 1:
            out[:] = q
        elif m == 2:
            np.add(q[1:], q[:-1], out=out)
            np.right_shift(out, 1, out=out)
        elif m == 3:
            lo = self.ws.get("i2", n - 2, np.int32)
            np.minimum(q[:-2], q[1:-1], out=lo)
            np.maximum(q[:-2], q[1:-1], out=out)
            np.minimum(out, q[2:], out=out)
            np.maximum(out, lo, out=out)
        elif m == 4:
            # Middle two of a, b, c, d: max(min(a, b), min(c, d)) and min(max(a, b),
            # max(c, d)); the pairs (r-3, r-2) and (r-1, r) are one pair array, shifted.
            lo = self.ws.get("i2", n - 1, np.int32)
            hi = self.ws.get("i3", n - 1, np.int32)
            np.minimum(q[:-1], q[1:], out=lo)
            np.maximum(q[:-1], q[1:], out=hi)
            tmp = self.ws.get("i4", n - 3, np.int32)
            np.maximum(lo[:-2], lo[2:], out=out)
            np.minimum(hi[:-2], hi[2:], out=tmp)
            np.add(out, tmp, out=out)
            np.right_shift(out, 1, out=out)
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

    # -- rules on sparse rows ------------------------------------------------------------------
    def _spo2_rule(self, name: str, priority: Priority, nr: np.ndarray, breach: np.ndarray,
                   delay: int, depth: np.ndarray | None = None, sat: int = 0) -> None:
        """A level rule over the accepted readings, given the rows where it is not
        recovered (sorted) and whether each breaches (and, for an integrated delay, each
        row's depth below the threshold): queued, all solved in one go."""
        if breach.any():
            self.spo2_rules.append((name, priority, nr, breach, delay,
                                    depth if sat > 0 else None, sat))

    def _spo2_levels(self) -> None:
        """Level.update for every queued SpO2 rule at once: the rules' rows side by side,
        far enough apart that no run or segment spans two rules. Times in rows (the grid),
        so delays and the gap in whole rows."""
        rules = self.spo2_rules
        if not rules:
            return
        n, hb, step = self.n, self.hb, self.step
        sizes = [r[2].size for r in rules]
        rows = np.concatenate([r[2] for r in rules])
        pos = rows + np.repeat(np.arange(len(rules)) * (2 * n + 2), sizes)
        first = np.cumsum(sizes) - sizes  # where each rule's rows begin
        # Runs of readings: consecutive rows, or rows with only holes between them.
        brk = np.flatnonzero(pos[1:] != pos[:-1] + 1) + 1
        a, b = rows[brk - 1] + 1, rows[brk]
        real = (hb[b] - hb[a]) != (b - a)
        boundary = np.zeros(rows.size + 1, dtype=bool)
        boundary[first] = True
        real |= boundary[brk]
        gap = self.s.gap_ms // step
        # A gap splits a run of readings with only holes between them (elsewhere a run
        # starts anyway): consecutive readings b - a + 1 rows apart, more than `gap`.
        gaps = brk[~real & ((b - a) >= gap)] if gap else None
        delays = np.repeat([-(-r[4] // step) for r in rules], sizes)
        w, sats = None, np.repeat([r[6] for r in rules], sizes)
        if sats.any():  # the integrated delay: depth x ms since the reading before (rows)
            depth = np.concatenate([r[5] if r[5] is not None else np.zeros(r[2].size,
                                    dtype=np.int64) for r in rules])
            w = np.cumsum(integrand(depth, rows * step))
        raised, ended, _ = level_runs(None, pos, np.concatenate([r[3] for r in rules]),
                                      delays, gap, brk[real], gaps, w=w, sat=sats)
        if not raised.size:
            return
        k = raised.size
        both = np.concatenate([rows[raised], self._next_acc(rows[ended] + 1)])
        times = self._known_t(np.minimum(both, n - 1))
        times[both >= n] = np.nan
        rule = np.searchsorted(first, raised, side="right") - 1
        for i, (name, priority, *_) in enumerate(rules):
            sel = rule == i
            if sel.any():
                self.spans.append((name, priority, times[:k][sel], times[k:][sel]))

    def _next_acc(self, r: np.ndarray) -> np.ndarray:
        """The first accepted row at or after each row r (n or more: none)."""
        n = self.n
        hit = self.hmask[np.minimum(r, n - 1)] & (r < n)
        if not hit.any():
            return r
        r = r.copy()
        r[hit] = self.holes.next_kept(r[hit])
        return r

    def _add(self, name: str, priority: Priority, raised: np.ndarray,
             cleared: np.ndarray) -> None:
        if raised.size:
            n = self.n
            ct = np.where(cleared < n, self.t[np.minimum(cleared, n - 1)], np.nan)
            self.spans.append((name, priority, self.t[raised], ct))

    def _baseline(self) -> np.ndarray:
        """Baseline.update at every row as (total, count) (`self.total`, `self.cnt`).
        Returns the rows where some baseline rule or an event can hold."""
        s, n, step, holes, ws = self.s, self.n, self.step, self.holes, self.ws
        lag, span = s.base_lag_ms, s.base_lag_ms + s.base_win_ms
        o_lag, o_span = lag // step, span // step  # window rows r - o_span .. r - o_lag - 1
        cover = lag + s.base_win_ms // 2
        o_cov = max(-(-cover // step), o_lag + 1)  # known: an accepted row <= r - o_cov
        cmin = min(s.drop_recover_q, s.event_points_q)
        # int32 where every product below fits (a 1 Hz record: 120 rows x 100 %).
        small = (100 * Q + max(cmin, 0)) * max(o_span - o_lag, 1) < 2**31 and cmin > -Q
        wide = np.int32 if small else np.int64
        cnt = self.cnt = ws.get("cnt", n, np.int32)
        total = self.total = ws.get("total" + wide.__name__, n, wide)
        c = self.csum
        if o_span <= o_lag or o_cov > o_span:  # never known
            cnt.fill(0)
            total.fill(-1)
            return _EMPTY
        # Counts: the rows of the window less the holes in it, from the hole prefix hb.
        hb = self.hb
        cnt[:min(o_lag, n)] = 0
        if o_lag < n:
            head = np.arange(min(o_span, n) - o_lag)
            cnt[o_lag:o_lag + head.size] = head - hb[head]
            if o_span < n:
                tail = cnt[o_span:]
                np.subtract(hb[o_span - o_lag:n - o_lag], hb[:n - o_span], out=tail)
                np.subtract(o_span - o_lag, tail, out=tail)
        # Sums: C[r - o_lag] - C[max(0, r - o_span)].
        total[:min(o_lag, n)] = 0
        if o_lag < n:
            mid = min(o_span, n)
            total[o_lag:mid] = c[:mid - o_lag]
            if o_span < n:
                np.subtract(c[o_span - o_lag:n - o_lag], c[:n - o_span], out=total[o_span:],
                            casting="unsafe")  # exact: the difference fits
        # Unknown (no accepted row old enough): the first o_cov rows, and after long runs
        # of holes. There count 0 and total -1, so no rule below can hold.
        unknown = [(0, o_cov - 1)]
        if holes.rows.size:
            st, en = holes.starts, holes.ends
            lo = np.where(st == 0, 0, st + o_span)
            hi = en + o_cov
            ok = lo <= hi
            unknown += list(zip(lo[ok].tolist(), hi[ok].tolist(), strict=True))
        for a, b in unknown:
            cnt[a:b + 1] = 0
            total[a:b + 1] = -1
        # Rows at least cmin below their baseline: total - x * count >= cmin * count, i.e.
        # total >= (x + cmin) * count.
        # (Holes may overflow in int32: they are dropped below.)
        y = ws.get("y" + wide.__name__, n, wide)
        np.add(self.x, cmin, out=y, dtype=wide)
        np.multiply(y, cnt, out=y)
        mask = ws.get("b0", n, np.bool_)
        np.greater_equal(total, y, out=mask)
        cand = np.flatnonzero(mask)
        return cand[(self.x[cand] != HOLE) & (cnt[cand] > 0)]

    def _deficit(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(total - x * count, count) at some rows: count times how far below its
        baseline mean each reading is (total -1, count 0 where the baseline is unknown)."""
        c = self.cnt[rows].astype(np.int64)
        return self.total[rows] - self.x[rows] * c, c

    def _events(self, f: Findings, ev: np.ndarray) -> None:
        """Runs of consecutive accepted readings at least `events.points` below their
        baseline (split by a gap longer than max_gap)."""
        if not ev.size:
            return
        pos = ev - self.hb[ev]
        start = np.ones(ev.size, dtype=bool)
        start[1:] = (pos[1:] != pos[:-1] + 1) | ((ev[1:] - ev[:-1]) * self.step > self.s.gap_ms)
        first = np.flatnonzero(start)
        i0, i1 = ev[first], ev[push(first[1:] - 1, ev.size - 1)]
        w0 = min(self.step, self.s.gap_ms)
        xe = self.q[ev].astype(np.int64)  # the readings (the event's nadir is one)
        f.set_events(self.t[i0], self.t[i1], self.total[i0], self.cnt[i0].astype(np.int64),
                     np.minimum.reduceat(xe, first), np.diff(push(first, ev.size)) * w0,
                     np.add.reduceat(xe, first) * w0)

    # -- pulse rate and time rules -----------------------------------------------------------------
    def _pulse(self) -> None:
        s, n, pr = self.s, self.n, self.pr
        mask = self.ws.get("b0", n, np.bool_)
        pholes: Holes | None = None
        for rule in (s.pr_low, s.pr_high):
            if rule.below:
                np.less(pr, rule.recover, out=mask)
            else:
                np.greater(pr, rule.recover, out=mask)
            nr = np.flatnonzero(mask)
            if nr.size:
                v = pr[nr]
                ok = (v >= s.pr_min) & (v <= s.pr_max)
                if self.bad.size:
                    ok &= ~np.isin(nr, self.bad)
                nr, v = nr[ok], v[ok]
            if not nr.size:
                continue
            breach = v < rule.threshold if rule.below else v > rule.threshold
            if not breach.any():
                continue
            if pholes is None:
                pok = (pr >= s.pr_min) & (pr <= s.pr_max)
                pok[self.bad] = False
                pholes = Holes(np.flatnonzero(~pok), n)
            raised, ended, _ = level_runs(nr - pholes.before(nr), self.tq0 + nr * self.step,
                                          breach, rule.delay_ms, s.gap_ms)
            self._add(rule.name, rule.priority, nr[raised], pholes.next_kept(nr[ended] + 1))

    def _time_rules(self) -> None:
        s, t, n, step, spans = self.s, self.t, self.n, self.step, self.spans
        # Float row times may differ from the ms grid by a rounding: decide on the grid
        # only when it is clearly on one side of the delay, else look at every interval.
        if step + 2 < s.no_reading_ms:
            inv = self.inv  # only runs of invalid rows can last that long
            since = np.where(inv.starts > 0, t[np.maximum(inv.starts - 1, 0)], t[0])
            until = t[np.minimum(inv.ends + 1, n - 1)]
            open_last = bool(inv.ends.size) and int(inv.ends[-1]) == n - 1
            eps = gap_episodes(since, until, s.no_reading_s, open_last)
        else:
            tv = t[self.valid]
            eps = gap_episodes(np.concatenate([t[:1], tv]), np.concatenate([tv, t[-1:]]),
                               s.no_reading_s, True)
        spans.append(vspans("no_reading", s.no_reading_priority, [e[0] for e in eps],
                            [e[1] for e in eps]))
        if step + 2 >= s.stale_ms:
            eps = gap_episodes(t[:-1], t[1:], s.stale_s, False)
            spans.append(vspans("stale_data", s.stale_priority, [e[0] for e in eps],
                                [e[1] for e in eps]))
        spans += battery_spans(t, self.low_batt, s.battery_priority)
