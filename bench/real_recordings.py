"""Alarm burden and sensitivity on real overnight recordings (and synthetic hours).

For each recording the real engine (pipeline + AlarmManager, the default profile, no store)
replays every reading with a fake clock; a simulated worker acknowledges whatever sounds
`--ack-after` seconds after it starts sounding (nobody acknowledging would leave the first
high alarm latched all night and hide every later one). Printed per recording:
- alarms raised per hour, by condition and priority ("raised" events that start an alarm),
  and how often an alarm already up sounded again (a priority raise, a re-alarm on
  worsening, a reminder: anything else that starts a tone);
- every episode of readings < 90 % lasting >= 20 s, and when a high alarm sounded for it
  (seconds from the first reading < 90 %; 0 when one was already up: sounding, or
  acknowledged while the guest never got back above its recovery level).
- the same night with its pulse lowered by `--pulse-shift` bpm (a guest whose resting
  pulse sits in the 40s: the recordings here have none, the issue's quoted night had).

Real recordings are read from `--real` (default: ../shared/real beside the repository's
parent, i.e. /work/shared/real) when present and never copied. Synthetic hours come from
tests/synthetic.py (seeds 1..N).

Run it on two checkouts side by side (the code under test is the one on `--code`):
  /work/main/.venv/bin/python bench/real_recordings.py --code /work/main
  /work/main/.venv/bin/python bench/real_recordings.py
Not a test; never runs in the suite.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EPISODE_BELOW = 90.0
EPISODE_MIN_S = 20.0
GOAL_S = 25.0


def read_csv(path: Path) -> tuple[list[float], list[float], list[float]]:
    """time, spo2, pr (NaN = no reading) of a `time,spo2,pr` file."""
    t: list[float] = []
    sp: list[float] = []
    pr: list[float] = []
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            t.append(float(row["time"]))
            sp.append(float(row["spo2"]) if row["spo2"] else math.nan)
            pr.append(float(row["pr"]) if row["pr"] else math.nan)
    return t, sp, pr


def episodes(t: list[float], sp: list[float]) -> list[tuple[float, float, float]]:
    """(start, end, lowest) of each run of readings < 90 % lasting >= 20 s; a run ends at
    the first reading >= 90 % or with no reading."""
    out = []
    start = None
    low = math.inf
    for i, (ti, x) in enumerate(zip(t, sp, strict=True)):
        below = not math.isnan(x) and x < EPISODE_BELOW
        if below:
            if start is None:
                start, low = ti, x
            low = min(low, x)
            continue
        if start is not None:
            if ti - start >= EPISODE_MIN_S:
                out.append((start, ti, low))
            start = None
        del i
    if start is not None and t[-1] - start >= EPISODE_MIN_S:
        out.append((start, t[-1], low))
    return out


def run(t: list[float], sp: list[float], pr: list[float], flags: list[int] | None,
        ack_after: float) -> dict:
    """Replay one record through the engine; what it raised and when high alarms sounded."""
    from oximon.alerts import AlarmManager
    from oximon.clock import ManualClock
    from oximon.engine import Engine
    from oximon.events import EngineEvent, payload
    from oximon.profile import Profile
    from oximon.types import DeviceState, Flags, Priority, Sample, StateChange, Station

    clock = ManualClock()
    engine = Engine(clock, Profile.default(), AlarmManager)
    sid = "rec"
    engine.add_station(Station(sid))
    raised: Counter[tuple[str, str]] = Counter()
    again: Counter[str] = Counter()
    high_sounding: list[tuple[float, float]] = []  # (from, to) spans
    since: float | None = None
    raised_at: dict[str, list[float]] = {}
    lasted: dict[str, list[float]] = {}
    most = 0

    def on_event(ev: EngineEvent) -> None:
        if ev.kind != "alarm" or ev.station != sid:
            return
        f = payload(ev)
        if ev.state == "cleared":
            ended = f.get("condition_cleared_t") or ev.t
            lasted.setdefault(f["condition"], []).append(ended - f["raised_t"])
        if ev.state == "raised" and not f.get("from_priority"):
            raised[(f["condition"], f["priority"])] += 1
            raised_at.setdefault(f["condition"], []).append(ev.t)
        elif ev.state == "reminder" or (ev.state == "updated" and f.get("sounds")):
            again[f"{ev.state} ({f['priority']})"] += 1
        elif ev.state == "raised":
            again[f"priority raised to {f['priority']}"] += 1

    engine.subscribe(on_event)
    engine.feed(sid, StateChange(t[0], DeviceState.STREAMING))
    first_loud: float | None = None

    def look(now: float) -> None:
        nonlocal since, first_loud, most
        views = [a for a in engine.alarms.active_alarms() if a.station == sid]
        most = max(most, sum(not a.technical for a in views))
        loud = [a for a in views if not a.acknowledged]
        # A high alarm up for the booth (sounding, or acknowledged while it still holds).
        high = any(a.priority >= Priority.HIGH and not a.technical for a in views)
        if high and since is None:
            since = now
        elif not high and since is not None:
            high_sounding.append((since, now))
            since = None
        if loud and first_loud is None:
            first_loud = now
        if loud and first_loud is not None and now - first_loud >= ack_after:
            engine.acknowledge(sid, None, "bench")
            first_loud = None
        elif not loud:
            first_loud = None

    next_tick = t[0]
    for i, ti in enumerate(t):
        while next_tick <= ti:
            clock.set(next_tick)
            engine.tick(next_tick)
            look(next_tick)
            next_tick += 0.25
        clock.set(ti)
        fl = Flags(flags[i]) if flags is not None else Flags.NONE
        engine.feed(sid, Sample(ti, sp[i], pr[i], flags=fl))
        look(ti)
    if since is not None:
        high_sounding.append((since, t[-1]))
    hours = (t[-1] - t[0]) / 3600
    return {"raised": raised, "again": again, "sounding": high_sounding, "hours": hours,
            "raised_at": raised_at, "lasted": lasted, "most": most}


def median(values: list[float]) -> float:
    v = sorted(values)
    return math.nan if not v else (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2


def high_latency(ep: tuple[float, float, float], sounding: list[tuple[float, float]]
                 ) -> float | None:
    """Seconds from the episode's start to a high alarm being up (0: already up)."""
    start, end, _ = ep
    for a, b in sounding:
        if a <= start < b:
            return 0.0
        if start <= a <= end + GOAL_S:
            return a - start
    return None


