"""Before/after checks for a change to batch analysis (`oximon.analysis.analyze`): the same
figures, and how much faster, against another checkout of the tree.

    python scripts/analysis_compare.py same OTHER_TREE [--quick]
    python scripts/analysis_compare.py speed OTHER_TREE [--calls 150]

`same` runs `analyze().to_dict()` in both trees (a subprocess each) on ~1,100 records:
synthetic days at 0.5-4 Hz on a grid, with receive-time jitter, dropouts, times offset to
the epoch, rows out of order or NaN, NaN and off-grid readings, flags; four averaging
profiles; sparse cadences (a reading every 40-200 s) with invalid readings; and the real
recordings in ../shared/real (read in place, never copied). It prints how many differ and
exits 1 if any does. Speed work on analysis must keep this at 0.

`speed` times this tree (A) and OTHER_TREE (B) in one process, calls interleaved, on the
bench's 24 h record on its four time axes (`tests.synthetic.bench_axes`: gridded,
jittered 0-200 ms and 0-900 ms, dropouts): the other tree's package is copied under the
name `oximonb`. Interleaving in one process keeps the machine's drift out of the ratio
(two identical trees measure within ~2 %); separate processes drift by 5-10 % on a
shared machine. The absolute figures are higher than `bench/analysis.py`'s (two sets of
scratch buffers share the cache): read the ratio.

OTHER_TREE: e.g. `git worktree add /tmp/base main`, or `git archive main | tar -x -C DIR`.
"""

from __future__ import annotations

import argparse
import os
import pickle
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent.parent / "shared" / "real"
if not REAL.exists():
    REAL = Path("/work/shared/real")


