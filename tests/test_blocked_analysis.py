"""Batch analysis runs its baseline and averaging passes a block of rows at a time, and
its baseline windows as run sums by doubling (`oximon.pipeline.baseline.run_sums`): neither
may change a figure. Blocks are made tiny here so that every record crosses many block
boundaries, on every kind of time axis, and the fast path is held to the plain
reference implementation (windows by binary search) to the figure."""

from __future__ import annotations

import numpy as np
import pytest

from oximon.analysis import _analyze, _result, analyze
from oximon.pipeline import averaging, baseline, levels
from oximon.pipeline.axis import Axis, Holes
from oximon.pipeline.scratch import scratch
from oximon.pipeline.settings import Q, Settings
from oximon.profile import load_profile
from tests.synthetic import generate


def _axes(time: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"grid": time,
            "jitter": time + rng.uniform(0, 0.2, time.size),
            "wide jitter": time + rng.uniform(0, 0.9, time.size),
            "dropouts": time + rng.uniform(0, 0.3, time.size)
            + np.cumsum(rng.random(time.size) < 0.003) * 31.0}


@pytest.mark.parametrize("blocks", [(7, 5), (977, 1000), (16384, 16384)])
@pytest.mark.parametrize("method", ["median", "mean"])
def test_blocks_change_no_figure(monkeypatch, blocks, method):
    monkeypatch.setattr(averaging, "BLOCK", blocks[0])
    monkeypatch.setattr(baseline, "BLOCK", blocks[1])
    prof = load_profile(None).with_overrides({"averaging.method": method})
    s = Settings.from_profile(prof)
    rng = np.random.default_rng(11)
    rec = generate(11, 2500, dips=10, gaps=5, spikes=30, rapid=2)
    spo2 = rec.spo2.copy()
    spo2[rng.random(spo2.size) < 0.01] = np.nan
    for name, t in _axes(rec.time, rng).items():
        fast = analyze(t, spo2, rec.pr, prof, flags=rec.flags).to_dict()
        with np.errstate(all="ignore"):
            ref = _result(s, _analyze(s, t, spo2, rec.pr, rec.flags)).to_dict()
        assert fast == ref, name
        assert fast["events"] and fast["alarms"], name


def test_run_sums_are_the_prefix_sum_differences():
    """Every run length and start, in int32 where the sums wrap: as a prefix sum's
    differences (which wrap the same way); with rows to spare after the last run too
    (where m = 2**a - 2**b, the run of 2**a less the one of 2**b reads them)."""
    rng = np.random.default_rng(3)
    for i in range(800):
        n = int(rng.integers(1, 300))
        m = int(rng.integers(1, n + 1))
        if i % 2:  # (2**a - 2**b)
            m = max(1, min(n, (1 << int(rng.integers(2, 9))) - (1 << int(rng.integers(0, 3)))))
        start = int(rng.integers(0, n - m + 1))
        v = rng.integers(-2**31, 2**31 - 1, n).astype(np.int32)
        c = np.concatenate([[0], np.cumsum(v, dtype=np.int64)])
        size = int(rng.integers(1, n - start - m + 2))
        out = np.empty(size, dtype=np.int32)
        baseline.run_sums(scratch(), v, m, out, start)
        assert (out == (c[start + m:start + m + size] - c[start:start + size])
                .astype(np.int32)).all(), (n, m, start)


