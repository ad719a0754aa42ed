"""One implementation: batch analysis raises exactly what the live pipeline raises."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oximon.analysis import analyze as analyze_judged
from oximon.profile import load_profile
from oximon.types import Flags
from tests.streamref import batch_alarms, stream_alarms
from tests.synthetic import generate


def analyze(*args, **kw):
    """The live rules on every stream, however sparse (analyze() would otherwise give a
    sparse stream a note instead of alarms): these tests compare the rules themselves."""
    return analyze_judged(*args, judge_cadence=False, **kw)


@pytest.mark.parametrize("seed", range(6))
def test_synthetic_records_match(seed):
    rec = generate(seed, 3600)
    batch = batch_alarms(analyze(rec.time, rec.spo2, rec.pr, flags=rec.flags))
    live = stream_alarms(rec.time, rec.spo2, rec.pr, rec.flags, ticks=0.25)
    assert batch == live
    assert any(a[0] == "spo2_low" for a in batch)  # the records do exercise the rules


def test_irregular_and_faster_rates_match():
    rec = generate(11, 1200, rate_hz=4.0)
    rng = np.random.default_rng(3)
    keep = rng.random(rec.time.size) > 0.2  # drop rows: an irregular grid
    t = rec.time[keep] + rng.uniform(0, 0.01, keep.sum())
    t.sort()
    args = (t, rec.spo2[keep], rec.pr[keep], rec.flags[keep])
    assert batch_alarms(analyze(*args[:3], flags=args[3])) == stream_alarms(*args)


def test_mean_averaging_and_other_settings_match():
    prof = load_profile(None).with_overrides({
        "averaging.method": "mean", "averaging.window_s": 9.0, "spo2_drop.baseline_lag_s": 0.0,
        "artifact.hold_s": 3.0, "spo2_low.sat_seconds": 10.0})
    rec = generate(5, 2400)
    assert batch_alarms(analyze(rec.time, rec.spo2, rec.pr, prof, flags=rec.flags)) == \
        stream_alarms(rec.time, rec.spo2, rec.pr, rec.flags, prof)


_values = st.one_of(st.just(float("nan")), st.floats(-5, 120), st.integers(40, 100).map(float),
                    st.sampled_from([0.0, 100.0, 85.0, 89.999, 90.0]))
_small = load_profile(None).with_overrides({
    "averaging.window_s": 2.0, "spo2_low.delay_s": 2.0, "spo2_severe.delay_s": 1.0,
    "spo2_drop.baseline_window_s": 10.0, "spo2_drop.baseline_lag_s": 2.0,
    "spo2_drop.delay_s": 1.0, "no_reading.delay_s": 3.0, "stale_data.delay_s": 2.0,
    "validity.max_gap_s": 3.0, "artifact.hold_s": 2.0, "pr_low.delay_s": 1.0,
    "pr_high.delay_s": 1.0, "spo2_low.sat_seconds": 1.5})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(st.sampled_from([0.0, 0.001, 0.5, 1.0, 1.0, 1.0, 2.5, 7.0]),
                               _values, _values,
                               st.sampled_from([0, 0, 0, int(Flags.FINGER_OUT),
                                                int(Flags.LOW_BATTERY), int(Flags.MOTION)])),
                     max_size=120),
       mean=st.booleans())
def test_random_streams_match(rows, mean):
    prof = _small.with_overrides({"averaging.method": "mean"}) if mean else _small
    t = np.cumsum([r[0] for r in rows]) if rows else np.zeros(0)
    spo2 = np.array([r[1] for r in rows])
    pr = np.array([r[2] + 40 for r in rows])
    fl = np.array([r[3] for r in rows], dtype=np.int64)
    assert batch_alarms(analyze(t, spo2, pr, prof, flags=fl)) == \
        stream_alarms(t, spo2, pr, fl, prof)


# -- the regular-grid fast path (oximon.pipeline.grid) -------------------------------------
# Most records are on a regular time grid and take the fast path; the tests above on the
# synthetic 1 Hz records exercise it, these make sure every corner of it is compared with
# the live pipeline too (rates, window lengths, holes at the start and end, long gaps).

@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(_values, _values,
                               st.sampled_from([0, 0, 0, int(Flags.FINGER_OUT),
                                                int(Flags.LOW_BATTERY)])),
                     min_size=2, max_size=120),
       step=st.sampled_from([0.25, 0.5, 1.0, 1.0, 2.5, 7.0]), t0=st.sampled_from([0.0, 1e6]),
       mean=st.booleans())
def test_random_streams_on_a_regular_grid_match(rows, step, t0, mean):
    prof = _small.with_overrides({"averaging.method": "mean"}) if mean else _small
    t = t0 + step * np.arange(len(rows))
    spo2 = np.array([r[0] for r in rows])
    pr = np.array([r[1] + 40 for r in rows])
    fl = np.array([r[2] for r in rows], dtype=np.int64)
    assert batch_alarms(analyze(t, spo2, pr, prof, flags=fl)) == \
        stream_alarms(t, spo2, pr, fl, prof)


@pytest.mark.parametrize(("rate", "window", "method"), [
    (2.0, 4.0, "median"),  # 8 readings a window: the sorting network
    (4.0, 4.0, "median"),  # 16: block sorts
    (1.0, 2.0, "median"), (1.0, 3.0, "median"), (1.0, 1.0, "median"),  # 2, 3, 1
    (1.0, 4.0, "mean"), (4.0, 9.0, "mean"),
])
def test_regular_grid_rates_and_windows_match(rate, window, method):
    prof = load_profile(None).with_overrides({"averaging.window_s": window,
                                              "averaging.method": method})
    rec = generate(17, 900, rate_hz=rate, dips=4, gaps=4, spikes=10)
    batch = batch_alarms(analyze(rec.time, rec.spo2, rec.pr, prof, flags=rec.flags))
    assert batch == stream_alarms(rec.time, rec.spo2, rec.pr, rec.flags, prof)
    assert any(a[0] == "spo2_low" for a in batch)


@pytest.mark.parametrize("seed", range(3))
def test_grid_and_general_paths_report_identical_results(seed):
    """The fast path must not change a single figure: metrics, events and alarms are the
    same as the general path's (which makes no assumption about the time axis)."""
    from oximon.analysis import _analyze, _result
    from oximon.pipeline.settings import Settings

    for prof in (load_profile(None),
                 load_profile(None).with_overrides({"averaging.method": "mean"})):
        rec = generate(seed, 7200, gaps=6, spikes=30)
        s = Settings.from_profile(prof)
        fast = analyze(rec.time, rec.spo2, rec.pr, prof, flags=rec.flags).to_dict()
        with np.errstate(all="ignore"):
            general = _result(s, _analyze(s, rec.time, rec.spo2, rec.pr, rec.flags))
        assert fast == general.to_dict()
        assert fast["events"] and fast["alarms"]


