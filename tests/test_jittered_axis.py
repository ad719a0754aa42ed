"""Recordings with receive-time jitter take the same fast path as a regular grid
(`oximon.pipeline.axis.Window`): they must still raise exactly what the live pipeline
raises, and where the jitter cannot change a decision, what the gridded record raises."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oximon.analysis import analyze
from oximon.pipeline.axis import Axis
from oximon.profile import load_profile
from oximon.types import Flags
from tests.streamref import batch_alarms, stream_alarms
from tests.synthetic import generate
from tests.test_pipeline_equivalence import _small

_values = st.one_of(st.just(float("nan")), st.integers(60, 100).map(float),
                    st.sampled_from([0.0, 100.0, 85.0, 89.999, 90.0]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(_values, _values,
                               st.sampled_from([0, 0, 0, 0, int(Flags.FINGER_OUT)]),
                               st.floats(0.0, 1.0),
                               st.sampled_from([0.0] * 12 + [4.0, 30.0])),
                     min_size=2, max_size=150),
       step=st.sampled_from([0.25, 0.5, 1.0, 1.0]), jitter=st.sampled_from([0.1, 0.45, 0.9]),
       mean=st.booleans())
def test_jittered_streams_match_the_live_pipeline(rows, step, jitter, mean):
    """Receive times = a grid + up to `jitter` of a step late, and now and then a
    dropout (no rows for seconds): windows one row longer or shorter, exceptions."""
    prof = _small.with_overrides({"averaging.method": "mean"}) if mean else _small
    late = np.array([r[3] for r in rows]) * jitter * step
    dropout = np.cumsum([r[4] for r in rows])
    t = 1e5 + step * np.arange(len(rows)) + late + dropout
    spo2 = np.array([r[0] for r in rows])
    pr = np.array([r[1] + 40 for r in rows])
    fl = np.array([r[2] for r in rows], dtype=np.int64)
    # (judge_cadence=False: the rules themselves even on a stream sparse for them)
    assert batch_alarms(analyze(t, spo2, pr, prof, flags=fl, judge_cadence=False)) == \
        stream_alarms(t, spo2, pr, fl, prof)


@pytest.mark.parametrize(("seed", "rate", "method"),
                         [(3, 1.0, "median"), (4, 1.0, "mean"), (5, 2.0, "median")])
def test_jittered_day_matches_the_live_pipeline(seed, rate, method):
    prof = load_profile(None).with_overrides({"averaging.method": method})
    rec = generate(seed, 3000, rate_hz=rate, dips=10, gaps=6, spikes=20)
    t = rec.time + np.random.default_rng(seed).uniform(0, 0.3 / rate, rec.time.size)
    batch = batch_alarms(analyze(t, rec.spo2, rec.pr, prof, flags=rec.flags))
    assert batch == stream_alarms(t, rec.spo2, rec.pr, rec.flags, prof)
    assert any(a[0] == "spo2_low" for a in batch)


def test_the_jittered_axis_is_windowed_by_offsets_not_searches():
    """The point of the fast path: nearly every row's window is r - o or r - o - 1."""
    rec = generate(1, 20000)
    ax = Axis(rec.time + np.random.default_rng(2).uniform(0, 0.2, rec.time.size))
    assert ax.step == 0
    for span, strict in ((4000, True), (30000, False), (150000, False), (10000, False)):
        w = ax.window(span, strict)
        assert w.d is not None and w.odd.size < 200  # the start, and a few exceptions
        lo = w.lo()
        exact = np.searchsorted(ax.tq, ax.tq - span, side="right" if strict else "left")
        assert np.array_equal(lo, exact)


@pytest.mark.parametrize("seed", range(6))
def test_a_usual_interval_a_few_ms_off_still_gives_offsets(seed):
    """The usual interval is a sample's median: at 2 Hz with 0-225 ms of jitter it may be
    503 ms, so 150 s is "298" of them where row r - 300 is the edge. The window must
    still find that edge (its exceptions only the first rows), not leave every row
    whose row r - 300 is out to the binary search."""
    rng = np.random.default_rng(seed)
    ax = Axis(np.arange(86400) * 0.5 + rng.uniform(0, 0.225, 86400))
    for span, strict in ((150000, False), (30000, False), (4000, True)):
        w = ax.window(span, strict)
        assert w.d is not None and w.odd.size == w.first