def records(quick: bool) -> dict[tuple[Any, ...], Any]:
    """analyze().to_dict() (or the error it raised) for every record, by key."""
    import numpy as np

    from oximon.analysis import analyze
    from oximon.device_files import read_any
    from oximon.profile import load_profile
    from tests.synthetic import generate

    base = load_profile(None)
    profiles = {"default": base, "mean": base.with_overrides({"averaging.method": "mean"}),
                "win2": base.with_overrides({"averaging.window_s": 2.0}),
                "win9": base.with_overrides({"averaging.window_s": 9.0})}
    out: dict[tuple[Any, ...], Any] = {}

    def add(key: tuple[Any, ...], t: Any, sp: Any, pr: Any, fl: Any = None,
            prof: str = "default", judge: bool = True) -> None:
        try:
            out[key] = analyze(t, sp, pr, profiles[prof], flags=fl,
                               judge_cadence=judge).to_dict()
        except Exception as exc:
            out[key] = ("error", type(exc).__name__, str(exc))

    for seed in range(6 if quick else 30):
        rng = np.random.default_rng(1000 + seed)
        for rate in (1.0, 2.0, 0.5, 4.0):
            dur = [600.0, 3600.0, 7200.0, 86400.0 if seed % 10 == 0 else 5400.0][seed % 4]
            rec = generate(seed, dur, rate_hz=rate, dips=10 + seed, gaps=3 + seed % 5,
                           spikes=20 + seed)
            n = rec.time.size
            axes = {"grid": rec.time,
                    "j200": rec.time + rng.uniform(0, 0.2 / rate, n),
                    "j900": rec.time + rng.uniform(0, 0.9 / rate, n),
                    "drop": rec.time + np.cumsum(rng.choice([0.0] * 50 + [3.0, 12.0], n)),
                    "offset": rec.time + 1.7e9}
            if seed % 3 == 0:
                messy = rec.time + rng.uniform(0, 0.3, n)
                messy[rng.integers(0, n, 5)] = np.nan
                messy[rng.integers(1, n, 5)] -= 5.0
                axes["messy"] = messy
            sp = rec.spo2.copy()
            if seed % 2:
                sp[rng.integers(0, n, n // 50)] = np.nan
                sp[rng.integers(0, n, 5)] += 0.4
            fl = rec.flags if seed % 4 else None
            for name, t in axes.items():
                many = rate == 1.0 and name in ("grid", "j200")
                for prof in (profiles if many else ("default",)):
                    add((seed, rate, name, prof), t, sp, rec.pr, fl, prof)
    for seed in range(8 if quick else 40):
        rng = np.random.default_rng(5000 + seed)
        for step in (60.0, 151.0, 40.0, 200.0):
            n = int(rng.integers(2, 300))
            t = np.arange(n) * step + rng.uniform(0, [0, 0.3, 5.0, 0][seed % 4], n)
            sp = rng.choice([97.0, 96.0, 91.0, 88.0, 1.0, np.nan, 80.0], n)
            pr = rng.choice([70.0, 0.0, 45.0, 150.0], n)
            for judge in (True, False):
                add(("sparse", seed, step, judge), t, sp, pr, judge=judge)
    for f in sorted(REAL.glob("*.csv")):
        real = read_any(f)
        for prof in ("default", "mean"):
            for judge in (True, False):
                add(("real", f.name, prof, judge), real.time, real.spo2, real.pr,
                    real.flag_codes, prof, judge)
    return out


def same(other: Path, quick: bool) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        outs = []
        procs = []
        for i, tree in enumerate((ROOT, other)):
            path = Path(tmp) / f"{i}.pkl"
            outs.append(path)
            code = (f"import sys, pickle; sys.path.insert(0, {str(tree)!r}); "
                    f"sys.path.insert(0, {str(ROOT / 'scripts')!r}); "
                    f"import analysis_compare as c; "
                    f"pickle.dump(c.records({quick}), open({str(path)!r}, 'wb'))")
            procs.append(subprocess.Popen([sys.executable, "-c", code], cwd=tree))
        if any(p.wait() for p in procs):
            print("a tree failed to run (see above)")
            return 2
        mine, theirs = (pickle.loads(p.read_bytes()) for p in outs)
    if mine.keys() != theirs.keys():
        print("the trees analysed different record sets: is the other one too old?")
        return 2
    diff = [k for k in mine if mine[k] != theirs[k]]
    print(f"{len(mine)} records compared, {len(diff)} differ")
    for k in diff[:10]:
        print("  differs:", k)
    return 1 if diff else 0


def _copy_as(src: Path, dst: Path, name: str) -> None:
    """The package at src (symlinked folders followed) as package `name` under dst."""
    for root, dirs, files in os.walk(src, followlinks=True):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        rel = os.path.relpath(root, src)
        (dst / name / rel).mkdir(parents=True, exist_ok=True)
        for f in files:
            if not f.endswith((".py", ".toml")):
                continue
            text = (Path(root) / f).read_text(encoding="utf-8")
            if f.endswith(".py"):
                text = re.sub(r"\boximon\.", name + ".", text)
                text = re.sub(r"from oximon import", f"from {name} import", text)
                text = re.sub(r"import oximon\b", f"import {name}", text)
            (dst / name / rel / f).write_text(text, encoding="utf-8")


def speed(other: Path, calls: int) -> int:
    sys.path.insert(0, str(ROOT))
    tmp = Path(tempfile.mkdtemp())
    try:
        _copy_as(Path(os.path.realpath(other / "oximon")), tmp, "oximonb")
        sys.path.insert(0, str(tmp))
        import oximonb.analysis as b  # type: ignore[import-not-found]
        import oximonb.profile as bprofile  # type: ignore[import-not-found]

        import oximon.analysis as a
        from oximon.profile import load_profile
        from tests.synthetic import bench_axes, generate

        pa, pb = load_profile(None), bprofile.load_profile(None)
        rec = generate(24, 86400.0, slow_falls=12, dips=200, rapid=6, gaps=60, spikes=300)
        print(f"A = {ROOT}, B = {other}: median of {calls} interleaved calls each")
        for name, t in bench_axes(rec.time).items():
            args = (t, rec.spo2, rec.pr)
            same_result = (a.analyze(*args, pa, flags=rec.flags).to_dict()
                           == b.analyze(*args, pb, flags=rec.flags).to_dict())
            times: dict[str, list[float]] = {"A": [], "B": []}
            runs = (("A", a.analyze, pa), ("B", b.analyze, pb))
            for i in range(calls + 10):
                for key, fn, prof in (runs if i % 2 else runs[::-1]):
                    t0 = time.perf_counter()
                    fn(*args, prof, flags=rec.flags)
                    if i >= 10:
                        times[key].append(time.perf_counter() - t0)
            ma, mb = (statistics.median(times[k]) * 1e3 for k in "AB")
            print(f"  {name:<21} A {ma:6.3f} ms   B {mb:6.3f} ms   A/B {ma / mb:.3f}"
                  f"   (same figures: {same_result})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=("same", "speed"))
    ap.add_argument("other", type=Path, help="the other checkout's root")
    ap.add_argument("--quick", action="store_true", help="same: a fifth of the records")
    ap.add_argument("--calls", type=int, default=150, help="speed: calls per tree")
    args = ap.parse_args()
    if args.what == "same":
        return same(args.other.resolve(), args.quick)
    return speed(args.other.resolve(), args.calls)


if __name__ == "__main__":
    sys.exit(main())
