"""Which rows reach the SpO2 rules: validity, then the ArtifactFilter, for whole arrays.

The rows that are not accepted readings (invalid, or held back as artifacts) are the
"holes" the rest of batch analysis works around. The filter has state, but away from
jumps it accepts everything: so it is solved only at the jumps, all at once where the
next hold-length of rows is valid (nearly always), else by replaying the filter itself.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

from oximon.codes import Flags
from oximon.pipeline.axis import Axis, Holes, ranges, union
from oximon.pipeline.scratch import scratch
from oximon.pipeline.settings import DT_CAP_MS, INVALID_FLAGS, MS, Q, Settings
from oximon.pipeline.stages import ArtifactFilter
from oximon.pipeline.vector import CHUNK

_EMPTY = np.zeros(0, dtype=np.int64)
# Flags 1 .. this have only invalid bits (FINGER_OUT | SEARCHING: 1 .. 3): 2**j - 1 for the
# lowest bit j that is not an invalid one
_ONLY_INVALID = (~INVALID_FLAGS & (INVALID_FLAGS + 1)) - 1
_BLOCK = 16384  # rows of readings turned into integers at once (`_validity`)


class Screen:
    """Validity and artifact rejection: `q` (milli-percent, 0 where invalid), `valid`,
    `inv` (invalid rows), `holes` (invalid or rejected), `hmask`, the confirmed holds
    (`confirmed_first`, `confirmed_at`), and the flagged rows (`bad`: flagged invalid,
    `low_batt`) from the flags `fl` (None: none)."""

    def __init__(self, s: Settings, ax: Axis, sp: np.ndarray, fl: np.ndarray | None):
        self.s, self.ax, self.n = s, ax, ax.n
        self.ws = scratch()
        # The bound of a jump (`_artifacts`): |dq| * MS > bound, and the bound is linear in
        # the (capped) interval, so over the record's intervals it is least at the
        # shortest or the longest: a jump past that is a candidate. On a grid that is
        # every interval's bound; on other axes `_holds` judges each candidate's own row
        # over its own interval.
        self.lim = min(s.art_step_q * MS + s.art_rate_q * min(d, DT_CAP_MS)
                       for d in (ax.dmin, ax.dmax)) // MS
        # The bound in int32 (ms as `ax.tq`, readings in milli-percent): an interval longer
        # than `full` has a bound past any difference of readings (0 .. 100 %), as has
        # `full` itself.
        full = DT_CAP_MS
        if s.art_rate_q > 0:
            full = min(full, -(-(100 * Q * MS - s.art_step_q * MS) // s.art_rate_q))
        self.full = max(full, 0)
        self._artifacts(*self._validity(sp, fl))

    def _validity(self, sp: np.ndarray, fl: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """`valid` (within [spo2_min, 100] and not flagged invalid), the invalid rows
        `inv`, the flagged rows (`bad`, `low_batt`), and `q`: the readings in
        milli-percent (rint, like the live pipeline), 0 where invalid. Returns the jumps
        between neighbouring valid readings (rows, and the rows before them).

        The invalid, the flagged and the jumping rows are found by one search of one mask
        (each search of a day's mask costs more than the passes that make it): the
        flagged rows are invalid as far as it is concerned (they nearly always are), and
        the few that are not are put right after."""
        s, n, ws = self.s, self.n, self.ws
        lo = s.spo2_min_q / Q
        valid = self.valid = ws.get("valid", n, np.bool_)
        hm = self.hmask = ws.get("hmask", n, np.bool_)
        m = ws.get("b0", n, np.bool_)
        np.greater_equal(sp, lo, out=valid)
        np.less_equal(sp, 100.0, out=hm)
        np.logical_and(valid, hm, out=valid)
        if fl is not None:
            np.not_equal(fl, 0, out=m)
            np.greater_equal(m, valid, out=hm)  # (bools: flagged or out of range)
        else:
            np.logical_not(valid, out=hm)
        np.logical_not(hm, out=valid)
        q = self.q = ws.get("q", n, np.int32)
        # A block at a time: the float intermediate stays in the core's cache (a full
        # buffer of it would go out to memory and back); so does the block of readings
        # for the jumps |q[r] - q[r - 1]| > lim, judged on every row (an invalid row's
        # reading means nothing, nor does its jump: it is among the invalid rows).
        qf = ws.get("fq", min(n, _BLOCK), np.float64)
        db = ws.get("dq", min(n, _BLOCK), np.int32)
        lim = self.lim
        for a in range(0, n, _BLOCK):
            b = min(n, a + _BLOCK)
            fb = qf[:b - a]
            np.multiply(sp[a:b], Q, out=fb)
            np.rint(fb, out=fb)
            np.copyto(q[a:b], fb, casting="unsafe")
            a1 = max(a, 1)
            d = db[:b - a1]
            np.subtract(q[a1:b], q[a1 - 1:b - 1], out=d)
            np.abs(d, out=d)
            np.greater(d, lim, out=m[a1:b])
        m[0] = hm[0]
        np.logical_or(m[1:], hm[1:], out=m[1:])
        rows = m.nonzero()[0]
        isinv = hm[rows]
        inv = rows[isinv]
        cand = rows[~isinv]
        self.bad = self.low_batt = _EMPTY
        if fl is not None and inv.size:
            f = fl[inv]
            lo_f, hi_f = int(f.min()), int(f.max())
            if lo_f >= 0 and hi_f <= _ONLY_INVALID:  # (nearly always: flagged invalid)
                self.bad = inv if lo_f else inv[f != 0]
            elif lo_f or hi_f:
                flagged = f != 0
                nz, f = inv[flagged], f[flagged]
                isbad = (f & INVALID_FLAGS) != 0
                self.bad = nz[isbad]
                self.low_batt = nz[(f & int(Flags.LOW_BATTERY)) != 0]
                if self.bad.size < nz.size:  # flagged, but only so (low battery...)
                    inv, cand = self._unflag(sp, nz[~isbad], inv, cand)
        cand = cand[valid[cand - 1]]
        self.inv = Holes(inv, n)
        q[inv] = 0
        return cand, cand - 1

    def _unflag(self, sp: np.ndarray, fx: np.ndarray, inv: np.ndarray, cand: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
        """The rows `fx` are flagged but not as invalid: those whose readings are in range
        are valid after all. Returns the invalid rows and the candidate jumps (rows
        after a valid one or not yet known) without them."""
        lo, n, q = self.s.spo2_min_q / Q, self.n, self.q
        fx = fx[(sp[fx] >= lo) & (sp[fx] <= 100.0)]
        if not fx.size:
            return inv, cand
        self.valid[fx] = True
        self.hmask[fx] = False
        inv = inv[self.hmask[inv]]
        # Their own jumps, and the next rows' (left out as after an invalid row)
        c = union(cand, fx[fx > 0], fx[fx < n - 1] + 1)
        c = c[self.valid[c]]
        big = np.abs(q[c] - q[c - 1].astype(np.int64)) > self.lim
        return inv, c[big]

    def _artifacts(self, cand: np.ndarray, prev: np.ndarray) -> None:
        """Candidates are the jumps beyond the bound between neighbouring valid readings
        (`cand`, `prev`) or across a run of invalid rows (judged over the gap); the
        filter is replayed from each."""
        n, q, ax, inv = self.n, self.q, self.ax, self.inv
        st, en = inv.starts, inv.ends
        # (runs that do not start the record nor end it: the rows either side)
        lo = int(en.size and st[0] == 0)
        hi = en.size - int(en.size and en[-1] == n - 1)
        if lo < hi:
            after, before = en[lo:hi] + 1, st[lo:hi] - 1
            # |dq| * MS > the bound over the gap (`_bound`), int32 like `_holds`
            dq = q[after] - q[before]
            np.abs(dq, out=dq)
            np.multiply(dq, MS, out=dq)
            dt = ax.tq[after] - ax.tq[before]
            np.minimum(dt, self.full, out=dt)
            np.multiply(dt, self.s.art_rate_q, out=dt)
            np.add(dt, self.s.art_step_q * MS, out=dt)
            big = np.greater(dq, dt)
            cand = np.concatenate([cand, after[big]])
            prev = np.concatenate([prev, before[big]])
            order = np.argsort(cand, kind="stable")
            cand, prev = cand[order], prev[order]
        self.confirmed_first = self.confirmed_at = _EMPTY
        rows = inv.rows
        if cand.size:
            rej = self._replay(cand, prev)
            if rej.size:  # (valid, so none of the invalid rows: both sorted, a stable
                # sort of the two merges them)
                rows = np.sort(np.concatenate((rows, rej)), kind="stable")
                self.hmask[rej] = True
        self.holes = Holes(rows, n)

    def _replay(self, ca: np.ndarray, pa: np.ndarray) -> np.ndarray:
        """Run the ArtifactFilter from each candidate jump (sorted rows `ca`, previous
        valid rows `pa`) until it accepts a reading again; returns the rows it rejected."""
        s, ax = self.s, self.ax
        # Lines enough for the hold to run out at the shortest interval, or at half the
        # usual one if some are shorter still (then some candidates are replayed).
        h = max(0, -(-s.art_hold_ms // max(ax.dmin, ax.dmed // 2, 1)))
        block = max(1, CHUNK // (h + 1))
        if ca.size <= block:
            fast, k, real = self._holds(ca, pa, h)
        else:
            parts = [self._holds(ca[a:a + block], pa[a:a + block], h)
                     for a in range(0, ca.size, block)]
            fast, k, real = (np.concatenate(p) for p in zip(*parts, strict=True))
        # A candidate inside the span another one held back is not a fresh jump: follow
        # the chain of candidates that are.
        nxt = ca.searchsorted(k, side="right")
        slow: dict[int, tuple[int, bool]] = {}
        if fast.all():
            li = _chained(nxt)
        else:
            li, slow = self._walk(ca, pa, fast, nxt)
        c_l, k_l, real_l = ca[li], k[li], real[li]
        if slow:
            at = li.searchsorted(list(slow))
            k_l[at] = [v[0] for v in slow.values()]
            real_l[at] = [v[1] for v in slow.values()]
        if slow or not h or not ax.step:  # (else each held its row at least: k > c)
            held = k_l > c_l
            real_l &= held
            rej = held & ~real_l  # the jump returned, or the record ended while held
        else:
            rej = ~real_l
        if real_l.any():
            self.confirmed_first, self.confirmed_at = c_l[real_l], k_l[real_l]
        c_r, k_r = c_l[rej], k_l[rej]
        if not c_r.size:
            return _EMPTY
        # The rows c .. k - 1 of each: a few, nearly always (then one column per row of
        # the longest: fewer numpy calls than `ranges`)
        lengths = k_r - c_r
        longest = int(lengths.max())
        if longest > 64:
            rej = ranges(c_r, k_r)
        else:
            cols = scratch().arange(longest)
            rej = (c_r[:, None] + cols)[cols < lengths[:, None]]
        # (the filter holds back valid readings only; a span solved in bulk has no other)
        return rej[self.valid[rej]] if slow else rej

    def _walk(self, ca: np.ndarray, pa: np.ndarray, fast: np.ndarray, nxt: np.ndarray
              ) -> tuple[np.ndarray, dict[int, tuple[int, bool]]]:
        """The chain of fresh jumps (`_replay`) when some must be replayed: their indices,
        and for those replayed, where the filter accepted again and whether for real."""
        s = self.s
        nxt_l, fast_l, cand = nxt.tolist(), fast.tolist(), ca.tolist()
        live: list[int] = []
        slow: dict[int, tuple[int, bool]] = {}
        f = ArtifactFilter(s.art_step_q, s.art_rate_q, s.art_hold_ms)
        i, m = 0, len(cand)
        while i < m:
            live.append(i)
            if fast_l[i]:
                i = nxt_l[i]
            else:
                kk, done, is_real = self._replay_one(f, cand[i], int(pa[i]))
                slow[i] = (kk, done and is_real)
                i = bisect_right(cand, kk)
        return np.array(live, dtype=np.int64), slow

    def _holds(self, ca: np.ndarray, pa: np.ndarray,
               h: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For candidates whose next rows are valid up to where the filter stops holding
        ("fast"): the row where it accepts again (k), and whether because the hold ran out
        (real). On a grid the candidate's own row is never within the bound (that made it
        one), so only the h rows after it are judged, against its previous reading's
        level; on other axes its own row is judged too, over its own interval (then k is
        the candidate itself where that is within)."""
        n, q, m, ax = self.n, self.q, ca.size, self.ax
        if not h:  # (no hold: the candidate's own row ends it, as real)
            return np.ones(m, dtype=bool), ca, np.ones(m, dtype=bool)
        # One column per candidate, one line per row (passes and reductions along
        # contiguous lines: across a short axis numpy is several times slower).
        first = 1 if ax.step else 0
        rows = ca + scratch().arange(h + 1)[first:, None]
        fast = None
        if int(ca[-1]) + h >= n:  # (the record ends within some candidate's lines)
            fast = rows[-1] < n
            rows = np.minimum(rows, n - 1)
        ok = self.valid[rows].all(axis=0)
        fast = ok if fast is None else fast & ok
        dq = q[rows]
        np.subtract(dq, q[pa], out=dq)
        np.abs(dq, out=dq)
        if ax.step:  # one bound, and the hold runs out on the last line (`_replay`)
            within = np.less_equal(dq, self.lim)
            stop = within.copy()
            stop[-1] = True
        else:
            # The times int32 where they are (`Axis.rel`), like the readings: no casts;
            # the bound in int32 too (`full`).
            s, tq = self.s, ax.rel
            tr = tq[rows]
            dt = np.empty(rows.shape, dtype=tq.dtype)
            np.subtract(tr[0], tq[pa], out=dt[0])
            np.subtract(tr[1:], tr[:-1], out=dt[1:])
            np.minimum(dt, self.full, out=dt)
            np.multiply(dt, s.art_rate_q, out=dt)  # the bound (`_bound`), in place
            np.add(dt, s.art_step_q * MS, out=dt)
            np.multiply(dq, MS, out=dq)  # (fits: readings are within 0 .. 100 %)
            within = np.less_equal(dq, dt)
            np.subtract(tr, tr[0].copy(), out=tr)  # (a copy: numpy would copy all of tr)
            stop = np.greater_equal(tr, s.art_hold_ms)
            np.logical_or(stop, within, out=stop)
        lead = np.argmax(stop, axis=0)  # the first line that stops the hold (or 0: none)
        at = lead * m + scratch().arange(m)
        fast &= stop.ravel()[at]  # (none: replayed)
        return fast, ca + first + lead, ~within.ravel()[at]

    def _replay_one(self, f: ArtifactFilter, c: int, p: int) -> tuple[int, bool, bool]:
        """The streaming filter from candidate c (previous accepted reading p): the row
        where it accepts again, whether it did, and whether the held ones were real."""
        n, q, valid, tq = self.n, self.q, self.valid, self.ax.tq
        f.ref_q, f.last_tq, f.suspect_tq, f.held = int(q[p]), int(tq[p]), None, []
        k = c
        while k < n:
            qs, vs, ts = q[k:k + 16].tolist(), valid[k:k + 16].tolist(), tq[k:k + 16].tolist()
            for qk, vk, tk in zip(qs, vs, ts, strict=True):
                if vk and f.accept(tk, qk):
                    return k, True, bool(f.released)
                k += 1
        return k, False, False

    def known_t(self, rows: np.ndarray) -> np.ndarray:
        """When the live pipeline knew each row's verdicts: its own time, or for a reading
        held back and then confirmed, the confirming reading's time."""
        t = self.ax.t[rows]
        cf = self.confirmed_first
        if cf.size and rows.size:  # (the hold that starts last at or before each row,
            # if the row is before its confirmation; -1: none starts by then)
            at = np.concatenate([[-1], self.confirmed_at])[cf.searchsorted(rows, "right")]
            held = (rows < at).nonzero()[0]
            if held.size:
                t[held] = self.ax.t[at[held]]
        return t


def _chained(nxt: np.ndarray) -> np.ndarray:
    """The candidates on the chain 0, nxt[0], nxt[nxt[0]], ... (nxt[i] > i: the first
    candidate after i's held span). (A plain walk: a vectorised one, from the running
    maximum of nxt, took half as long again in numpy calls on a day's ~500 candidates.)"""
    nl = nxt.tolist()
    live: list[int] = []
    i, m = 0, len(nl)
    while i < m:
        live.append(i)
        i = nl[i]
    return np.array(live, dtype=np.int64)
