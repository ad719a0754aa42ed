"""Store benchmark (not a test): the writer's CPU share and the database size for 32 stations
at 1 Hz over 12 virtual hours, and listing/filtering 100,000 incidents — on SQLite and, when
a server is given, PostgreSQL.

    python bench/store.py                       # SQLite only
    python bench/store.py --pg "$OXIMON_TEST_PG_URL"   # both (a scratch database is made)
    python bench/store.py --hours 1             # shorter

Goals: writer <= 2 % of one core; a filtered list of 100,000 incidents <= 100 ms.
The writer is driven exactly as the engine drives it (on_sample per reading, tick every
second, one commit per second — the bench waits for each second's write before the next —,
an incident every 3 h per station). Its CPU is this process's CPU (the engine-side calls
and the writer thread) less the bench's own making of samples; on PostgreSQL the server's
CPU is measured separately.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text

from oximon.clock import ManualClock
from oximon.events import AlarmCleared, AlarmRaised
from oximon.store import IncidentQuery, open_store
from oximon.store.schema import incidents
from oximon.store.scratch import scratch_database
from oximon.types import Flags, Priority, Sample, Station

STATIONS = 32


def _pg_server_cpu() -> float:
    """CPU seconds used so far by every local postgres process (user + system)."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        if comm.startswith("postgres"):
            fields = stat[stat.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
    return total / tick


def scratch_pg(url: str):
    return scratch_database(url, prefix="oximon_bench")


def bench_writer(db: str, hours: float) -> dict[str, float]:
    clock = ManualClock(start=0.0)
    mono = [0.0]
    store = open_store(db, clock=clock, writer=True, monotonic=lambda: mono[0])
    sids = [f"st-{i + 1}" for i in range(STATIONS)]
    for i, sid in enumerate(sids):
        store.add_station(Station(sid, alias=f"Booth {i + 1}", booth=str(i + 1)))
    rng = random.Random(1)
    seconds = int(hours * 3600)
    making = 0.0
    pg = db.startswith("postgresql")
    server0 = _pg_server_cpu() if pg else 0.0
    wall0 = time.perf_counter()
    cpu0 = time.process_time()
    incidents_opened = 0
    for t in range(seconds):
        m0 = time.thread_time()
        clock.set(float(t))
        mono[0] = float(t)
        batch = []
        for i, sid in enumerate(sids):
            phase = (t + i * 337) % 10800  # an episode every 3 h per station
            spo2 = 84.0 if 600 <= phase < 660 else float(round(96.0 + rng.random() * 3))
            flags = Flags.NONE
            if rng.random() < 0.01:
                spo2, flags = float("nan"), Flags.FINGER_OUT
            batch.append((sid, Sample(t=float(t), spo2=spo2, pr=70.0 + rng.random() * 10,
                                      flags=flags), phase))
        making += time.thread_time() - m0
        for sid, sample, phase in batch:
            store.on_sample(sid, sample)
            if phase == 615:
                incidents_opened += 1
                store.on_event(AlarmRaised(t=float(t), station=sid, condition="spo2_low",
                                           priority=Priority.HIGH, raised_t=float(t)))
            elif phase == 665:
                store.on_event(AlarmCleared(t=float(t), station=sid, condition="spo2_low",
                                            priority=Priority.HIGH, raised_t=float(t) - 50))
        store.tick(float(t))
        store.settle()  # one write per second, as in real time
    store.close()
    cpu = time.process_time() - cpu0 - making
    elapsed = time.perf_counter() - wall0
    server = (_pg_server_cpu() - server0) if pg else 0.0
    if pg:
        check = open_store(db)
        with check.engine.connect() as conn:
            size = int(conn.execute(text("SELECT pg_database_size(current_database())"))
                       .scalar() or 0)
        check.close()
    else:
        size = sum(p.stat().st_size for p in Path(db).parent.glob(Path(db).name + "*"))
    return {"seconds": seconds, "cpu_s": cpu, "share": cpu / seconds * 100,
            "server_share": server / seconds * 100, "elapsed_s": elapsed, "size_mb": size / 1e6,
            "rows": seconds * STATIONS, "incidents": incidents_opened}


def fill_incidents(db: str, n: int) -> None:
    """100,000 summary rows straight into the list table (the list reads only that table;
    building each through the API would take hours and time the same queries)."""
    store = open_store(db, create=True)
    rng = random.Random(2)
    start = 1_700_000_000.0
    outcomes = ["responsive", "breathing_on_own", "transported", "left_site",
                "breathing_on_own,transported", "not_recorded"]
    rows = []
    for k in range(n):
        opened = start + k * 900 + rng.random() * 600  # about 3 years of incidents
        nal = rng.choice([0, 0, 1, 1, 2, 3])
        rows.append({
            "id": f"b{k:08d}", "station": f"st-{rng.randrange(STATIONS) + 1}", "alias": "",
            "status": "closed", "reason": "spo2_low", "opened_ts": opened,
            "closed_ts": opened + 900, "outcome": rng.choice(outcomes), "interrupted": False,
            "naloxone_doses": nal, "first_naloxone_ts": opened + 60 if nal else None,
            "called_911_ts": opened + 120 if rng.random() < 0.3 else None,
            "ehs_arrived_ts": None, "nadir": 70.0 + rng.random() * 20, "nadir_ts": opened,
            "below90_s": 60.0, "below85_s": 20.0, "reviewed": rng.random() < 0.7,
            "reviewed_by": None, "reviewed_ts": None, "debrief": False, "amendments": 0,
            "session_id": None})
    with store.engine.begin() as conn:
        for i in range(0, n, 5000):
            conn.execute(insert(incidents), rows[i:i + 5000])
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE incidents")
        else:
            conn.exec_driver_sql("ANALYZE")
    store.close()


def bench_listing(db: str) -> list[tuple[str, int, float]]:
    store = open_store(db)
    month0 = 1_700_000_000.0 + 400 * 86400
    cases = [
        ("newest 100 + total count", IncidentQuery(limit=100)),
        ("newest 200 + total count (the CLI's and the browser's page)",
         IncidentQuery(limit=200)),
        ("page 250 of 200 (offset 49,800) + total count",
         IncidentQuery(limit=200, offset=49_800)),
        ("one month, naloxone given, 911 called (page 100)",
         IncidentQuery(since_ts=month0, until_ts=month0 + 30 * 86400, naloxone=True,
                       called_911=True, limit=100)),
        ("one station, not reviewed, transported (page 100)",
         IncidentQuery(station="st-7", reviewed=False, outcome="transported", limit=100)),
        ("one month, every row (for a monthly report)",
         IncidentQuery(since_ts=month0, until_ts=month0 + 30 * 86400)),
        ("all 100,000 rows, unfiltered (nothing asks for this any more: the CLI and the "
         "browser page)", IncidentQuery()),
    ]
    out = []
    for name, q in cases:
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            rows = store.list_incidents(q)
            store.count_incidents(q)
            times.append((time.perf_counter() - t0) * 1000)
        out.append((name, len(rows), statistics.median(times)))
    store.close()
    return out


def report(label: str, db_writer: str, db_list: str, hours: float) -> None:
    print(f"\n== {label} ==")
    w = bench_writer(db_writer, hours)
    print(f"writer: {STATIONS} stations x 1 Hz x {w['seconds'] / 3600:g} h = {w['rows']:,} rows, "
          f"{w['incidents']} incidents, run in {w['elapsed_s']:.0f} s")
    print(f"  writer CPU {w['cpu_s']:.1f} s over {w['seconds']} s = {w['share']:.3f} % of a core "
          f"(goal <= 2 %, ratio {w['share'] / 2:.3f})")
    if w["server_share"]:
        print(f"  PostgreSQL server CPU: {w['server_share']:.3f} % of a core")
    print(f"  database size {w['size_mb']:.1f} MB ({w['size_mb'] * 1e6 / w['rows']:.0f} bytes "
          f"per reading, incl. incident traces and indexes)")
    fill_incidents(db_list, 100_000)
    print("listing 100,000 incidents (median of 5, list + count):")
    for name, n, ms in bench_listing(db_list):
        flag = "ok" if ms <= 100 else "over"
        print(f"  {ms:8.1f} ms  {n:>7,} rows  {name}  [{flag}: goal 100 ms]")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--hours", type=float, default=12.0)
    p.add_argument("--pg", default=os.environ.get("OXIMON_TEST_PG_URL"),
                   help="PostgreSQL server URL (a scratch database is created and dropped)")
    p.add_argument("--no-sqlite", action="store_true")
    args = p.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as d:
            report("SQLite (WAL, synchronous=FULL)", str(Path(d) / "w.db"),
                   str(Path(d) / "l.db"), args.hours)
    if args.pg:
        with scratch_pg(args.pg) as w, scratch_pg(args.pg) as lst:
            report("PostgreSQL", w, lst, args.hours)
    else:
        print("\n(PostgreSQL skipped: give --pg URL or set OXIMON_TEST_PG_URL)")


if __name__ == "__main__":
    main()
