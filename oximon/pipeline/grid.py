"""Batch analysis on any time axis: the fast path of `oximon.analysis.analyze`.

The streaming rules are windows in time. On a regular grid a window is a fixed number of
rows; on a recording with receive-time jitter it is one row more or less (`axis.Window`):
either way windowed sums are run sums at shifted slices (`run_sums`, by doubling), and
the pipeline works on the rows themselves instead of compacted copies. The rows that are
not accepted readings (invalid, or held back as artifacts: the "holes", `screen`) are
handled apart: the windows they touch, and the rule states around them, are fixed up on
those rows only. Full-length intermediates live in reusable scratch buffers (`scratch`),
int32 where exact; the longest chains of passes (baseline, averaging) run a block of rows
at a time, so that each pass finds its data in cache. The result is the `Findings` of
`oximon.pipeline.vector`, proved against the streaming pipeline by the equivalence tests,
sample for sample.
"""

from __future__ import annotations

import numpy as np

from oximon.codes import Priority
from oximon.pipeline.averaging import average
from oximon.pipeline.axis import Axis, Holes, Window, ranges, union
from oximon.pipeline.baseline import lo_over, window_sums
from oximon.pipeline.levels import breaks, place, reach, runs_of, sat_reach
from oximon.pipeline.scratch import scratch
from oximon.pipeline.screen import Screen
from oximon.pipeline.settings import MS, T_LIMIT_S, Q, Settings
from oximon.pipeline.vector import (
    CT_LIMITS,
    Findings,
    Spans,
    battery_spans,
    first_at,
    gap_spans,
    level_runs,
    push,
)

_EMPTY = np.zeros(0, dtype=np.int64)
_ZERO = np.zeros(1, dtype=np.int64)


def in_order(t: np.ndarray) -> bool:
    """Whether every time is usable and none goes back (then `vector.keep_rows` keeps
    every row): NaN and inf fail the comparisons, and in order the extremes are the ends."""
    if t.size < 2:
        return False
    with np.errstate(invalid="ignore"):
        if not (abs(t[0]) <= T_LIMIT_S and abs(t[-1]) <= T_LIMIT_S):
            return False
        # (into a scratch buffer, "b0": `_Rows` takes it over next)
        ok = np.greater_equal(t[1:], t[:-1], out=scratch().get("b0", t.size - 1, np.bool_))
        return bool(ok.all())


def _event_sums(xe: np.ndarray, we: np.ndarray, first: np.ndarray, w_max: int,
                q_abs: int) -> tuple[np.ndarray, np.ndarray]:
    """Each event's sum of weights and of reading x weight (readings `xe` within
    +-q_abs, int32; weights `we` within [0, w_max]; each event's rows from `first`),
    in int32 where that cannot overflow: the casts to int64 on the way cost more than
    the sums themselves. (The products' sums in int64: an event may be long.)"""
    sw = np.add.reduceat(we, first, dtype=np.int64 if w_max * we.size >= 2**31 else we.dtype)
    xw = np.multiply(xe, we, dtype=np.int32 if q_abs * w_max < 2**31 else np.int64)
    return sw, np.add.reduceat(xw.astype(np.int64, copy=False), first)


def _far_spans(s: Settings, t: np.ndarray, valid: np.ndarray, far: np.ndarray
               ) -> list[Spans]:
    """The time rules across the long intervals `far` (rows i to i + 1, sorted): a
    reading gone stale, and a wait between neighbouring valid readings (no_reading's
    other half, in a batch of its own: `_alarms` puts all the spans in time order).
    Where a few (a dropout each): in Python, instead of a numpy call per step."""
    if far.size > 32:
        after = far + 1
        since, until = t[far], t[after]
        both = valid[far] & valid[after]
        return [gap_spans("no_reading", s.no_reading_priority, since[both],
                          until[both], s.no_reading_s, False),
                gap_spans("stale_data", s.stale_priority, since, until, s.stale_s, False)]
    ti, vi = t.item, valid.item
    pairs = [(ti(i), ti(i + 1), vi(i) and vi(i + 1)) for i in far.tolist()]
    out: list[Spans] = []
    for name, priority, delay, every in (
            ("no_reading", s.no_reading_priority, s.no_reading_s, False),
            ("stale_data", s.stale_priority, s.stale_s, True)):
        hit = [(x, y) for x, y, k in pairs if (every or k) and y - x >= delay]
        out.append((name, priority, np.array([x + delay for x, _ in hit], dtype=float),
                    np.array([y for _, y in hit], dtype=float)))
    return out


