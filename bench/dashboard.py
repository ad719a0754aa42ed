"""CPU share of the demo dashboard, offscreen: `python bench/dashboard.py [SECONDS]`.

Starts `oximon dashboard --demo --stations N` (N = 16, then 24) with QT_QPA_PLATFORM=
offscreen, lets it warm up, then reads the process's user+system CPU time from
/proc/PID/stat over SECONDS (default 30) of wall time. Prints the share of one core
against the issue's goals (16 stations <= 25 %, 24 stations <= 40 %). A benchmark, not a
test: the figures depend on the machine and on what else it is running.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOALS = {16: 25.0, 24: 40.0}
WARMUP_S = 4.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(stations: int, seconds: float) -> float:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen(
        [sys.executable, "-m", "oximon", "dashboard", "--demo", "--stations", str(stations)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(WARMUP_S)
        if proc.poll() is not None:
            raise SystemExit(f"the dashboard exited early (code {proc.returncode})")
        c0, t0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = cpu_seconds(proc.pid), time.monotonic()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 100.0 * (c1 - c0) / (t1 - t0)


def main() -> int:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    print(f"oximon dashboard --demo, offscreen, {seconds:.0f} s each after {WARMUP_S:.0f} s "
          f"warm-up; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    for stations, goal in GOALS.items():
        share = measure(stations, seconds)
        verdict = "meets" if share <= goal else "MISSES"
        print(f"{stations:2d} stations: {share:5.1f} % of one core "
              f"(goal <= {goal:.0f} %, ratio {share / goal:.2f}: {verdict} the goal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