@pytest.mark.parametrize("seed", range(12))
def test_every_window_is_the_binary_search(seed):
    """However the offset o is picked (row r - k nearly always in, often out, always
    either; bounds or row-by-row checks; rows after a long interval left out of the
    bounds, few or many of them), lo, lo_of and runs_starting_in are the binary search's,
    on axes with jitter, dropouts, clock drift and equal times."""
    rng = np.random.default_rng(seed)
    for n in (2, 7, 300, 3000):
        step = [1.0, 0.5, 0.25, 2.0, 1.0, 0.037, 1.0, 0.5, 0.25, 0.5, 1.0, 2.0][seed]
        t = np.arange(n) * step + rng.uniform(0, [0.05, 0.2, 0.45, 0.9, 1.5][n % 5] * step, n)
        if seed % 4 == 1:  # dropouts, rare to one every ~7 rows
            often = [80, 50, 20][seed // 4]
            t += np.cumsum(rng.choice([0.0] * often + [3.0, 12.0, 40.0, 400.0], n))
        elif seed % 4 == 2:
            t *= 1.0 + rng.uniform(-0.01, 0.01)  # a clock that drifts
        elif seed % 4 == 3:
            t = np.round(t, 1)  # equal times
        ax = Axis(np.maximum.accumulate(t))
        for span in (1, 999, 1000, 1001, 4000, 4500, 30000, int(rng.integers(1, 200000))):
            for strict in (True, False):
                w = ax.window(span, strict)
                exact = np.searchsorted(ax.tq, ax.tq - span, "right" if strict else "left")
                assert np.array_equal(w.lo(), exact)
                rows = np.unique(rng.integers(0, n, 12))
                assert np.array_equal(w.lo_of(rows), exact[rows])
                k = int(rng.integers(1, n + 1))
                assert np.array_equal(w.lo_of(np.arange(k)), exact[:k])
                starts = np.unique(rng.integers(0, n, 1 + n // 20))
                ends = np.minimum(starts, n - 1)
                side: Literal["left", "right"] = "left" if strict else "right"
                a = np.where(starts > 0, np.searchsorted(
                    ax.tq, ax.tq[np.maximum(starts - 1, 0)] + span, side), 0)
                b = np.maximum(np.searchsorted(ax.tq, ax.tq[ends] + span, side), a)
                got = w.runs_starting_in(starts, ends)
                assert np.array_equal(got[0], a) and np.array_equal(got[1], b)


@pytest.mark.parametrize("seed", range(8))
def test_reach_bounds_hold_for_every_row(seed):
    """`Axis.reach().bounds(m)` bounds tq[r] - tq[r - m] at every row whose m rows back
    span no long interval, and from below at every row (what lets a window skip its
    row-by-row checks), whatever the mean interval's fraction of a ms, clock drift,
    jitter or dropouts; and stays about as wide as the jitter."""
    rng = np.random.default_rng(seed)
    n = [3000, 86400, 500, 20000, 4, 7000, 5000, 3000][seed]
    step = [1.0, 1.0, 0.5, 1.0005, 0.25, 0.9997, 1.0, 0.25][seed]
    spread = [0.9, 0.2, 0.45, 0.9, 0.1, 0.6, 0.2, 0.45][seed] * step
    t = np.arange(n) * step + rng.uniform(0, spread, n)
    if seed >= 6:  # dropouts of 3-400 s
        t += np.cumsum(rng.choice([0.0] * 200 + [3.0, 31.0, 400.0], n))
    ax = Axis(np.maximum.accumulate(t))
    reach = ax.reach()
    assert reach is not None
    long_ = ax.long_after(ax.long_ms)
    for m in (1, 2, 3, 5, 29, 31, 149, 151, 256, 257, 600):
        if m >= n:
            continue
        lo, hi = reach.bounds(m)
        back = ax.tq[m:] - ax.tq[:-m]
        spans = np.zeros(n + 1, dtype=np.int64)  # rows whose m rows back span a long one
        np.add.at(spans, long_ + 1, 1)
        np.add.at(spans, np.minimum(long_ + m + 1, n), -1)
        clear = np.cumsum(spans)[m:n] == 0
        assert lo <= back.min()
        assert not clear.any() or back[clear].max() <= hi
        # (useful: about the jitter, and T's fraction of a ms over c + 1 blocks)
        assert hi - lo <= 2 * (spread * 1000 + 2 + -(-m // 256) * 256)


@pytest.mark.parametrize("dropouts", [1, 10, 120, 125, 134, 143, 250, 600])
def test_windows_on_a_grid_with_dropouts_are_the_binary_search(dropouts):
    """A grid with dropouts: whether the rows after each long interval are left out of
    the bounds (`axis._extremes`) depends on how many there are for k rows back, and the
    offset may move back and forth between a k where they are and one where they are
    not: every row's window must still be the binary search's."""
    rng = np.random.default_rng(dropouts)
    n = 4000
    jump = np.zeros(n)
    jump[rng.choice(np.arange(1, n), dropouts, replace=False)] = rng.choice([3.0, 12.0],
                                                                           dropouts)
    ax = Axis(np.arange(n) * 0.5 + np.cumsum(jump))
    for span in (2000, 3000, 4000, 4500, 30000, 150000):
        for strict in (True, False):
            exact = np.searchsorted(ax.tq, ax.tq - span, "right" if strict else "left")
            assert np.array_equal(ax.window(span, strict).lo(), exact)


@pytest.mark.parametrize("axis", ["grid", "jitter", "equal times"])
def test_an_averaging_window_of_zero_averages_each_reading_alone(axis):
    """averaging.window_s = 0 is a valid profile: the live averager keeps the current
    reading (its window (t, t] holds no other), so batch analysis must too (it crashed:
    a strict window of span 0 holds no row at all)."""
    rec = generate(3, 3000, dips=10, gaps=6, spikes=20)
    late = np.random.default_rng(1).uniform(0, 0.3, rec.time.size)
    t = {"grid": rec.time, "jitter": rec.time + late,
         "equal times": np.round(rec.time + late, 0)}[axis]
    assert np.array_equal(Axis(t).window(0, True).lo(), np.arange(t.size))
    for method in ("median", "mean"):
        prof = load_profile(None).with_overrides({"averaging.window_s": 0.0,
                                                  "averaging.method": method})
        batch = batch_alarms(analyze(t, rec.spo2, rec.pr, prof, flags=rec.flags))
        assert batch == stream_alarms(t, rec.spo2, rec.pr, rec.flags, prof)
        assert any(a[0] == "spo2_low" for a in batch)


@pytest.mark.parametrize("seed", range(6))
def test_rows_whose_window_starts_in_a_run(seed):
    """`Window.runs_starting_in` reads the rows off the offsets (on jitter, the d mask;
    searching only near odd rows): the same rows as the definition, a binary search on
    the times, on a grid, with jitter and with dropouts."""
    rng = np.random.default_rng(seed)
    n = 3000
    step = [1000, 500, 1000, 250, 2000, 1000][seed]
    t = (np.arange(n) * step + rng.uniform(0, [0, 200, 450, 100, 0, 999][seed], n)) / 1000
    if seed % 2:
        t += np.cumsum(rng.choice([0.0] * 80 + [3.0, 40.0, 400.0], n))  # dropouts
    ax = Axis(np.sort(t))
    assert bool(ax.step) == (seed in (0, 4))
    starts = np.sort(rng.choice(np.arange(n - 5), 120, replace=False))
    starts = starts[np.r_[True, np.diff(starts) > 3]]
    ends = np.minimum(starts + rng.integers(0, 3, starts.size), n - 1)
    starts[0], ends[-1] = 0, n - 1
    for span, strict in ((4000, True), (30000, False), (150000, False), (10000, False)):
        w = ax.window(span, strict)
        side: Literal["left", "right"] = "left" if strict else "right"
        a = np.where(starts > 0, np.searchsorted(ax.tq, ax.tq[np.maximum(starts - 1, 0)]
                                                 + span, side), 0)
        b = np.maximum(np.searchsorted(ax.tq, ax.tq[ends] + span, side), a)
        got = w.runs_starting_in(starts, ends)
        assert np.array_equal(got[0], a) and np.array_equal(got[1], b)


def _row(x: float | None) -> int | None:
    return None if x is None else math.floor(x)


def test_jitter_that_cannot_change_a_decision_changes_nothing():
    """Every span of this profile sits half a step off the 1-s grid, so receive times up
    to 0.2 s late move no reading into or out of any window, delay or gap: the jittered
    record raises the same alarms and finds the same events, at the same rows, with the
    same nadirs and baselines, as the gridded one. The integrated delay is off here: it
    weighs the real intervals, so jitter may move it by a reading; with it on, the jittered
    record is held to the live pipeline instead."""
    half = {"spo2_low.sat_seconds": 0.0, "averaging.window_s": 4.5,
            "spo2_low.delay_s": 14.5, "spo2_severe.delay_s": 4.5,
            "spo2_drop.delay_s": 10.5, "spo2_drop.baseline_window_s": 120.0,
            "spo2_drop.baseline_lag_s": 30.5, "pr_low.delay_s": 15.5, "pr_high.delay_s": 15.5,
            "validity.max_gap_s": 10.5, "no_reading.delay_s": 10.5,
            "stale_data.delay_s": 5.5, "artifact.hold_s": 3.5, "events.min_duration_s": 9.5}
    prof = load_profile(None).with_overrides(half)
    rec = generate(9, 7200, dips=20, gaps=8, spikes=40)
    late = np.random.default_rng(9).uniform(0, 0.2, rec.time.size)
    grid = analyze(rec.time, rec.spo2, rec.pr, prof, flags=rec.flags)
    jit = analyze(rec.time + late, rec.spo2, rec.pr, prof, flags=rec.flags)

    def alarms(r):
        return [(a.condition, _row(a.raised_s), _row(a.cleared_s)) for a in r.alarms]

    def events(r):
        return [(_row(e.start_s), _row(e.end_s), e.nadir, e.baseline) for e in r.events]

    assert alarms(jit) == alarms(grid) and len(grid.alarms) > 10
    assert events(jit) == events(grid) and grid.events
    assert jit.metrics["nadir"] == grid.metrics["nadir"]
    assert jit.metrics["odi3"] == pytest.approx(grid.metrics["odi3"], rel=1e-3)
    sat = prof.with_overrides({"spo2_low.sat_seconds": 25.0})
    t = rec.time + late
    assert batch_alarms(analyze(t, rec.spo2, rec.pr, sat, flags=rec.flags)) == \
        stream_alarms(t, rec.spo2, rec.pr, rec.flags, sat)


@pytest.mark.parametrize("method", ["median", "mean"])
def test_jittered_fast_path_reports_what_the_reference_reports(method):
    """Metrics, events and alarms to the figure: the fast path on a jittered record and the
    plain reference implementation (windows by binary search)."""
    from oximon.analysis import _analyze, _result
    from oximon.pipeline.settings import Settings

    prof = load_profile(None).with_overrides({"averaging.method": method})
    rec = generate(8, 7200, gaps=6, spikes=30)
    t = rec.time + np.random.default_rng(8).uniform(0, 0.45, rec.time.size)
    s = Settings.from_profile(prof)
    fast = analyze(t, rec.spo2, rec.pr, prof, flags=rec.flags).to_dict()
    with np.errstate(all="ignore"):
        reference = _result(s, _analyze(s, t, rec.spo2, rec.pr, rec.flags)).to_dict()
    assert fast == reference
    assert fast["events"] and fast["alarms"]


@pytest.mark.parametrize("jitter", [0.0, 0.3])
def test_integrated_delay_across_a_huge_gap(jitter):
    """Two dips 1.8e12 s apart (times near the limit the pipeline accepts): the interval
    between them times the depth would overflow int64, but an interval over max_gap
    restarts the delay and never counts; both dips alarm as the live pipeline's do."""
    prof = load_profile(None)
    n = 40
    t = np.concatenate([-9e11 + np.arange(n), 9e11 + np.arange(n)])
    t += np.random.default_rng(1).uniform(0, jitter, t.size)
    spo2 = np.tile(np.r_[[97.0] * 5, [70.0] * (n - 5)], 2)
    pr = np.full(t.size, 80.0)
    fl = np.zeros(t.size, dtype=np.int64)
    batch = batch_alarms(analyze(t, spo2, pr, prof, flags=fl, judge_cadence=False))
    assert batch == stream_alarms(t, spo2, pr, fl, prof)
    assert sum(a[0] == "spo2_low" for a in batch) == 2


def test_jittered_and_gridded_paths_agree_on_a_recording(tmp_path):
    """One night written twice as oximon writes recordings: on the device's 1-s grid, and
    with receive times (up to 0.2 s late, three decimals, as `--record` files carry).
    Read back from the files, the gridded one takes the grid's offsets and the jittered
    one the jittered axis (`Window.d` and its exceptions); under a profile whose spans sit
    half a step off the grid, and whose artifact bound does not weigh each jump's own
    (jittered) interval, they must agree on every alarm and event, row for row, and each
    must report exactly what the reference implementation reports."""
    from oximon.analysis import _analyze, _result
    from oximon.device_files import read_any
    from oximon.pipeline.settings import Settings
    from tests.synthetic import write_csv

    half = {"spo2_low.sat_seconds": 0.0, "averaging.window_s": 4.5,
            "spo2_low.delay_s": 14.5, "spo2_severe.delay_s": 4.5,
            "spo2_drop.delay_s": 10.5, "spo2_drop.baseline_lag_s": 30.5,
            "pr_low.delay_s": 15.5, "pr_high.delay_s": 15.5, "validity.max_gap_s": 10.5,
            "no_reading.delay_s": 10.5, "stale_data.delay_s": 5.5, "artifact.hold_s": 3.5,
            "events.min_duration_s": 9.5, "artifact.max_rate": 0.0}
    prof = load_profile(None).with_overrides(half)
    rec = generate(21, 4 * 3600, dips=40, gaps=10, spikes=60, slow_falls=3)
    write_csv(tmp_path / "grid.csv", rec)
    rec.time = np.round(rec.time + np.random.default_rng(21).uniform(0, 0.2, rec.time.size), 3)
    write_csv(tmp_path / "jitter.csv", rec)
    results = {}
    for name in ("grid", "jitter"):
        r = read_any(tmp_path / f"{name}.csv")
        assert (Axis(r.time).step == 1000) == (name == "grid")
        results[name] = analyze(r.time, r.spo2, r.pr, prof, flags=r.flag_codes)
        s = Settings.from_profile(prof)
        with np.errstate(all="ignore"):
            ref = _result(s, _analyze(s, r.time, r.spo2, r.pr, r.flag_codes))
        assert results[name].to_dict() == ref.to_dict()
    grid, jit = results["grid"], results["jitter"]

    def alarms(r):
        return [(a.condition, _row(a.raised_s), _row(a.cleared_s)) for a in r.alarms]

    def events(r):
        return [(_row(e.start_s), _row(e.end_s), e.nadir, e.baseline) for e in r.events]

    assert alarms(jit) == alarms(grid) and len(grid.alarms) > 10
    assert events(jit) == events(grid) and len(grid.events) > 10
    assert jit.metrics["nadir"] == grid.metrics["nadir"]
    for key in ("ct90", "mean_spo2", "odi3"):
        assert jit.metrics[key] == pytest.approx(grid.metrics[key], rel=0.02)


@settings(max_examples=300, deadline=None)
@given(first_ms=st.integers(-10**15 + 1, 10**15 - 2**32),
       steps=st.lists(st.sampled_from([0, 0.5, 1, 1.5, 999.5, 1000, 1000.4999, 1000.5,
                                       3e5, 2**31 - 2**24 - 1.5, 2**31]),
                      min_size=1, max_size=40),
       frac=st.sampled_from([0.0, 0.5, 0.4999999, 0.5000001]))
def test_axis_times_are_the_live_pipelines_rounding(first_ms, steps, frac):
    """tq (int32 under 24 days, from an even origin; int64 beyond) differs between rows
    exactly as np.rint(t * 1000) does, half-ms times and the 24-day edge included, and
    int32 times leave room for any of the rules' durations."""
    t = (first_ms + frac + np.concatenate([[0.0], np.cumsum(steps)])) / 1000.0
    t = np.maximum.accumulate(t)  # (division may make neighbours go back by a rounding)
    ref = np.rint(t * 1000).astype(np.int64)
    ax = Axis(t)
    tq = ax.tq.astype(np.int64)
    assert np.array_equal(tq - tq[0], ref - ref[0])
    assert ax.span == ref[-1] - ref[0]
    assert np.array_equal(ax.dt, np.diff(ref))
    assert (ax.tq.dtype == np.int32) == (ax.span < 2**31 - 2**24)
    if ax.tq.dtype == np.int32:
        assert tq.min() >= 0 and tq.max() + 2**24 <= 2**31


def test_weights_capped_in_place_leave_the_long_intervals_as_they_are():
    """`Axis.weights` caps the long intervals in `dt` itself (no copy of the day's
    intervals): the weights are min(interval, cap), and `long_after` still answers with
    the intervals' own lengths, before and after."""
    rng = np.random.default_rng(3)
    t = np.arange(5000) + rng.uniform(0, 0.2, 5000)
    t[1000:] += 40.0
    t[3000:] += 400.0
    ax = Axis(t)
    true = np.diff(ax.tq).astype(np.int64)
    before = {x: ax.long_after(x).tolist() for x in (3000, 30000, 100000)}
    w = ax.weights(30000)
    assert isinstance(w, np.ndarray)
    expect = np.minimum(true, 30000)
    assert np.array_equal(w[:-1], expect) and w[-1] == expect[-1]
    for x, rows in before.items():
        assert ax.long_after(x).tolist() == rows == np.flatnonzero(true > x).tolist()
