"""One implementation: batch analysis raises exactly what the live pipeline raises."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oximon.analysis import analyze
from oximon.profile import load_profile
from oximon.types import Flags
from tests.streamref import batch_alarms, stream_alarms
from tests.synthetic import generate


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
        "artifact.hold_s": 3.0, "spo2_falling.delay_s": 2.0})
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
    "pr_high.delay_s": 1.0, "spo2_falling.window_s": 3.0})


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
