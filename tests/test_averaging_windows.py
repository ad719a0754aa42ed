"""`averaging.average` gives, at every row, the median (or mean) of the readings in its
window (rows lo .. r of `Window.lo()`, less the holes): checked against that definition
row by row on short records whose time axes have what the fast paths treat apart: the
first rows, runs of holes (near the start, near the end), jitter that makes a window one
row longer, dropouts after which windows are cut short (`Window.odd`), repeated times."""

from __future__ import annotations

import numpy as np
import pytest

from oximon.pipeline import averaging
from oximon.pipeline.averaging import HOLE, average
from oximon.pipeline.axis import Axis, Holes
from oximon.pipeline.scratch import scratch


def _by_definition(q: np.ndarray, lo: np.ndarray, hm: np.ndarray, median: bool) -> np.ndarray:
    x = np.full(q.size, HOLE, dtype=np.int64)
    for r in np.flatnonzero(~hm):
        w = np.sort(q[lo[r]:r + 1][~hm[lo[r]:r + 1]].astype(np.int64))
        c = w.size
        x[r] = (w[(c - 1) // 2] + w[c // 2]) // 2 if median else w.sum() // c
    return x


def _case(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, bool]:
    n = int(rng.integers(1, 300))
    step = float(rng.choice([0.25, 0.5, 1.0, 2.0]))
    t = np.arange(n) * step + rng.uniform(0, float(rng.choice([0, 0.2, 0.45])) * step, n)
    if n > 1:  # dropouts: shorter and longer than the window
        gaps = np.zeros(n)
        at = rng.integers(1, n, int(rng.integers(0, 6)))
        gaps[at] = rng.choice([0.6, 1.5, 2.5, 3.9, 4.0, 5.0, 31.0], at.size)
        t = t + np.cumsum(gaps)
    if rng.random() < 0.2 and n > 3:  # a repeated time
        i = int(rng.integers(1, n))
        t[i] = t[i - 1]
    t = np.sort(t) + float(rng.choice([0.0, 1.7e9]))
    q = rng.integers(70000, 100001, n).astype(np.int32)
    if rng.random() < 0.5:  # (ties)
        q = (rng.integers(85, 100, n) * 1000).astype(np.int32)
    hm = rng.random(n) < float(rng.choice([0, 0.02, 0.1, 0.4]))
    if rng.random() < 0.3 and n > 10:
        a = int(rng.integers(0, n - 5))
        hm[a:a + int(rng.integers(1, 8))] = True
    if rng.random() < 0.2:
        hm[-int(rng.integers(1, 4)):] = True
    span = int(rng.choice([4000, 4000, 2000, 9000, 1000, 3000, 500, 0]))
    return t, q, hm, span, bool(rng.random() < 0.75)


@pytest.mark.parametrize("block", [16384, 7])
@pytest.mark.parametrize("seed", range(4))
def test_every_row_is_its_windows_average(monkeypatch, seed, block):
    monkeypatch.setattr(averaging, "BLOCK", block)
    rng = np.random.default_rng(seed)
    odd_after_start = 0
    for _ in range(60):
        t, q, hm, span, median = _case(rng)
        win = Axis(t).window(span, True)
        odd_after_start += int(np.count_nonzero(win.odd >= win.first))
        x = average(scratch(), q.copy(), win, Holes(np.flatnonzero(hm), q.size), hm, median)
        np.testing.assert_array_equal(x, _by_definition(q, win.lo(), hm, median))
    assert odd_after_start  # (the cases hold windows cut short by a dropout)
