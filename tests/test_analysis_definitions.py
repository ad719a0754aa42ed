"""Each metric's definition (DESIGN.md, `oximon analyze --help`) on hand-worked arrays.

The expected figures are worked out by hand in the comments, from the definitions, not
from what the code printed."""

from __future__ import annotations

import numpy as np
import pytest

from oximon.analysis import analyze
from oximon.profile import load_profile

# Averaging over 1 s: the averaged trace is the readings, so event arithmetic is by hand.
RAW = load_profile(None).with_overrides({"averaging.window_s": 1.0})


def _steps(n: int, base: float, spans: list[tuple[int, int, float]]) -> np.ndarray:
    spo2 = np.full(n, base)
    for a, b, v in spans:
        spo2[a:b] = v
    return spo2


def test_ct90_and_ct85_count_readings_strictly_below() -> None:
    # 600 s at 1 Hz: 60 s at exactly 90, 30 s at 89, 10 s at 85, 10 s at 84.
    spo2 = _steps(600, 97.0, [(100, 160, 90.0), (300, 330, 89.0), (400, 410, 85.0),
                              (410, 420, 84.0)])
    m = analyze(np.arange(600.0), spo2, np.full(600, 70.0)).metrics
    assert m["ct90"] == pytest.approx(100 * 50 / 600, abs=1e-3)  # 89 x 30 + 85/84 x 20
    assert m["ct85"] == pytest.approx(100 * 10 / 600, abs=1e-3)  # only the 84s
    assert m["nadir"] == 84.0
    mean = (97 * 490 + 90 * 60 + 89 * 30 + 85 * 10 + 84 * 10) / 600
    assert m["mean_spo2"] == pytest.approx(mean, abs=1e-3)


def test_ct90_weighs_each_reading_by_its_time_and_never_a_gap() -> None:
    # Irregular times: the 89 at t=10 stands for 2 s (to t=12); the 88 at t=12 for the
    # time to the next reading, capped at max_gap (10 s): a 50 s gap is not time below.
    t = np.array([0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 62.0, 64.0])
    spo2 = np.array([96.0, 95.0, 94.0, 93.0, 92.0, 89.0, 88.0, 95.0, 95.0])
    r = analyze(t, spo2, np.full(t.size, 70.0))
    valid = 2 * 6 + 10 + 2 + 2  # the last reading counts like the one before it
    assert r.valid_s == valid
    assert r.metrics["ct90"] == pytest.approx(100 * (2 + 10) / valid, abs=1e-3)


def test_the_nadir_is_a_reading_never_an_average() -> None:
    spo2 = np.tile([97.0, 96.0], 300)
    m = analyze(np.arange(600.0), spo2, np.full(600, 70.0)).metrics
    assert m["nadir"] == 96.0
    assert m["mean_spo2"] == 96.5


@pytest.mark.parametrize(("length", "counted"), [(9, False), (10, True), (30, True)])
def test_an_event_lasts_at_least_10_seconds_by_default(length: int, counted: bool) -> None:
    # Baseline 97 (known after 90 s), then `length` readings at 93: 4 points below.
    spo2 = _steps(600, 97.0, [(300, 300 + length, 93.0)])
    r = analyze(np.arange(600.0), spo2, np.full(600, 70.0), RAW)
    assert len(r.events) == int(counted)
    if counted:
        e = r.events[0]
        assert (e.start_s, e.end_s, e.baseline, e.nadir, e.depth) == \
            (300.0, 299.0 + length, 97.0, 93.0, 4.0)
        # one event in 600 s of valid time: 6 per hour, 4 points deep counts for both
        assert r.metrics["odi3"] == r.metrics["odi4"] == 6.0
    else:
        assert r.metrics["odi3"] == 0.0


def test_the_minimum_duration_is_a_profile_setting() -> None:
    spo2 = _steps(600, 97.0, [(300, 309, 93.0)])  # 9 s
    short = RAW.with_overrides({"events.min_duration_s": 5.0})
    assert len(analyze(np.arange(600.0), spo2, np.full(600, 70.0), short).events) == 1
    assert load_profile(None)["events"]["min_duration_s"] == 10.0


def test_odi3_and_odi4_by_depth() -> None:
    # Two dips of 20 s: one 3 points deep (94), one 5 points deep (92, 93): 1800 s.
    spo2 = _steps(1800, 97.0, [(300, 320, 94.0), (900, 910, 92.0), (910, 920, 93.0)])
    r = analyze(np.arange(1800.0), spo2, np.full(1800, 70.0), RAW)
    assert [e.depth for e in r.events] == [3.0, 5.0]
    assert r.metrics["odi3"] == 4.0  # 2 events in half an hour
    assert r.metrics["odi4"] == 2.0


def test_hypoxic_burden_is_the_area_below_the_baseline_per_hour() -> None:
    # One event: 10 s at 4 points below a baseline of 97 = 40 %·s = 2/3 %·min, in 600 s
    # (1/6 h) of valid time: 4 %·min/h.
    spo2 = _steps(600, 97.0, [(300, 310, 93.0)])
    r = analyze(np.arange(600.0), spo2, np.full(600, 70.0), RAW)
    assert r.metrics["hypoxic_burden"] == pytest.approx(4.0, abs=1e-3)


def test_a_recording_too_sparse_for_the_live_rules_gets_metrics_and_a_note() -> None:
    # One reading a minute for 2 h (an ICU trend file), three of them at 88.
    t = np.arange(120) * 60.0
    spo2 = _steps(120, 96.0, [(50, 53, 88.0)])
    r = analyze(t, spo2, np.full(120, 70.0))
    assert r.alarms == []
    assert r.note is not None and "one reading every 60 s" in r.note
    assert r.valid_s == 7200.0  # each reading stands for its own minute
    assert r.metrics["ct90"] == pytest.approx(2.5, abs=1e-3)  # 3 of 120 readings
    assert r.metrics["nadir"] == 88.0
    assert r.to_dict()["note"] == r.note
    # The same spacing at 1 Hz is judged by the live rules as usual, and has no note.
    dense = analyze(np.arange(120.0), spo2, np.full(120, 70.0))
    assert dense.note is None and dense.to_dict()["note"] is None


def test_a_four_second_cadence_is_judged_by_the_live_rules() -> None:
    # The O2Ring stores a reading every 4 s: within max_gap (10 s) and stale (5 s).
    t = np.arange(900) * 4.0
    spo2 = _steps(900, 96.0, [(400, 420, 86.0)])
    r = analyze(t, spo2, np.full(900, 70.0))
    assert r.note is None
    assert any(a.condition == "spo2_low" for a in r.alarms)
    assert r.metrics["ct90"] == pytest.approx(100 * 20 / 900, abs=1e-3)
