"""Alarm tones after IEC 60601-1-8, synthesized with numpy (no sound files to ship).

Why these shapes: the standard's melodies let a worker tell urgency by ear, across a room,
without looking. Each pulse is a fundamental between 150 and 1000 Hz plus at least four
harmonics in 300–4000 Hz (a rich tone is easier to locate and hear through noise than a
pure beep), with soft 15 % rise and fall ramps (no clicks).

- high: 10 pulses per burst, grouped 3 + 2, pause, 3 + 2; then `sound.high_interburst_s`
  of silence (2.5–15 s) before the next burst;
- medium: 3 pulses; `sound.medium_interburst_s` (2.5–30 s);
- low: 2 pulses; `sound.low_interburst_s` (> 15 s).
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass, field

import numpy as np

from oximon.profile import Profile
from oximon.types import Priority

SAMPLE_RATE = 44_100

# Relative amplitudes of the fundamental and its harmonics 2..5 (all within 15 dB).
HARMONIC_AMPLITUDES = (1.0, 0.7, 0.55, 0.45, 0.35)


@dataclass(frozen=True, slots=True)
class Pattern:
    """One priority's burst: `groups` of pulses (e.g. (3, 2, 3, 2)), pulse length `pulse_s`,
    gap between pulses of a group `spacing_s`, gap between groups `group_gaps_s`."""

    f0: float
    pulse_s: float
    spacing_s: float
    groups: tuple[int, ...]
    group_gaps_s: tuple[float, ...]

    @property
    def pulses(self) -> int:
        return sum(self.groups)

    def onsets(self) -> list[float]:
        """Start time (s) of each pulse within the burst."""
        out, t = [], 0.0
        for g, count in enumerate(self.groups):
            for i in range(count):
                out.append(t)
                t += self.pulse_s + (self.spacing_s if i < count - 1 else 0.0)
            if g < len(self.groups) - 1:
                t += self.group_gaps_s[g]
        return out

    @property
    def length_s(self) -> float:
        return self.onsets()[-1] + self.pulse_s


# High: td 150 ms (75–200), ts 100 ms (50–125); the 3 | 2 gap is 2·ts + td (the standard's
# rhythm), the middle pause 500 ms. Medium and low: td 200 ms, ts 200 ms (125–250).
PATTERNS: dict[Priority, Pattern] = {
    Priority.HIGH: Pattern(523.25, 0.15, 0.10, (3, 2, 3, 2), (0.35, 0.5, 0.35)),
    Priority.MEDIUM: Pattern(440.0, 0.20, 0.20, (3,), ()),
    Priority.LOW: Pattern(392.0, 0.20, 0.20, (2,), ()),
}


def pulse(f0: float, seconds: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """One tone pulse: fundamental + harmonics, 15 % raised-cosine rise and fall."""
    n = round(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    wave_ = np.zeros(n)
    for k, amp in enumerate(HARMONIC_AMPLITUDES, start=1):
        wave_ += amp * np.sin(2 * np.pi * k * f0 * t)
    ramp = max(1, round(0.15 * n))
    env = np.ones(n)
    edge = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, ramp))
    env[:ramp] = edge
    env[-ramp:] = edge[::-1]
    return wave_ * env / sum(HARMONIC_AMPLITUDES)


def burst(priority: Priority, interburst_s: float = 0.0, volume: float = 1.0,
          sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """One burst (float32, -1..1) followed by `interburst_s` of silence, so that looping
    it repeats the burst with that interval between bursts."""
    pattern = PATTERNS[priority]
    total = pattern.length_s + interburst_s
    out = np.zeros(round(total * sample_rate) + 1)
    one = pulse(pattern.f0, pattern.pulse_s, sample_rate)
    for onset in pattern.onsets():
        i = round(onset * sample_rate)
        out[i:i + len(one)] += one
    return (out * volume).astype(np.float32)


def wav_bytes(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """16-bit mono WAV (what QSoundEffect plays)."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


@dataclass(frozen=True, eq=False)
class Tone:
    """A ready-to-loop alarm sound: one burst plus the silence until the next."""

    name: str
    priority: Priority
    escalated: bool
    volume: float
    samples: np.ndarray = field(repr=False)
    sample_rate: int = SAMPLE_RATE


class ToneBank:
    """Builds each priority's tone once, with the profile's repeat intervals and volumes."""

    def __init__(self, profile: Profile, sample_rate: int = SAMPLE_RATE):
        sound = profile["sound"]
        self._interburst = {Priority.HIGH: sound["high_interburst_s"],
                            Priority.MEDIUM: sound["medium_interburst_s"],
                            Priority.LOW: sound["low_interburst_s"]}
        self._volume = sound["volume"]
        self._escalated_volume = sound["escalated_volume"]
        self._sample_rate = sample_rate
        self._cache: dict[tuple[Priority, bool], Tone] = {}

    def tone(self, priority: Priority, escalated: bool = False) -> Tone:
        key = (priority, escalated)
        if key not in self._cache:
            volume = self._escalated_volume if escalated else self._volume
            name = f"{priority.label}{'-escalated' if escalated else ''}"
            # Escalated: same melody, half the silence between bursts (at least 2.5 s).
            gap = self._interburst[priority]
            if escalated:
                gap = max(2.5, gap / 2)
            self._cache[key] = Tone(name, priority, escalated, volume,
                                    burst(priority, gap, 1.0, self._sample_rate),
                                    self._sample_rate)
        return self._cache[key]