def analyze_rows(s: Settings, t: np.ndarray, sp: np.ndarray, pr: np.ndarray,
                 fl: np.ndarray | None) -> Findings:
    """Findings for a record of at least two rows whose times are finite and never go
    back (`vector.keep_rows`)."""
    return _Rows(s, Axis(t), sp, pr, fl).run()


class _Rows:
    def __init__(self, s: Settings, ax: Axis, sp: np.ndarray, pr: np.ndarray,
                 fl: np.ndarray | None):
        self.s, self.ax, self.t, self.pr = s, ax, ax.t, pr
        self.n = ax.n
        self.ws = scratch()
        # The flagged rows (invalid ones, low battery) are found with the invalid readings
        self.sc = Screen(s, ax, sp, fl)
        self.bad, self.low_batt = self.sc.bad, self.sc.low_batt
        self.sp = sp
        self.spans: list[Spans] = []
        self.spo2_rules: list[tuple[str, Priority, np.ndarray, np.ndarray, int,
                                    int | None, int]] = []

    def run(self) -> Findings:
        s, n = self.s, self.n
        sc = self.sc
        self.q, self.holes, self.hmask = sc.q, sc.holes, sc.hmask
        x = self.x = average(self.ws, sc.q, self.ax.window(s.avg_ms, True), sc.holes,
                             sc.hmask, s.avg_median)
        # -- SpO2 threshold rules: only rows below the recovery level can do anything ----
        mask = self.ws.get("b0", n, np.bool_)
        low, severe = s.spo2_low, s.spo2_severe
        np.less(x, low.recover, out=mask)
        nr_low = mask.nonzero()[0]
        xv = x[nr_low]
        self._spo2_rule(low.name, low.priority, nr_low, xv < low.threshold, low.delay_ms,
                        int(low.threshold), low.sat)
        if severe.recover <= low.recover:
            sel = xv < severe.recover
            nr, xs = nr_low[sel], xv[sel]
        else:
            np.less(x, severe.recover, out=mask)
            nr = mask.nonzero()[0]
            xs = x[nr]
        self._spo2_rule(severe.name, severe.priority, nr, xs < severe.threshold,
                        severe.delay_ms)
        # -- the baseline rules ---------------------------------------------------------------
        cand = self._baseline()
        nr = self._below_base(cand, s.drop_recover_q)
        self._spo2_rule("spo2_drop", s.drop_priority, nr,
                        self._below_base(nr, s.drop_points_q, True), s.drop_delay_ms)
        ev = self._below_base(cand, s.event_points_q)
        known = self._spo2_levels(ev)
        f = Findings(spans=self.spans)
        w = self.ax.weights(s.gap_ms)
        self._events(f, ev, w, known)
        self._pulse()
        self._time_rules()
        self._metrics(f, w)
        return f

    def _metrics(self, f: Findings, w: np.ndarray | int) -> None:
        """Duration, valid time, mean, CT90/CT85 and nadir of the accepted readings (the
        device values, not averages), each weighing min(interval, max_gap). (The last
        use of the readings `q` in a call: the products overwrite them.)"""
        n, q, holes = self.n, self.q, self.holes
        last = w if isinstance(w, int) else int(w[-1])
        f.duration = float(self.t[-1] - self.t[0]) + last / MS
        n_acc = n - holes.rows.size
        if not n_acc:
            return
        # Holes count nothing below 90, nor as the lowest: 100 %. (The sums below take
        # off what they add: 100 % x their weights. One scatter, not one for the sums.)
        full = 100 * Q
        q[holes.rows] = full
        if isinstance(w, int):
            f.valid_ms = n_acc * w
            f.sum_xw = (int(q.sum(dtype=np.int64)) - full * holes.rows.size) * w
        mask = self.ws.get("b0", n, np.bool_)
        top = max(CT_LIMITS)
        np.less(q, top, out=mask)
        low = mask.nonzero()[0]  # the few that count at all
        v = q[low]
        f.nadir_q = int(v.min() if v.size else q.min())  # (the lowest is among them)
        # (every one of them is below the highest limit)
        if isinstance(w, int):
            f.b90, f.b85 = (v.size * w if lim == top else int(np.count_nonzero(v < lim)) * w
                            for lim in CT_LIMITS)
            return
        wl = w[low]
        f.b90, f.b85 = (int((wl if lim == top else wl[v < lim]).sum(dtype=np.int64))
                        for lim in CT_LIMITS)
        hw = int(w[holes.rows].sum(dtype=np.int64))
        # The weights are the intervals (adding up to the span), but for the few longer
        # than max_gap, capped: what they lose, from their own lengths (no pass).
        ax, gap = self.ax, self.s.gap_ms
        f.valid_ms = ax.span + last - hw
        if ax.dmax > gap:
            cut, tq = ax.long_after(gap), ax.tq
            own = int(np.subtract(tq[cut + 1], tq[cut], dtype=np.int64).sum())
            f.valid_ms -= own - gap * cut.size
        # Readings lie within [min(spo2_min, 0) - 1, 100] % (holes 100 %), weights within
        # [0, min(dmax, max_gap)]: whether the products fit int32 (then in q itself, in
        # cache from the pass above, not in a buffer of their own).
        q_abs = max(100 * Q, abs(self.s.spo2_min_q) + 1)
        if w.dtype == np.int32 and q_abs * min(self.ax.dmax, self.s.gap_ms) < 2**31:
            f.sum_xw = int(np.multiply(q, w, out=q).sum(dtype=np.int64))
        else:
            f.sum_xw = int(np.dot(q, w.astype(np.int64, copy=False)))
        f.sum_xw -= full * hw

    # -- rules on sparse rows ------------------------------------------------------------------
    def _spo2_rule(self, name: str, priority: Priority, nr: np.ndarray, breach: np.ndarray,
                   delay: int, level: int | None = None, sat: int = 0) -> None:
        """A level rule over the accepted readings, given the rows where it is not
        recovered (sorted) and whether each breaches (and, for an integrated delay, the
        level the depth is counted below): queued, all solved in one go."""
        if breach.any():
            self.spo2_rules.append((name, priority, nr, breach, delay,
                                    level if sat > 0 else None, sat))

    def _below_base(self, rows: np.ndarray, points: int, every: bool = False
                    ) -> np.ndarray:
        """Those of some candidate rows (known baseline: count > 0) whose reading is at
        least `points` below its baseline mean, total >= (x + points) * count, in int64
        (or whether each is, with `every`). The candidates are those at least cmin below
        it (`baseline.window_sums`' exact test), so at cmin all of them are."""
        if points == self.cmin and not every:
            return rows
        total, c = self.base.at(rows)
        # (in int32 where (x + points) x count fits: accepted readings' averages lie
        # within the readings' range)
        big = max(100 * Q, abs(self.s.spo2_min_q) + 1) + abs(points)
        small = c.dtype == total.dtype == np.int32 and big * int(c.max(initial=0)) < 2**31
        y = np.add(self.x[rows], points, dtype=np.int32 if small else np.int64)
        y *= c
        ok = np.greater_equal(total, y)
        return ok if every else rows[ok]

    def _spo2_levels(self, ev: np.ndarray) -> np.ndarray | None:
        """Level.update for every queued SpO2 rule at once (`vector.level_runs`' two
        halves): the rules' rows side by side in one sorted array, `pos`, rule i's rows
        offset by i * (2n + 2) (so no run spans two rules, and a row a rule's delay
        after an onset maps into the rule's own rows). Past a few passes over the rows
        (`oximon.pipeline.levels`: their breaks; the runs of breaches), only small
        arrays: the segments' onsets, and from each onset the first row the delay after
        it (`reach`), its place in `pos` (`place`), the place where the integrated
        delay's sum from the onset gets there sooner (`sat_reach`), and the first breach
        from there (`first_at`), instead of the times of every breach. (`pos` and the
        breaches live in scratch buffers: fresh ones of that size cost more in page
        faults than the work.) Returns the segments of a rule whose rows are `ev` (the
        events' rows; at the default settings spo2_drop's), if one is: their first places
        in it, and its size (`_events`)."""
        rules = self.spo2_rules
        if not rules:
            return None
        n, ws, kk = self.n, self.ws, 2 * self.n + 2
        sizes = [r[2].size for r in rules]
        first = [sum(sizes[:i]) for i in range(len(rules))]
        m = sum(sizes)
        pos = ws.get("lv_pos", m, np.int64)
        for i, r in enumerate(rules):
            np.add(r[2], i * kk, out=pos[first[i]:first[i] + sizes[i]])
        pad = ws.get("lv_breach", m + 3, np.bool_)
        np.concatenate([r[3] for r in rules], out=pad[1:m + 1])
        b0, b1 = runs_of(pad)
        starts, gaps = breaks(pos, self.ax, self.holes, self.hmask, self.s.gap_ms)
        # The segments (split where a run starts or an interval is over max_gap) that
        # hold a breach: the delay runs from the first breach in each, the onset.
        cut = np.concatenate([_ZERO, starts, gaps, (m,)])
        if gaps.size:
            cut.sort()
        known = None
        for i, r in enumerate(rules):
            if r[2] is ev:  # (its own segments, from its start: a rule's first and
                # last places + 1 are cuts, as no run spans two rules)
                a, b = cut.searchsorted((first[i], first[i] + sizes[i])).tolist()
                known = cut[a:b + 1] - first[i]
        onset = first_at(b0, b1, cut[:-1])
        has = onset < cut[1:]
        onset, seg_end = onset[has], cut[1:][has]
        p_on = pos[onset]
        rule = p_on // kk
        offset = rule * kk
        row = p_on - offset
        end = reach(self.ax, row, rule, [r[4] for r in rules])
        at = place(pos, onset, end - row, end + offset)
        for i, r in enumerate(rules):  # the integrated delay: depth x ms since the
            if r[5] is None:  # reading before, summed (in the rule's rows)
                continue
            sel = slice(*rule.searchsorted((i, i + 1)))  # (onsets in rule order)
            if sel.stop > sel.start:
                at[sel] = sat_reach(self.ax, r[2], self.x, r[5], onset[sel] - first[i],
                                    at[sel] - first[i], r[6], self.s.gap_ms) + first[i]
        raised = first_at(b0, b1, at)  # (the first breach once the delay is over)
        raised = raised[raised < seg_end]
        if not raised.size:
            return known
        # Once active, a rule stays so to the end of its run (a gap does not clear it),
        # and the next run starts afresh: raised at the first candidate of each run (one
        # at most where no gap splits a run). The run's end: the place before the next.
        run = starts.searchsorted(raised, side="right")
        if gaps.size:
            keep = np.empty(run.size, dtype=np.bool_)
            keep[0] = True
            np.not_equal(run[1:], run[:-1], out=keep[1:])
            raised, run = raised[keep], run[keep]
        k = raised.size
        pr = pos[raised]
        offset = pr // kk * kk
        both = np.concatenate([pr - offset,
                               self._next_acc(pos[push(starts, m)[run] - 1] - offset + 1)])
        times = self.sc.known_t(np.minimum(both, n - 1))
        times[both >= n] = np.nan
        cut = raised.searchsorted([*first, m]).tolist()  # (raised in rule order)
        for i, (name, priority, *_) in enumerate(rules):
            a, b = cut[i], cut[i + 1]
            if b > a:
                self.spans.append((name, priority, times[a:b], times[k + a:k + b]))
        return known

    def _next_acc(self, r: np.ndarray) -> np.ndarray:
        """The first accepted row at or after each row r (n or more: none)."""
        n = self.n
        hit = (self.hmask[np.minimum(r, n - 1)] & (r < n)).nonzero()[0]
        if hit.size:  # (holes: the row after their run of holes)
            ends, r = self.holes.ends, r.copy()
            r[hit] = ends[ends.searchsorted(r[hit])] + 1
        return r

    def _add(self, name: str, priority: Priority, raised: np.ndarray,
             cleared: np.ndarray) -> None:
        if raised.size:
            n = self.n
            ct = np.where(cleared < n, self.t[np.minimum(cleared, n - 1)], np.nan)
            self.spans.append((name, priority, self.t[raised], ct))

    def _young(self, win: Window, cover: int) -> list[np.ndarray]:
        """Rows whose window holds no accepted reading at least `cover` old (the first
        accepted one in it is too recent), in a few arrays (unsorted, maybe repeated).
        Only rows whose window starts oddly can be: in a run of holes (the rows whose
        window starts in it follow the row before the run by more than span, so only a
        run whose next accepted reading is more than span - cover after that row, or
        one at the record's start, can have any; then the first accepted reading is
        the one after the run, and its young rows are a range), at the start of the
        record, or just after an interval longer than span - cover (elsewhere the start
        lies within that of span ago). (win: not strict, the baseline's.)"""
        ax, holes, n, tq = self.ax, self.holes, self.n, self.ax.tq
        parts = []
        if holes.starts.size:
            starts, after = holes.starts, holes.ends + 1  # (n: none after the run)
            at = np.minimum(after, n - 1)
            before = tq[np.maximum(starts - 1, 0)]
            i = ((tq[at] - before > win.span - cover) | (starts == 0)).nonzero()[0]
            if i.size:  # (win is not strict: row r's window starts in the run s .. e
                # if tq[s - 1] < tq[r] - span <= tq[e]; young before the first row at
                # least `cover` after the first accepted row after the run)
                k, span = i.size, win.span
                at, after = at[i], after[i]
                r = tq.searchsorted(np.concatenate((
                    before[i] + span, tq[holes.ends[i]] + span, tq[at] + (cover - 1))), "right")
                a, b, c = np.where(starts[i] > 0, r[:k], 0), r[k:2 * k], r[2 * k:]
                parts.append(ranges(a, np.where(after < n, np.minimum(b, c), b)))
        long_ = ax.long_after(win.span - cover) + 1
        if long_.size:  # (rows holding all the odd ones: no search per row for lo)
            rows = union(win.odd, win.rows_starting_in(long_, long_))
            fa = lo_over(win, rows, rows.searchsorted(win.odd))
        else:
            rows, fa = win.odd, win.odd_lo
        if rows.size:  # (fa: the first accepted row from the window's start, n: none)
            hit = self.hmask[fa].nonzero()[0]
            if hit.size:
                fa = fa.copy()
                fa[hit] = holes.ends[holes.ends.searchsorted(fa[hit])] + 1
            # (if it comes after the row, its time is at least the row's: young too)
            young = tq[rows] - tq[np.minimum(fa, n - 1)] < cover
            if cover <= 0:
                young |= fa > rows
            parts.append(rows[young])
        return parts

    def _baseline(self) -> np.ndarray:
        """Baseline.update at every row (`self.base`).
        Returns the rows where some baseline rule or an event can hold."""
        s, ax = self.s, self.ax
        self.cmin = min(s.drop_recover_q, s.event_points_q)
        w_lo = ax.window(s.base_lag_ms + s.base_win_ms, False)  # window rows lo .. hi - 1
        w_hi = ax.window(s.base_lag_ms, False)
        mask, base = window_sums(self.ws, self.x, self.holes, w_lo, w_hi, self.cmin)
        self.base = base
        # Known once the first accepted row in the window is `cover` old.
        holes = self.holes
        young = self._young(w_lo, s.base_lag_ms + s.base_win_ms // 2)
        for rows in young:
            base.forget(rows)  # (count 0: unknown, wherever it is looked up)
        mask[holes.rows] = False  # (scatters of the few holes and young rows, not a
        if s.base_win_ms >= 2:  # gather at every candidate)
            # A row whose window holds no accepted reading has none `cover` old (the lag
            # and at least 1 ms): the first one after its window's start is at or after
            # the lag's start. `_young` finds it, unless its window starts at row 0 (the
            # record's start: no interval before it, maybe no odd row), where it is a
            # row within the lag of the first: those rows are unknown too.
            for rows in young:
                mask[rows] = False
            tq = ax.tq
            mask[:int(tq.searchsorted(tq[0] + s.base_lag_ms, "right"))] = False
            return mask.nonzero()[0]
        cand = mask.nonzero()[0]
        return cand[base.known(cand)]

    def _events(self, f: Findings, ev: np.ndarray, w: np.ndarray | int,
                known: np.ndarray | None) -> None:
        """Runs of consecutive accepted readings at least `events.points` below their
        baseline (split by a gap longer than max_gap): from ev's `levels.breaks`, if not
        `known` (each event's first place in ev, then ev.size)."""
        if not ev.size:
            return
        if known is None:
            starts, gaps = breaks(ev, self.ax, self.holes, self.hmask, self.s.gap_ms)
            known = np.concatenate([_ZERO, starts, gaps, (ev.size,)])
            if gaps.size:
                known.sort()
        first, end = known[:-1], known[1:]  # (each event's rows: first .. end - 1)
        i0, i1 = ev[first], ev[end - 1]
        xe = self.q[ev]  # the readings, int32 (the event's nadir is one)
        if isinstance(w, int):
            sw = (end - first) * w
            sxw = np.add.reduceat(xe, first, dtype=np.int64) * w
        else:
            sw, sxw = _event_sums(xe, w[ev], first, min(self.ax.dmax, self.s.gap_ms),
                                  max(100 * Q, abs(self.s.spo2_min_q) + 1))
        s0, n0 = self.base.at(i0)
        f.set_events(self.t[i0], self.t[i1], s0, n0, np.minimum.reduceat(xe, first), sw, sxw)

    # -- pulse rate and time rules -----------------------------------------------------------------
    def _pulse(self) -> None:
        s, n, pr = self.s, self.n, self.pr
        mask = self.ws.get("b0", n, np.bool_)
        pholes: Holes | None = None
        for rule in (s.pr_low, s.pr_high):
            # (fmin/fmax skip NaN, which is never beyond a level: nothing to do when
            # no reading is, the usual case, found by one reduction)
            if rule.below:
                if np.fmin.reduce(pr) >= rule.recover:
                    continue
                np.less(pr, rule.recover, out=mask)
            else:
                if np.fmax.reduce(pr) <= rule.recover:
                    continue
                np.greater(pr, rule.recover, out=mask)
            nr = mask.nonzero()[0]
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
                pholes = Holes((~pok).nonzero()[0], n)
            raised, ended, _ = level_runs(nr - pholes.before(nr), self.ax.tq[nr],
                                          breach, rule.delay_ms, s.gap_ms)
            self._add(rule.name, rule.priority, nr[raised], pholes.next_kept(nr[ended] + 1))

    def _time_rules(self) -> None:
        s, t, n, spans = self.s, self.t, self.n, self.spans
        inv = self.sc.inv  # a wait for a valid reading: across a run of invalid rows
        a, b = inv.starts - 1, inv.ends + 1  # (from the row before to the row after)
        # (-1: the record's start, first in a; n: its end, last in b, still waiting)
        open_last = bool(b.size) and int(b[-1]) == n
        if a.size and a[0] < 0:
            a[0] = 0
        if open_last:
            b[-1] = n - 1
        spans.append(gap_spans("no_reading", s.no_reading_priority, t[a], t[b],
                               s.no_reading_s, open_last))
        # Float row times may differ from the ms axis by a rounding (< 2 ms): an interval
        # shorter than that in ms is surely shorter than the delay; only the others (a
        # few, but every row on an axis that short) are judged on the float times.
        far = self.ax.long_after(min(s.no_reading_ms, s.stale_ms) - 3)
        if far.size:
            spans += _far_spans(s, t, self.sc.valid, far)
        spans += battery_spans(t, self.low_batt, s.battery_priority)