@pytest.mark.parametrize("cmin", [3000, 40000, 17_000_000])
@pytest.mark.parametrize("axis", ["grid", "jitter", "wide jitter", "dropouts"])
def test_baseline_window_sums_are_the_windows_sums(cmin, axis):
    """`baseline.window_sums` against the definition, row by row (windows by binary
    search on the times): the packed sums compared as they are (3 and 40 points), and
    unpacked where (x + cmin) * count would not fit beside them (a huge cmin)."""
    rng = np.random.default_rng(5)
    n = 3000
    t = _axes(np.arange(n, dtype=float), rng)[axis]
    ax = Axis(t)
    x = rng.integers(0, 100 * Q + 1, n).astype(np.int32)
    holes = Holes(np.sort(rng.choice(n, 300, replace=False)), n)
    w_lo, w_hi = ax.window(150_000, False), ax.window(30_000, False)
    mask, base = baseline.window_sums(scratch(), x, holes, w_lo, w_hi, cmin)
    lo = np.searchsorted(ax.tq, ax.tq - 150_000)
    hi = np.searchsorted(ax.tq, ax.tq - 30_000)
    ok = np.ones(n, dtype=bool)
    ok[holes.rows] = False
    pre_x = np.concatenate([[0], np.cumsum(np.where(ok, x, 0), dtype=np.int64)])
    pre_n = np.concatenate([[0], np.cumsum(ok)])
    total, cnt = pre_x[hi] - pre_x[lo], pre_n[hi] - pre_n[lo]
    got_total, got_cnt = base.at(np.arange(n))
    assert np.array_equal(got_total, total) and np.array_equal(got_cnt, cnt)
    assert np.array_equal(mask, total >= (x.astype(np.int64) + cmin) * cnt)
    assert np.array_equal(base.known(np.arange(n)), cnt > 0)
    unknown = np.arange(0, n, 7)
    base.forget(unknown)
    assert not base.known(unknown).any() and not base.at(unknown)[1].any()


@pytest.mark.parametrize("spans", [(150_000, 30_000), (30_000, 150_000), (45_000, 44_500)])
@pytest.mark.parametrize("axis", ["grid", "jitter", "wide jitter", "dropouts"])
def test_odd_ends_are_the_windows_starts(axis, spans):
    """`baseline.odd_ends`: the union of two windows' odd rows (past their first rows,
    with `pad`) and each window's first row there, against binary search on the times,
    whichever window's odd rows hold the other's, or neither."""
    rng = np.random.default_rng(7)
    n = 3000
    ax = Axis(_axes(np.arange(n, dtype=float), rng)[axis])
    w_lo, w_hi = ax.window(spans[0], False), ax.window(spans[1], False)
    for pad in (False, True):
        odd, lo, hi = baseline.odd_ends(w_lo, w_hi, n, pad)
        a, b = w_lo.odd, w_hi.odd
        if pad:
            a, b = a[w_lo.first:], b[w_hi.first:]
        assert np.array_equal(odd, np.union1d(a, b)), pad
        assert np.array_equal(lo, np.searchsorted(ax.tq, ax.tq[odd] - spans[0])), pad
        assert np.array_equal(hi, np.searchsorted(ax.tq, ax.tq[odd] - spans[1])), pad


@pytest.mark.parametrize("axis", ["grid", "jitter", "wide jitter", "dropouts"])
def test_integrated_delay_ends_are_the_running_sums_search(axis):
    """`levels.sat_reach` against the definition: from each onset o, the first place p
    where depth x ms since the row before (capped at max_gap + 1), summed over the
    rule's rows o + 1 .. p, reaches sat, or g if that comes first. Few onsets a few
    places from g take the rows side by side; many far from g, one running sum."""
    rng = np.random.default_rng(11)
    n = 3000
    ax = Axis(_axes(np.arange(n, dtype=float), rng)[axis])
    x = rng.integers(80 * Q, 95 * Q, n).astype(np.int32)
    rows = np.sort(rng.choice(n, 1500, replace=False))
    level, sat, gap = 90 * Q, 25 * Q * 1000, 10_000
    depth = np.maximum(level - x[rows].astype(np.int64), 0)
    w = np.cumsum(np.r_[0, np.minimum(np.diff(ax.tq[rows]), gap + 1) * depth[1:]])
    for count, far in ((40, 12), (1400, 60)):
        o = np.sort(rng.choice(rows.size, count, replace=False))
        g = np.minimum(o + rng.integers(0, far, count), rows.size)
        want = np.minimum(np.searchsorted(w, w[o] + sat), g)
        assert np.array_equal(levels.sat_reach(ax, rows, x, level, o, g, sat, gap), want)
