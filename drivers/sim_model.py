"""A physiologically plausible simulated finger oximeter (pure: no clock, no asyncio).

Scenarios are tables of *episodes* (a desaturation, finger out, a motion artifact, a lost
link...) laid over a person's own wandering baseline, so each scenario is data rather
than a branch in code. The device model then behaves like a real finger oximeter:

- the true SpO2 is seen through the device's averaging (a first-order lag of several
  seconds), with ±1 noise, rounded to whole percent and updated once per second;
- the pleth waveform runs at the device rate (50–100 Hz) with one beat per pulse,
  a dicrotic notch, respiratory modulation and an amplitude that follows perfusion;
- finger out gives NaN with the finger-out flag and a flat wave, and after the finger
  goes back in the device searches for a few seconds before numbers return;
- a motion artifact jumps the displayed numbers suddenly (faster than physiology) and
  back, with a chaotic wave and a weak signal, and no flag (real devices rarely flag it).

Everything random comes from one seeded generator, so a scenario with a seed is exactly
repeatable.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from oximon.types import DeviceState, Flags, Sample, StateChange


@dataclass(frozen=True)
class Episode:
    """Something that happens to the person or the device, `start` seconds into a cycle."""

    kind: str  # desat | finger_out | artifact | lost | pulse | battery
    start: float
    duration: float = 0.0  # how long the effect holds at full strength
    ramp: float = 0.0  # seconds to reach full strength (a fall, a slowing pulse)
    recover: float = 0.0  # seconds to return to baseline afterwards
    depth: float = 0.0  # SpO2 points down (desat, artifact)
    target: float = 0.0  # pulse rate the episode moves toward (pulse)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    episodes: tuple[Episode, ...] = ()
    period: float = 0.0  # the episodes repeat every `period` seconds (0 = once)
    battery_start: float = 85.0
    battery_drain_per_h: float = 4.0
    motion_rate_per_h: float = 0.0  # random artifacts on top of the episodes


def _desat(start: float, fall: float, depth: float, hold: float, recover: float) -> Episode:
    return Episode("desat", start, duration=hold, ramp=fall, recover=recover, depth=depth)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("normal", "a person breathing normally: SpO2 95–99, pulse 65–90"),
        Scenario(
            "slow-desat",
            "opioid: SpO2 falls over minutes to the high 70s, recovers after naloxone",
            (_desat(120, 240, 19, 150, 120),),
            period=1500,
        ),
        Scenario(
            "rapid-desat",
            "a fast fall to the mid 70s within a minute, then recovery",
            (_desat(60, 40, 22, 30, 60),),
            period=600,
        ),
        Scenario(
            "apnea",
            "breathing stops for about a minute: SpO2 falls steeply, pulse slows late",
            (_desat(90, 50, 18, 5, 40), Episode("pulse", 110, 30, 20, 20, target=48)),
            period=480,
        ),
        Scenario(
            "finger-out",
            "the finger slips out of the probe now and then",
            (Episode("finger_out", 60, 40), Episode("finger_out", 250, 12)),
            period=400,
        ),
        Scenario(
            "motion",
            "a restless person: sudden implausible jumps that return within seconds",
            period=3600,
            motion_rate_per_h=50.0,
        ),
        Scenario(
            "disconnect",
            "the device drops its link (out of range, switched off) and comes back",
            (Episode("lost", 60, 30),),
            period=300,
        ),
        Scenario(
            "bradycardia",
            "the pulse slows into the low 40s for a few minutes",
            (Episode("pulse", 120, 150, 60, 60, target=42),),
            period=600,
        ),
        Scenario(
            "low-battery",
            "the oximeter's battery runs low",
            battery_start=16.0,
            battery_drain_per_h=360.0,
        ),
        Scenario(
            "mixed",
            "a realistic hour of all of the above",
            (
                Episode("finger_out", 420, 25),
                _desat(900, 260, 17, 150, 150),
                Episode("artifact", 1700, 3, depth=18),
                Episode("artifact", 1760, 4, depth=12),
                _desat(2000, 45, 20, 25, 60),
                Episode("lost", 2400, 40),
                Episode("pulse", 2700, 120, 50, 50, target=44),
                Episode("finger_out", 3100, 30),
                _desat(3300, 50, 16, 5, 40),
            ),
            period=3600,
            motion_rate_per_h=10.0,
        ),
    )
}


def _envelope(t: float, ep: Episode) -> float:
    """0..1 strength of an episode at cycle time t (smooth cosine ramps in and out)."""
    x = t - ep.start
    if x < 0:
        return 0.0
    if x < ep.ramp:
        return 0.5 - 0.5 * math.cos(math.pi * x / ep.ramp)
    x -= ep.ramp
    if x < ep.duration:
        return 1.0
    x -= ep.duration
    if x < ep.recover:
        return 0.5 + 0.5 * math.cos(math.pi * x / ep.recover)
    return 0.0


def _beat_shape(phase: np.ndarray) -> np.ndarray:
    """One pulse wave per unit phase: a systolic peak and a smaller dicrotic wave."""
    x = phase % 1.0
    return np.exp(-(((x - 0.18) / 0.09) ** 2)) + 0.38 * np.exp(-(((x - 0.48) / 0.08) ** 2))


@dataclass
class _Truth:
    spo2: float
    pr: float
    perfusion: float  # PI %, 0.3 (cold hands) .. 10
    finger_in: bool
    connected: bool
    artifact: float  # SpO2 points of artifact jump (0 = none)


class SimulatedOximeter:
    """Produces samples for one simulated person and device. Call `advance(t)` for all
    samples up to engine time t; time always moves in `chunk_s` steps from `start`."""

    SEARCH_AFTER_FINGER_IN_S = 5.0
    LAG_TAU_S = 5.0

    def __init__(self, scenario: str | Scenario, seed: int = 0, *, start: float = 0.0,
                 pleth_hz: float = 50.0, chunk_s: float = 0.1, pleth: bool = True):
        self.scenario = scenario if isinstance(scenario, Scenario) else SCENARIOS[scenario]
        self.rng = np.random.default_rng(seed)
        self.pleth_hz = float(pleth_hz)
        self.chunk_s = float(chunk_s)
        self.with_pleth = pleth
        self.t = float(start)
        self._start = float(start)
        self._next_numeric = float(start)
        self._phase = 0.0
        # The person: their own baseline and how it wanders.
        self.baseline = float(self.rng.uniform(95.5, 98.0))
        self.pr_base = float(self.rng.uniform(66.0, 88.0))
        self.pi_base = float(self.rng.uniform(1.5, 6.0))
        self._wander = self.rng.uniform(0, 2 * math.pi, size=4)
        self._lag = self.baseline
        self._spo2_shown = math.nan
        self._pr_shown = math.nan
        self._finger_was_in = True
        self._searching_until = -math.inf
        self._connected = True
        self._artifacts = self._random_artifacts()

    # -- the person --------------------------------------------------------------------
    def _random_artifacts(self) -> list[Episode]:
        rate = self.scenario.motion_rate_per_h
        if rate <= 0:
            return []
        span = self.scenario.period or 3600.0
        n = int(self.rng.poisson(rate * span / 3600.0))
        starts = np.sort(self.rng.uniform(20.0, span - 10.0, size=n))
        out: list[Episode] = []
        free_from = 0.0
        for start in starts:  # a person settles between movements: keep them apart
            if start < free_from:
                continue
            ep = Episode("artifact", float(start), float(self.rng.uniform(1.5, 5.0)),
                         depth=float(self.rng.uniform(8.0, 25.0)))
            out.append(ep)
            free_from = ep.start + ep.duration + 8.0
        return out

    def truth(self, t: float) -> _Truth:
        rel = t - self._start
        cyc = rel % self.scenario.period if self.scenario.period else rel
        w = self._wander
        spo2 = self.baseline + 0.7 * math.sin(2 * math.pi * rel / 173 + w[0]) + 0.4 * math.sin(
            2 * math.pi * rel / 61 + w[1])
        pr = self.pr_base + 4.0 * math.sin(2 * math.pi * rel / 97 + w[2]) + 2.0 * math.sin(
            2 * math.pi * rel / 23 + w[3])
        perfusion = self.pi_base * (1 + 0.15 * math.sin(2 * math.pi * rel / 211 + w[0]))
        finger_in, connected, artifact = True, True, 0.0
        for ep in self.scenario.episodes + tuple(self._artifacts):
            if ep.kind in ("finger_out", "lost", "artifact"):
                on = ep.start <= cyc < ep.start + ep.duration
                if on and ep.kind == "finger_out":
                    finger_in = False
                elif on and ep.kind == "lost":
                    connected = False
                elif on:
                    artifact = ep.depth
                continue
            k = _envelope(cyc, ep)
            if not k:
                continue
            if ep.kind == "desat":
                spo2 -= ep.depth * k
                pr += 6.0 * k  # hypoxia first speeds the heart a little
                perfusion *= 1 - 0.3 * k
            elif ep.kind == "pulse":
                pr += (ep.target - pr) * k
        return _Truth(min(spo2, 100.0), max(pr, 20.0), max(perfusion, 0.2), finger_in, connected,
                      artifact)

    def battery(self, t: float) -> float:
        s = self.scenario
        return max(1.0, s.battery_start - s.battery_drain_per_h * (t - self._start) / 3600.0)

    # -- the device ----------------------------------------------------------------------
    def advance(self, until: float) -> Iterator[Sample | StateChange]:
        """Every event from the current time up to `until` (exclusive), chunk by chunk."""
        while self.t + self.chunk_s <= until + 1e-9:
            yield from self._chunk()

    def _chunk(self) -> Iterator[Sample | StateChange]:
        t0, dt = self.t, self.chunk_s
        self.t = t0 + dt
        truth = self.truth(t0)
        if truth.connected != self._connected:
            self._connected = truth.connected
            if truth.connected:
                yield StateChange(t0, DeviceState.STREAMING, "reconnected")
            else:
                yield StateChange(t0, DeviceState.LOST, "link dropped")
                self._spo2_shown = self._pr_shown = math.nan
        if not truth.connected:
            return
        if truth.finger_in and not self._finger_was_in:
            self._searching_until = t0 + self.SEARCH_AFTER_FINGER_IN_S
        self._finger_was_in = truth.finger_in
        # The lag runs on the true value whatever the probe sees (the person goes on).
        alpha = 1.0 - math.exp(-dt / self.LAG_TAU_S)
        self._lag += (truth.spo2 - self._lag) * alpha
        flags = Flags.NONE
        battery = self.battery(t0)
        if battery < 10.0:
            flags |= Flags.LOW_BATTERY
        searching = t0 < self._searching_until
        if not truth.finger_in:
            flags |= Flags.FINGER_OUT
            self._spo2_shown = self._pr_shown = math.nan
        elif searching:
            flags |= Flags.SEARCHING
            self._spo2_shown = self._pr_shown = math.nan
        elif t0 >= self._next_numeric or math.isnan(self._spo2_shown):
            # Numbers update once a second, like the device's display.
            self._next_numeric = t0 + 1.0
            noisy = self._lag + self.rng.normal(0.0, 0.45)
            self._spo2_shown = float(min(100, max(0, round(noisy - truth.artifact))))
            jitter = self.rng.normal(0.0, 1.2) + (
                self.rng.uniform(-40, 40) if truth.artifact else 0.0)
            self._pr_shown = float(max(25, round(truth.pr + jitter)))
        pleth: tuple[float, ...] = ()
        if self.with_pleth:
            pleth = self._pleth(t0, dt, truth, flags)
        signal = 0.0 if flags & Flags.FINGER_OUT else (
            0.2 if truth.artifact else min(1.0, truth.perfusion / 4.0))
        if signal < 0.25 and not flags & Flags.FINGER_OUT:
            flags |= Flags.LOW_SIGNAL
        valid = not math.isnan(self._spo2_shown)
        yield Sample(
            t=t0,
            spo2=self._spo2_shown,
            pr=self._pr_shown,
            pi=round(truth.perfusion, 1) if valid else None,
            pleth=pleth,
            pleth_rate=self.pleth_hz if self.with_pleth else 0.0,
            flags=flags,
            signal=signal,
            battery=round(battery),
        )

    def _pleth(self, t0: float, dt: float, truth: _Truth, flags: Flags) -> tuple[float, ...]:
        n = max(1, round(dt * self.pleth_hz))
        if flags & Flags.FINGER_OUT:
            return (0.0,) * n
        step = truth.pr / 60.0 / self.pleth_hz
        phase = self._phase + step * np.arange(1, n + 1)
        self._phase = float(phase[-1] % 1.0)
        tt = t0 + np.arange(n) / self.pleth_hz
        amp = min(1.0, 0.25 + truth.perfusion / 6.0)
        wave = amp * _beat_shape(phase) + 0.08 * np.sin(2 * math.pi * 0.25 * tt)
        if truth.artifact:
            wave = wave + self.rng.normal(0.0, 0.5, size=n).cumsum() * 0.3
        elif flags & Flags.SEARCHING:
            wave = wave * 0.3 + self.rng.normal(0.0, 0.05, size=n)
        wave = np.clip(20.0 + 60.0 * wave, 0.0, 100.0)
        return tuple(np.round(wave, 1).tolist())
