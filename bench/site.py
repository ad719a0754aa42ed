"""Latency of the site: an alarm raised on a hub, seen by other processes' views.

4 hubs x 6 simulated booths (`oximon hub`, booths chosen to alarm often, at --speed) and 3
viewer processes (SiteWatch) on one PostgreSQL. Each alarm change a viewer receives
(raised, acknowledged, escalated, cleared) is timed from the moment the hub's engine
published it (the hub's wall clock, stamped when its alarm manager's event was heard) to
the moment the viewer has it (same machine, same clock). Side by side, in the same run, the
reference: a bare PostgreSQL NOTIFY from a plain process to the same viewers (what
LISTEN/NOTIFY itself costs on this server under this load).

Run: eval "$(bash .ci/start-postgres)"; /work/main/.venv/bin/python bench/site.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from oximon.site.viewer import SiteWatch  # noqa: E402
from oximon.store.scratch import scratch_database  # noqa: E402

HUBS, BOOTHS, VIEWERS = 4, 6, 3
SCENARIOS = ["rapid-desat", "apnea", "disconnect", "mixed", "bradycardia", "slow-desat"]
REF_CHANNEL = "oximon_bench_ref"


def site_file(url: str, folder: Path) -> Path:
    lines = ["[site]", 'name = "bench"', f'db = "{url}"']
    for h in range(HUBS):
        for b in range(BOOTHS):
            n = h * BOOTHS + b + 1
            lines += ["[[stations]]", f'id = "booth-{n}"', f'alias = "Booth {n}"',
                      f'hub = "room-{h + 1}"', f'source = "sim:{SCENARIOS[b]}:{n}"']
    path = folder / "site.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def viewer(url: str, seconds: float) -> None:
    """One viewer process: prints its latencies (ms) as one JSON object at the end."""
    alarm_ms: list[float] = []
    ref_ms: list[float] = []
    last: dict[str, tuple] = {}
    watch = SiteWatch(url, f"bench {os.getpid()}")

    def heard(booth: str) -> None:
        st = watch.snapshot().booths.get(booth)
        if st is None:
            return
        key = tuple((a.condition, a.priority, a.state, a.conditions) for a in st.alarms)
        if booth in last and key != last[booth]:
            alarm_ms.append((watch.received_ts[booth] - st.sent_ts) * 1000)
        last[booth] = key

    watch.subscribe(heard)
    watch.start()

    def reference() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"LISTEN {REF_CHANNEL}")
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                for note in conn.notifies(timeout=0.5, stop_after=1):
                    ref_ms.append((time.time() - float(note.payload)) * 1000)

    ref = threading.Thread(target=reference, daemon=True)
    ref.start()
    ref.join(seconds + 2)
    watch.stop()
    print(json.dumps({"alarm_ms": alarm_ms, "ref_ms": ref_ms}))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def line(name: str, values: list[float]) -> str:
    if not values:
        return f"{name:<34} no samples"
    return (f"{name:<34} n={len(values):>5}  p50 {statistics.median(values):7.1f} ms  "
            f"p99 {pct(values, 0.99):7.1f} ms  max {max(values):7.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--speed", default="10", help="hubs' --speed (more alarms per minute)")
    ap.add_argument("--pg", default=os.environ.get("OXIMON_TEST_PG_URL"))
    ap.add_argument("--viewer", metavar="URL", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.viewer:
        viewer(args.viewer, args.seconds)
        return
    if not args.pg:
        sys.exit("bench/site.py: give --pg URL or set OXIMON_TEST_PG_URL "
                 "(eval \"$(bash .ci/start-postgres)\")")
    with scratch_database(args.pg, prefix="oximon_bench_site") as url, \
            tempfile.TemporaryDirectory() as tmp:
        config = site_file(url, Path(tmp))
        py = sys.executable
        hubs = [subprocess.Popen([py, "-m", "oximon", "hub", "--config", str(config), "--name",
                                  f"room-{h + 1}", "--speed", args.speed], cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for h in range(HUBS)]
        time.sleep(3.0)  # the hubs make the live tables; viewers start on them
        viewers = [subprocess.Popen([py, __file__, "--viewer", url, "--seconds",
                                     str(args.seconds)], stdout=subprocess.PIPE, text=True)
                   for _ in range(VIEWERS)]
        time.sleep(2.0)
        with psycopg.connect(url, autocommit=True) as conn:  # the reference, 5 per second
            end = time.monotonic() + args.seconds - 4.0
            while time.monotonic() < end:
                conn.execute("SELECT pg_notify(%s, %s)", (REF_CHANNEL, repr(time.time())))
                time.sleep(0.2)
        alarm: list[float] = []
        ref: list[float] = []
        for v in viewers:
            out, _ = v.communicate(timeout=args.seconds + 30)
            got = json.loads(out.strip().splitlines()[-1])
            alarm += got["alarm_ms"]
            ref += got["ref_ms"]
        for h in hubs:
            h.terminate()
        for h in hubs:
            h.wait(30)
    print(f"{HUBS} hubs x {BOOTHS} booths (--speed {args.speed}), {VIEWERS} viewers, "
          f"{args.seconds:g} s, one PostgreSQL, {os.cpu_count()} cores")
    print(line("alarm change, hub -> other view", alarm))
    print(line("reference: bare NOTIFY -> LISTEN", ref))


if __name__ == "__main__":
    main()
