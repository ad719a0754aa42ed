"""A synthetic oximetry generator with ground truth, for accuracy tests and the bench.

Realistic on purpose: a person's own baseline that wanders, a device that lags, rounds to
whole percent and adds ±1 noise, opioid-type slow falls, short dips, finger-out gaps
(NaN + flag) and motion spikes (sudden implausible jumps that return within seconds). The
truth (the person's real SpO2, which episodes happened when) comes with every record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from oximon.types import Flags


@dataclass
class TrueEpisode:
    kind: str  # "slow_fall" | "dip" | "rapid"
    start: float
    depth: float
    fall: float
    hold: float
    recover: float


@dataclass
class Synthetic:
    time: np.ndarray
    spo2: np.ndarray  # what the device shows (NaN when no reading)
    pr: np.ndarray
    flags: np.ndarray  # int Flags per row
    truth: np.ndarray  # the person's true SpO2
    baseline: np.ndarray  # the person's SpO2 without episodes
    gap: np.ndarray  # bool: finger out (no reading)
    artifact: np.ndarray  # bool: a motion spike is shown
    episodes: list[TrueEpisode] = field(default_factory=list)


def _envelope(x: np.ndarray, ep: TrueEpisode) -> np.ndarray:
    r = x - ep.start
    out = np.zeros_like(x)
    ramp = (r >= 0) & (r < ep.fall)
    out[ramp] = 0.5 - 0.5 * np.cos(np.pi * r[ramp] / ep.fall)
    r2 = r - ep.fall
    out[(r2 >= 0) & (r2 < ep.hold)] = 1.0
    r3 = r2 - ep.hold
    rec = (r3 >= 0) & (r3 < ep.recover)
    out[rec] = 0.5 + 0.5 * np.cos(np.pi * r3[rec] / ep.recover)
    return out


def generate(seed: int, duration_s: float = 3600.0, rate_hz: float = 1.0, *,
             slow_falls: int = 2, dips: int = 8, rapid: int = 1, gaps: int = 3,
             spikes: int = 12, lag_s: float = 2.0) -> Synthetic:
    """One record. Episodes never overlap each other; gaps and spikes fall anywhere."""
    rng = np.random.default_rng(seed)
    n = int(duration_s * rate_hz)
    t = np.arange(n) / rate_hz
    base0 = rng.uniform(95.0, 98.0)
    ph = rng.uniform(0, 2 * np.pi, 3)
    baseline = (base0 + 0.8 * np.sin(2 * np.pi * t / 900 + ph[0])
                + 0.5 * np.sin(2 * np.pi * t / 173 + ph[1]))
    baseline = np.minimum(baseline, 99.5)
    # Episodes placed in free slots, one after another.
    kinds = ["slow_fall"] * slow_falls + ["dip"] * dips + ["rapid"] * rapid
    rng.shuffle(kinds)
    episodes: list[TrueEpisode] = []
    cursor = 150.0
    for kind in kinds:
        if kind == "slow_fall":
            ep = TrueEpisode(kind, 0, rng.uniform(10, 22), rng.uniform(120, 300),
                             rng.uniform(40, 180), rng.uniform(60, 150))
        elif kind == "rapid":
            ep = TrueEpisode(kind, 0, rng.uniform(15, 30), rng.uniform(25, 60),
                             rng.uniform(10, 40), rng.uniform(30, 60))
        else:
            ep = TrueEpisode(kind, 0, rng.uniform(4.5, 9), rng.uniform(6, 15),
                             rng.uniform(8, 25), rng.uniform(6, 15))
        total = ep.fall + ep.hold + ep.recover
        slack = max(0.0, (duration_s - cursor - 200) / max(1, len(kinds) - len(episodes)))
        ep.start = cursor + rng.uniform(60, 60 + max(1.0, slack - total))
        if ep.start + total > duration_s - 60:
            break
        episodes.append(ep)
        cursor = ep.start + total + 60
    truth = baseline.copy()
    for ep in episodes:
        truth -= ep.depth * _envelope(t, ep)
    truth = np.clip(truth, 0, 100)
    # The device: a first-order lag, ±1 noise, whole percent.
    alpha = 1 - np.exp(-1 / (lag_s * rate_hz)) if lag_s > 0 else 1.0
    lagged = np.empty(n)
    acc = truth[0] if n else 0.0
    for i in range(n):
        acc += (truth[i] - acc) * alpha
        lagged[i] = acc
    shown = np.clip(np.round(lagged) + rng.integers(-1, 2, n), 0, 100).astype(float)
    pr = np.round(75 + 6 * np.sin(2 * np.pi * t / 97 + ph[2]) + rng.normal(0, 1.2, n))
    flags = np.zeros(n, dtype=np.int64)
    gap = np.zeros(n, dtype=bool)
    for _ in range(gaps):
        g0 = int(rng.uniform(0, n - 1))
        g1 = min(n, g0 + int(rng.uniform(5, 60) * rate_hz))
        gap[g0:g1] = True
    artifact = np.zeros(n, dtype=bool)
    for _ in range(spikes):
        a0 = int(rng.uniform(0, n - 1))
        a1 = min(n, a0 + max(1, int(rng.uniform(1, 5) * rate_hz)))
        jump = rng.uniform(8, 35) * (1 if rng.random() < 0.8 else -0.3)
        shown[a0:a1] = np.clip(np.round(shown[a0:a1] - jump), 0, 100)
        artifact[a0:a1] = True
    shown[gap] = np.nan
    pr[gap] = np.nan
    flags[gap] = int(Flags.FINGER_OUT)
    artifact &= ~gap
    return Synthetic(t, shown, pr, flags, truth, baseline, gap, artifact, episodes)


def write_csv(path, rec: Synthetic) -> None:
    """The recording format (oximon.recording)."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("time,spo2,pr,flags\n")
        for i in range(rec.time.size):
            s = "" if np.isnan(rec.spo2[i]) else f"{rec.spo2[i]:g}"
            p = "" if np.isnan(rec.pr[i]) else f"{rec.pr[i]:g}"
            f = "|".join(Flags(int(rec.flags[i])).names())
            fh.write(f"{rec.time[i]:g},{s},{p},{f}\n")


def bench_axes(t: np.ndarray) -> dict[str, np.ndarray]:
    """The time axes batch analysis is benchmarked on (`bench/analysis.py`,
    `scripts/analysis_compare.py speed`), from one gridded axis: as it is; receive-time
    jitter of 0-200 ms (oximon's own `--record` files); jitter up to 0.9 s; and 0-200 ms
    with ten dropouts of 31 s in the day (a finger-clip or radio outage)."""
    rng = np.random.default_rng(1)
    jitter = t + rng.uniform(0.0, 0.2, t.size)
    wide = t + rng.uniform(0.0, 0.9, t.size)
    drops = np.zeros(t.size)
    drops[np.sort(rng.choice(np.arange(200, t.size), 10, replace=False))] = 31.0
    return {"gridded": t, "jittered 0-200 ms": jitter, "jittered 0-900 ms": wide,
            "0-200 ms, 10 dropouts": jitter + np.cumsum(drops)}
