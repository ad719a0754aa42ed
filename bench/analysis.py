"""Benchmark: batch analysis of a 24 h, 1 Hz record, and streaming cost per sample.

Run: /work/venv/bin/python bench/analysis.py   (prints figures; not a test)
Batch analysis takes the regular-grid fast path for a record at a fixed rate (most
recordings; oximon.pipeline.grid) and the general path otherwise; both are printed.
Reference: pobm's range check + median filter + ODI4 + CT90 takes about 100 ms on the
same kind of record on this machine (figure from issue 3; pobm is not installed).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from oximon.analysis import analyze
from oximon.pipeline import StationPipeline
from oximon.profile import load_profile
from oximon.types import Flags, Sample
from tests.synthetic import generate

POBM_MS = 100.0


def main() -> None:
    profile = load_profile(None)
    rec = generate(24, 86400.0, slow_falls=12, dips=200, rapid=6, gaps=60, spikes=300)
    args = (rec.time, rec.spo2, rec.pr)
    t0 = time.perf_counter()
    analyze(*args, profile, flags=rec.flags)  # warm up (the first call in a process)
    first = (time.perf_counter() - t0) * 1e3
    runs = []
    for _ in range(7):
        t0 = time.perf_counter()
        res = analyze(*args, profile, flags=rec.flags)
        runs.append(time.perf_counter() - t0)
    med = statistics.median(runs) * 1e3
    print(f"analyze, 24 h at 1 Hz ({rec.time.size} rows, {len(res.events)} events, "
          f"{len(res.alarms)} alarms): median of 7 = {med:.2f} ms "
          f"(min {min(runs) * 1e3:.2f}, max {max(runs) * 1e3:.2f}); goal <= 2 ms")
    print(f"  vs pobm reference ~{POBM_MS:.0f} ms: {POBM_MS / med:.0f}x faster; "
          f"first call in the process (fresh scratch memory): {first:.2f} ms")
    # The same record with receive-time jitter (a live recording's timestamps): not a
    # regular grid, so the general path (windows by binary search).
    jitter = rec.time + np.random.default_rng(1).uniform(0.0, 0.2, rec.time.size)
    runs = []
    for _ in range(7):
        t0 = time.perf_counter()
        analyze(jitter, rec.spo2, rec.pr, profile, flags=rec.flags)
        runs.append(time.perf_counter() - t0)
    print(f"  same record with 0-200 ms time jitter (general path): median of 7 = "
          f"{statistics.median(runs) * 1e3:.2f} ms")
    # Streaming: one StationPipeline, samples prebuilt so only the pipeline is timed.
    n = 20000
    samples = [Sample(float(rec.time[i]), float(rec.spo2[i]), float(rec.pr[i]),
                      flags=Flags(int(rec.flags[i]))) for i in range(n)]
    costs = []
    for _ in range(5):
        p = StationPipeline("bench", profile)
        t0 = time.perf_counter()
        for s in samples:
            p.push(s)
        costs.append((time.perf_counter() - t0) / n * 1e6)
    print(f"streaming: {statistics.median(costs):.2f} µs per sample per station "
          f"(median of 5 × {n} samples); goal <= 20 µs")


if __name__ == "__main__":
    main()