def test_scratch_buffers_are_reused_safely_across_records_and_threads():
    import threading

    recs = [generate(seed, n) for seed, n in ((1, 3000), (2, 1200), (3, 5000))]
    first = [analyze(r.time, r.spo2, r.pr, flags=r.flags).to_dict() for r in recs]
    again = [analyze(r.time, r.spo2, r.pr, flags=r.flags).to_dict() for r in reversed(recs)]
    assert first == again[::-1]
    out: dict[int, dict] = {}

    def work(i: int) -> None:
        for _ in range(3):
            r = recs[i % 3]
            out[i] = analyze(r.time, r.spo2, r.pr, flags=r.flags).to_dict()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(out[i] == first[i % 3] for i in range(6))


def test_gaps_of_every_length_around_the_baseline_cover_match():
    """After a finger-out gap the baseline is unknown until an old-enough reading is back
    in its window: gaps of each length around that edge, each followed by a dip."""
    rng = np.random.default_rng(4)
    spo2: list[float] = []
    flags: list[int] = []
    for gap in range(1, 75, 2):
        spo2 += list(97 + rng.integers(-1, 2, 150).astype(float))
        flags += [0] * 150
        spo2 += [float("nan")] * gap
        flags += [int(Flags.FINGER_OUT)] * gap
        # the dip straddles the moment the default baseline becomes known again
        back = max(0, 145 - gap) if gap % 4 == 1 else gap % 7
        spo2 += [97.0] * back + [92.0] * 40
        flags += [0] * (back + 40)
    t = np.arange(len(spo2), dtype=float)
    sp, fl, pr = np.array(spo2), np.array(flags, dtype=np.int64), np.full(len(spo2), 70.0)
    for prof in (load_profile(None),
                 load_profile(None).with_overrides({"spo2_drop.baseline_window_s": 30.0,
                                                    "spo2_drop.baseline_lag_s": 5.0})):
        batch = batch_alarms(analyze(t, sp, pr, prof, flags=fl))
        assert batch == stream_alarms(t, sp, pr, fl, prof)
        assert any(a[0] == "spo2_drop" for a in batch)