def report(name: str, t: list[float], sp: list[float], pr: list[float],
           flags: list[int] | None, ack_after: float) -> tuple[int, float, int, int]:
    got = run(t, sp, pr, flags, ack_after)
    hours = got["hours"]
    total = sum(got["raised"].values())
    print(f"== {name}: {hours:.2f} h, {total} alarms raised = {total / hours:.1f}/h")
    print(f"   most vital-sign alarms shown at once for this booth: {got['most']}")
    for (cond, prio), k in sorted(got["raised"].items(), key=lambda kv: -kv[1]):
        at = got["raised_at"].get(cond, [])
        apart = median([b - a for a, b in itertools.pairwise(at)])
        each = median(got["lasted"].get(cond, []))
        print(f"   raised {cond:<14} {prio:<6} {k:5d}  {k / hours:6.1f}/h  median "
              f"{each:6.1f} s each, {apart:7.1f} s apart")
    for what, k in sorted(got["again"].items()):
        print(f"   sounded again: {what:<28} {k:5d}  {k / hours:6.1f}/h")
    eps = episodes(t, sp)
    met = 0
    print(f"   episodes < {EPISODE_BELOW:g} % for >= {EPISODE_MIN_S:g} s: {len(eps)}")
    for ep in eps:
        lat = high_latency(ep, got["sounding"])
        ok = lat is not None and lat <= GOAL_S
        met += ok
        when = "no high alarm" if lat is None else f"high alarm after {lat:5.1f} s"
        print(f"     t={ep[0]:8.0f} s  {ep[1] - ep[0]:5.0f} s long, lowest {ep[2]:.0f} %: "
              f"{when}{'' if ok else '  <-- over ' + str(int(GOAL_S)) + ' s'}")
    return total, hours, met, len(eps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", default=str(ROOT), help="checkout whose oximon is run")
    parser.add_argument("--real", default=str(ROOT.parents[1] / "shared" / "real"),
                        help="folder of real recordings (time,spo2,pr CSV)")
    parser.add_argument("--synthetic-hours", type=int, default=6)
    parser.add_argument("--pulse-shift", type=float, default=10.0)
    parser.add_argument("--ack-after", type=float, default=10.0,
                        help="seconds before the simulated worker acknowledges")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(args.code).resolve()))
    sys.path.insert(1, str(ROOT))
    import oximon

    print(f"code: {Path(oximon.__file__).resolve().parent}")
    real = Path(args.real)
    files = sorted(real.glob("*.csv")) if real.is_dir() else []
    if not files:
        print(f"no real recordings in {real} (skipped)")
    for path in files:
        t, sp, pr = read_csv(path)
        report(path.name, t, sp, pr, None, args.ack_after)
        if path.name.startswith("cms50") and args.pulse_shift:
            low = [p - args.pulse_shift for p in pr]
            report(f"{path.name} with pulse -{args.pulse_shift:g} bpm", t, sp, low, None,
                   args.ack_after)
    from tests.synthetic import generate

    tot = hrs = 0.0
    met = n = 0
    for seed in range(1, args.synthetic_hours + 1):
        rec = generate(seed, 3600.0)
        k, h, m, e = report(f"synthetic hour seed {seed}", rec.time.tolist(),
                            rec.spo2.tolist(), rec.pr.tolist(), rec.flags.tolist(),
                            args.ack_after)
        tot, hrs, met, n = tot + k, hrs + h, met + m, n + e
    if hrs:
        print(f"== synthetic total: {tot / hrs:.1f} alarms raised/h; episodes alarmed high "
              f"within {GOAL_S:g} s: {met}/{n}")


if __name__ == "__main__":
    main()
