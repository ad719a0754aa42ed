"""The searches behind the SpO2 level rules (`oximon.pipeline.levels`) against plain
definitions: where a delay ends (`reach`, which guesses a row and searches only where the
guess is wrong), and where the integrated delay's sum gets there (`sat_reach`)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from oximon.pipeline.axis import Axis
from oximon.pipeline.levels import reach, sat_reach

_axes = st.sampled_from(["grid", "jitter", "wide", "dropouts", "rate change", "ties"])


def _times(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    base = np.arange(n) * 1.0
    if kind == "grid":
        return base
    if kind == "jitter":
        return base + rng.uniform(0.0, 0.2, n)
    if kind == "wide":
        return base + rng.uniform(0.0, 0.9, n)
    if kind == "dropouts":
        return base + rng.uniform(0.0, 0.2, n) + np.cumsum(rng.choice([0.0] * 30 + [31.0], n))
    if kind == "rate change":  # 1 Hz, then 4 Hz: the usual interval fits half the rows
        return np.where(np.arange(n) < n // 2, base, n // 2 + (base - n // 2) / 4)
    return np.sort(np.round(rng.uniform(0.0, n / 3, n), 1))  # several rows at one time


@settings(max_examples=150, deadline=None)
@given(kind=_axes, n=st.integers(2, 400), seed=st.integers(0, 2**16),
       delays=st.lists(st.sampled_from([0, 1, 400, 1000, 5000, 15000, 60000]),
                       min_size=1, max_size=3))
def test_reach_is_the_first_row_the_delay_after(kind, n, seed, delays):
    rng = np.random.default_rng(seed)
    ax = Axis(_times(kind, n, rng))
    rows = rng.integers(0, n, 40).astype(np.int64)
    which = rng.integers(0, len(delays), 40)
    got = reach(ax, rows, which, delays)
    # (times from the axis' own ms: the row at least the delay after each row's)
    want = np.searchsorted(ax.tq.astype(np.int64),
                           ax.tq[rows].astype(np.int64) + np.array(delays)[which])
    assert got.tolist() == want.tolist()


@settings(max_examples=150, deadline=None)
@given(kind=_axes, n=st.integers(3, 2000), seed=st.integers(0, 2**16),
       onsets=st.integers(1, 40), sat=st.sampled_from([1, 2_000_000, 25_000_000, 400_000_000]),
       gap=st.sampled_from([2000, 10000]))
def test_sat_reach_is_where_the_running_sum_gets_there(kind, n, seed, onsets, sat, gap):
    """Either way: summed from each onset (few onsets, a short delay), or over all the
    rows once."""
    rng = np.random.default_rng(seed)
    ax = Axis(_times(kind, n, rng))
    rows = np.flatnonzero(rng.random(n) < 0.8)
    if rows.size < 2:
        return
    x = rng.integers(80_000, 95_000, n).astype(np.int32)
    level = 90_000
    o = np.unique(rng.integers(0, rows.size, onsets))
    g = np.minimum(o + rng.integers(0, 25, o.size), rows.size)
    got = sat_reach(ax, rows, x, level, o, g, sat, gap)
    tq = ax.tq.astype(np.int64)
    for i, (oi, gi) in enumerate(zip(o.tolist(), g.tolist(), strict=True)):
        total, p = 0, oi + 1
        while p < gi:
            r, before = int(rows[p]), int(rows[p - 1])
            total += min(int(tq[r] - tq[before]), gap + 1) * max(level - int(x[r]), 0)
            if total >= sat:
                break
            p += 1
        assert got[i] == min(p, gi), (i, oi, gi)
