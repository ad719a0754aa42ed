"""IEC 60601-1-8 style tones: pulse counts and rhythm, pitch and harmonics, WAV output."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from oximon.alerts.tones import PATTERNS, SAMPLE_RATE, ToneBank, burst, pulse, wav_bytes
from oximon.profile import Profile
from oximon.types import Priority

SR = SAMPLE_RATE


def measured_onsets(samples: np.ndarray) -> list[float]:
    """Pulse starts found from the signal itself (envelope above 10 % of its peak)."""
    env = np.convolve(np.abs(samples), np.ones(220) / 220, mode="same")  # 5 ms smoothing
    on = env > 0.1 * env.max()
    starts = np.flatnonzero(on[1:] & ~on[:-1]) + 1
    if on[0]:
        starts = np.r_[0, starts]
    return [s / SR for s in starts]


@pytest.mark.parametrize(("priority", "count"),
                         [(Priority.HIGH, 10), (Priority.MEDIUM, 3), (Priority.LOW, 2)])
def test_pulse_count_per_burst(priority: Priority, count: int) -> None:
    assert len(measured_onsets(burst(priority))) == count


def test_high_burst_rhythm_is_3_2_pause_3_2() -> None:
    onsets = measured_onsets(burst(Priority.HIGH))
    gaps = np.diff(onsets)
    step = PATTERNS[Priority.HIGH].pulse_s + PATTERNS[Priority.HIGH].spacing_s
    short = gaps < step * 1.2
    # within groups: short steps; between 3|2 and 2|3: longer gaps
    assert short.tolist() == [True, True, False, True, False, True, True, False, True]
    assert gaps[4] > gaps[2]  # the middle pause is the longest
    assert np.allclose(onsets, PATTERNS[Priority.HIGH].onsets(), atol=0.006)


@pytest.mark.parametrize("priority", [Priority.HIGH, Priority.MEDIUM, Priority.LOW])
def test_timing_within_iec_ranges(priority: Priority) -> None:
    p = PATTERNS[priority]
    if priority is Priority.HIGH:
        assert 0.075 <= p.pulse_s <= 0.2 and 0.05 <= p.spacing_s <= 0.125
    else:
        assert 0.125 <= p.pulse_s <= 0.25 and 0.125 <= p.spacing_s <= 0.25
    assert 150 <= p.f0 <= 1000


@pytest.mark.parametrize("priority", [Priority.HIGH, Priority.MEDIUM, Priority.LOW])
def test_fundamental_and_at_least_four_harmonics(priority: Priority) -> None:
    f0 = PATTERNS[priority].f0
    x = pulse(f0, 0.2)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / SR)

    def level(f: float) -> float:
        band = (freqs > f - 15) & (freqs < f + 15)
        return float(spectrum[band].max())

    strongest = freqs[np.argmax(spectrum)]
    assert abs(strongest - f0) < 10  # the fundamental leads
    fund = level(f0)
    harmonics = [k * f0 for k in range(2, 12) if 300 <= k * f0 <= 4000
                 and 20 * np.log10(level(k * f0) / fund) > -15]
    assert len(harmonics) >= 4
    # between harmonics there is (almost) nothing: a tone, not noise
    assert level(1.5 * f0) < 0.01 * fund


def test_pulses_ramp_softly() -> None:
    x = pulse(440.0, 0.2)
    assert abs(x[0]) < 1e-3 and abs(x[-1]) < 1e-2
    assert np.max(np.abs(x)) <= 1.0


def test_burst_followed_by_interburst_silence_and_volume() -> None:
    b = burst(Priority.MEDIUM, interburst_s=6.0, volume=0.5)
    assert abs(len(b) / SR - (PATTERNS[Priority.MEDIUM].length_s + 6.0)) < 0.01
    assert np.all(b[-int(5.9 * SR):] == 0)
    assert b.dtype == np.float32 and 0.3 < np.max(np.abs(b)) <= 0.5


def test_wav_bytes_round_trip() -> None:
    data = wav_bytes(burst(Priority.LOW))
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, SR)
        assert w.getnframes() == len(burst(Priority.LOW))


def test_tone_bank_uses_profile_and_escalation_is_louder_and_more_often() -> None:
    profile = Profile.default().with_overrides({"sound.high_interburst_s": 10.0})
    bank = ToneBank(profile)
    normal, escalated = bank.tone(Priority.HIGH), bank.tone(Priority.HIGH, escalated=True)
    assert abs(len(normal.samples) / SR - (PATTERNS[Priority.HIGH].length_s + 10.0)) < 0.01
    assert len(escalated.samples) < len(normal.samples)
    assert escalated.volume > normal.volume
    assert bank.tone(Priority.HIGH) is normal  # built once
