"""How far back in time a row m rows back lies, bounded for every row of a record at once.

Why: a `Window` on a jittered axis takes row r - k to be in or out of row r's window by
one pass of time differences, but whether rows r - k + 1 and r - k - 1 are always in and
always out is what makes the window an offset (no exceptions found row by row). The
shortest and longest interval bound that loosely (wide jitter: every row suspect); the
jitter about a steady rate bounds it tightly, for every window at once:

    row r lies at r x T + j[r] (T whole ms), so tq[r] - tq[r - m] = m x T + j[r] - j[r - m],

and two rows m <= c x B apart lie within c + 1 neighbouring blocks of B rows: j's range
over any c + 1 neighbouring blocks bounds j[r] - j[r - m]. A long interval (a dropout,
over `Axis.long_ms`) splits the record into segments, each as steady as the rest: the
ranges are taken over the blocks' pieces within one segment. They bound the rows whose
m rows back span no long interval from both sides, and every row from below (a long
interval only puts row r - m further back: it is longer than T).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from oximon.pipeline.scratch import scratch

if TYPE_CHECKING:
    from oximon.pipeline.axis import Axis

BLOCK = 256  # rows per block (T is the mean interval rounded: j drifts by up to B/2 ms)


class Reach:
    """`bounds(m)`: (least, greatest) of tq[r] - tq[r - m] over the rows whose m rows back
    span no long interval (the least holds for every row)."""

    def __init__(self, per_row: int, lo: np.ndarray, hi: np.ndarray,
                 segment: np.ndarray | None):
        self.per_row = per_row
        self._lo, self._hi = lo, hi  # j's least and greatest in each block's piece
        self._segment = segment  # each piece's segment (None: one segment)
        self._range: dict[int, int] = {}  # c -> j's range over c + 1 neighbouring pieces

    @classmethod
    def of(cls, ax: Axis) -> Reach | None:
        """From one int32 pass of j and a reduceat per side; None where the times are
        int64 (too long a record), j would not fit int32, or long intervals are many."""
        n, tq = ax.n, ax.tq
        if n <= 2 or tq.dtype != np.int32 or ax.span + n >= 2**30:
            return None
        long_ = ax.long_after(ax.long_ms)
        if long_.size > n >> 6:
            return None
        per_row = round((ax.span - int(ax.dt[long_].sum(dtype=np.int64)))
                        / (n - 1 - long_.size))
        j = scratch().get("reach_j", n, np.int32)
        np.multiply(scratch().arange(n, np.int32), per_row, out=j)
        np.subtract(tq, j, out=j)
        cut = scratch().arange(-(-n // BLOCK)) * BLOCK
        segment = None
        if long_.size:  # (pieces: blocks split after each long interval)
            cut = np.union1d(cut, long_ + 1)
            segment = (long_ + 1).searchsorted(cut, "right")
        return cls(per_row, np.minimum.reduceat(j, cut), np.maximum.reduceat(j, cut),
                   segment)

    def bounds(self, m: int) -> tuple[int, int]:
        c = -(-m // BLOCK)
        r = self._range.get(c)
        if r is None:
            lo, hi, seg = self._lo, self._hi, self._segment
            r = int((hi - lo).max())
            for s in range(1, min(c, lo.size - 1) + 1):  # pieces i .. i + s
                lo, hi = np.minimum(lo[:-1], self._lo[s:]), np.maximum(hi[:-1], self._hi[s:])
                if seg is None:
                    r = int((hi - lo).max())
                else:  # (only those within one segment)
                    same = seg[s:] == seg[:-s]
                    if same.any():
                        r = max(r, int((hi - lo)[same].max()))
            self._range[c] = r
        return m * self.per_row - r, m * self.per_row + r
