import math

import numpy as np
import pytest

from oximon.drivers.sim_model import SCENARIOS, SimulatedOximeter
from oximon.types import DeviceState, Flags, Sample, StateChange

DESIGN_SCENARIOS = {"normal", "slow-desat", "rapid-desat", "apnea", "finger-out", "motion",
                    "disconnect", "bradycardia", "low-battery", "mixed"}


def run(scenario: str, seconds: float, seed: int = 1, **kw) -> list[Sample | StateChange]:
    return list(SimulatedOximeter(scenario, seed, **kw).advance(seconds))


def samples(events) -> list[Sample]:
    return [e for e in events if isinstance(e, Sample)]


def numbers(events) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = samples(events)
    return (np.array([x.t for x in s]), np.array([x.spo2 for x in s]),
            np.array([x.pr for x in s]))


def test_every_design_scenario_exists():
    assert set(SCENARIOS) >= DESIGN_SCENARIOS


@pytest.mark.parametrize("scenario", sorted(DESIGN_SCENARIOS))
def test_values_are_plausible_integers_and_invalid_is_nan_with_a_flag(scenario):
    events = run(scenario, 900, seed=7, pleth=False)
    for s in samples(events):
        if math.isnan(s.spo2):
            assert s.flags & (Flags.FINGER_OUT | Flags.SEARCHING), s
            assert math.isnan(s.pr)
            continue
        assert s.spo2 == int(s.spo2) and 50 <= s.spo2 <= 100
        assert s.pr == int(s.pr) and 25 <= s.pr <= 220


def test_same_seed_same_readings_and_other_seed_differs():
    a = numbers(run("mixed", 600, seed=3, pleth=False))[1]
    b = numbers(run("mixed", 600, seed=3, pleth=False))[1]
    c = numbers(run("mixed", 600, seed=4, pleth=False))[1]
    assert np.array_equal(a, b, equal_nan=True)
    assert not np.array_equal(a, c, equal_nan=True)


def test_normal_stays_in_the_normal_band():
    _, spo2, pr = numbers(run("normal", 1800, seed=5, pleth=False))
    assert spo2.min() >= 93 and spo2.max() <= 100
    assert np.median(spo2) >= 95
    assert pr.min() > 50 and pr.max() < 110


def test_slow_desat_falls_over_minutes_then_recovers():
    t, spo2, _ = numbers(run("slow-desat", 900, seed=2, pleth=False))
    below90 = t[spo2 < 90]
    assert below90.size, "never desaturated"
    first = below90[0]
    assert 150 < first < 400  # falls over minutes, not seconds
    assert spo2.min() <= 82
    assert spo2[t > 850].min() >= 92  # recovered after naloxone


def test_displayed_spo2_lags_and_never_jumps_in_a_real_fall():
    _t, spo2, _ = numbers(run("rapid-desat", 300, seed=2, pleth=False))
    per_second = spo2[::10]
    assert np.nanmax(np.abs(np.diff(per_second))) <= 4  # physiology, even in a rapid fall
    assert spo2.min() <= 80


def test_numbers_update_once_per_second_like_a_device():
    t, spo2, _ = numbers(run("slow-desat", 400, seed=2, pleth=False))
    changes = np.flatnonzero(np.diff(spo2) != 0)
    assert np.all(np.diff(t[changes + 1]) >= 0.99)


def test_pleth_runs_at_device_rate_with_one_beat_per_pulse():
    events = run("normal", 30, seed=9, pleth_hz=100)
    s = samples(events)
    wave = np.concatenate([x.pleth for x in s])
    assert s[0].pleth_rate == 100 and abs(len(wave) - 3000) <= 1
    assert wave.min() >= 0 and wave.max() <= 100
    # systolic peaks: local maxima well above the middle of the wave
    mid = (wave.max() + wave.min()) / 2
    rising = np.flatnonzero((wave[1:] >= mid) & (wave[:-1] < mid))
    beats_per_min = len(rising) * 2  # 30 s
    mean_pr = np.nanmean([x.pr for x in s])
    assert abs(beats_per_min - mean_pr) <= 6


def test_finger_out_gives_no_numbers_and_searching_before_they_return():
    events = run("finger-out", 130, seed=1, pleth=False)
    s = samples(events)
    out = [x for x in s if 62 <= x.t < 98]
    assert out and all(x.flags & Flags.FINGER_OUT and math.isnan(x.spo2) for x in out)
    after = [x for x in s if 100 <= x.t < 104]
    assert after and all(x.flags & Flags.SEARCHING and math.isnan(x.spo2) for x in after)
    assert all(not math.isnan(x.spo2) for x in s if 110 <= x.t < 130)


def test_motion_makes_sudden_jumps_that_return_within_seconds():
    _t, spo2, _ = numbers(run("motion", 1800, seed=11, pleth=False))
    per_s = spo2[::10]
    jumps = np.flatnonzero(np.diff(per_s) <= -8)
    assert len(jumps) >= 5
    for j in jumps:
        assert np.nanmax(per_s[j + 1: j + 8]) >= per_s[j] - 3  # back within seconds


def test_disconnect_reports_lost_then_streaming():
    events = run("disconnect", 120, seed=1, pleth=False)
    states = [(e.t, e.state) for e in events if isinstance(e, StateChange)]
    assert [s for _, s in states] == [DeviceState.LOST, DeviceState.STREAMING]
    assert abs(states[0][0] - 60) < 0.2 and abs(states[1][0] - 90) < 0.2
    assert not [e for e in samples(events) if 60.5 < e.t < 89.5]


def test_low_battery_flag_comes_on_and_battery_falls():
    s = samples(run("low-battery", 120, seed=1, pleth=False))
    first, last = s[0].battery, s[-1].battery
    assert first is not None and last is not None and first > last
    assert not s[0].flags & Flags.LOW_BATTERY
    assert s[-1].flags & Flags.LOW_BATTERY


def test_bradycardia_slows_the_pulse_below_50():
    _, _, pr = numbers(run("bradycardia", 400, seed=1, pleth=False))
    assert np.nanmin(pr) < 48
