"""Issue 14.9 (second half): a `--speed` run stored its virtual times as wall times, so its
incidents were dated in the future (a 75 s run at ×10 left records 632 s ahead of the
clock). Now every stored time is a true wall time; the scenario's virtual seconds stay in
the events' `t` and the record says it was not live monitoring."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from oximon.clock import ManualClock
from tests.store.storerig import Rig, incident, trace

ROOT = Path(__file__).resolve().parents[2]
SPEED = 10.0
REAL0 = 1_790_000_000.0  # the fake wall clock when the run starts (2026-09-21)

# Every time column a run stamps from its clock (heartbeat_real_ts and the leases' times
# are time.time() itself, the real clock by construction, not the injected one).
STAMPS = {
    "readings": ["ts"], "incident_trace": ["ts"], "incident_events": ["ts", "recorded_ts"],
    "alarm_log": ["ts", "recorded_ts"], "audit_log": ["ts", "recorded_ts"],
    "sessions": ["started_ts", "heartbeat_ts", "ended_ts"],
    "incidents": ["opened_ts", "closed_ts", "nadir_ts"],
}


def newest_stamp(store) -> dict[str, float]:
    """The newest value of each time column, by table.column."""
    out: dict[str, float] = {}
    with store.engine.connect() as conn:
        for table, cols in STAMPS.items():
            for col in cols:
                v = conn.execute(text(f"SELECT max({col}) FROM {table}")).scalar()
                if v is not None:
                    out[f"{table}.{col}"] = v
    return out


def _scaled_rig(db_url: str, speed: float = SPEED) -> tuple[Rig, ManualClock]:
    """A store on a fake `--speed` clock whose real wall clock moves 1/speed as fast."""
    clock = ManualClock(start=0.0, speed=speed)  # its wall(): 2026-01-01 + virtual time
    rig = Rig(db_url, clock=clock, real_time=lambda: REAL0 + clock.now() / speed)
    return rig, clock


def _episode(rig: Rig) -> str:
    """Virtual time: calm 0-100 s, SpO2 78 % 100-400 s (alarm at 115 s), calm again, the
    alarm clears at 400 s and a worker closes the incident at 500 s."""
    rig.feed(0, 100, spo2=97)
    rig.feed(100, 115, spo2=78)
    rig.alarm("raised", 115)
    iid = rig.open_id("s1")
    rig.feed(115, 400, spo2=78)
    rig.alarm("cleared", 400)
    rig.feed(400, 500, spo2=96)
    rig.clock.set(500)
    rig.store.close_incident(iid, 500, "responsive", by="worker")
    rig.store.settle()
    return iid


def test_a_compressed_run_stores_nothing_after_the_wall_clock(db_url):
    rig, clock = _scaled_rig(db_url)
    try:
        iid = _episode(rig)
        real_now = REAL0 + clock.now() / SPEED  # 50 real seconds after the start
        late = {k: v for k, v in newest_stamp(rig.store).items() if v > real_now + 1e-6}
        assert late == {}, f"dated after the wall clock: {late}"
        rec = incident(rig.store, iid)
        # Onset: the real moment of the alarm; its virtual second stays in `t`.
        assert abs(rec.opened_ts - (REAL0 + 115 / SPEED)) < 1e-3 and rec.opened_t == 115
        # Duration: 385 s of the scenario, 38.5 s of real time.
        assert rec.virtual_s == 385 and rec.closed_ts is not None and rec.nadir_ts is not None
        assert abs((rec.closed_ts - rec.opened_ts) - 385 / SPEED) < 1e-3
        # Nadir and time below: one stored row per virtual second, as in live monitoring.
        assert rec.nadir == 78
        assert REAL0 + 100 / SPEED <= rec.nadir_ts <= REAL0 + 400 / SPEED
        assert rec.below90_s == 300 and rec.below85_s == 300  # virtual 100-399 s
        rows = trace(rec)
        assert [r["ts"] for r in rows] == sorted({r["ts"] for r in rows})
        # The record says it was not live, in its chain and in the summary row.
        assert rec.timeline == {"speed": SPEED, "simulated": False}
        with rig.store.engine.connect() as conn:
            assert conn.execute(text("SELECT timeline FROM incidents")).scalar() == "not live ×10"
            assert conn.execute(text("SELECT speed FROM sessions WHERE id = :s"),
                                {"s": rig.store.session_id}).scalar() == SPEED
        assert rig.store.verify()[2] == []
    finally:
        rig.close()


def test_a_real_time_run_is_recorded_as_before(db_url):
    """Speed 1: the clock's wall time is the record's, exactly, and nothing is marked."""
    rig = Rig(db_url)
    try:
        iid = _episode(rig)
        rec = incident(rig.store, iid)
        assert rec.opened_ts == rig.clock.wall().timestamp() - (500 - 115)  # epoch + 115 s
        assert rec.closed_ts is not None and rec.virtual_s is None
        assert rec.closed_ts - rec.opened_ts == 385
        assert rec.timeline is None and rec.below90_s == 300
        with rig.store.engine.connect() as conn:
            opened = conn.execute(text("SELECT data FROM incident_events WHERE kind = 'opened'")
                                  ).scalar()
            session = conn.execute(text("SELECT speed, simulated FROM sessions WHERE id = :s"),
                                   {"s": rig.store.session_id}).one()
            assert conn.execute(text("SELECT timeline FROM incidents")).scalar() is None
        assert opened is not None and "timeline" not in json.loads(opened)
        assert session.speed is None and not session.simulated
    finally:
        rig.close()


def test_a_run_after_a_compressed_run_is_not_pushed_into_the_future(db_url):
    """The next run on the same machine starts at its own clock (an offset used to carry
    the fast run's stamps into every later run)."""
    rig, _ = _scaled_rig(db_url)
    _episode(rig)
    rig.close()
    again = Rig(db_url)  # speed 1, its wall clock at 2026-01-01
    try:
        again.feed(0, 5)
        wall_now = again.clock.wall().timestamp()
        with again.store.engine.connect() as conn:
            started = conn.execute(text("SELECT started_ts FROM sessions WHERE id = :s"),
                                   {"s": again.store.session_id}).scalar()
            newest = conn.execute(text("SELECT max(ts) FROM readings WHERE ts < :r"),
                                  {"r": REAL0}).scalar()
        assert started is not None and newest is not None
        assert started <= wall_now and newest <= wall_now
    finally:
        again.close()


def test_monitor_at_speed_dates_every_record_by_the_wall_clock(tmp_path):
    """Real processes: `monitor --speed 40` through a desaturation, then `incidents export`:
    every time lies between the start and the end of the run, and the record says SIMULATED
    with the scenario's virtual duration."""
    rec = tmp_path / "desat.csv"
    lines = ["time,spo2,pr"] + [f"{t},{97 if t < 20 or t >= 200 else 79},72"
                                for t in range(400)]
    rec.write_text("\n".join(lines) + "\n")
    db = str(tmp_path / "speed.sqlite3")
    began = time.time()
    run = subprocess.run([sys.executable, "-m", "oximon", "monitor", "--source", f"replay:{rec}",
                          "--speed", "40", "--db", db, "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    ended = time.time()
    assert run.returncode == 0, run.stderr
    out = subprocess.run([sys.executable, "-m", "oximon", "incidents", "export", "--format",
                          "json", "--db", db], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    records = json.loads(out.stdout)
    assert records, "no incident recorded"
    for r in records:
        times = [r["opened_ts"], r["closed_ts"], r["nadir_ts"],
                 *(a["ts"] for a in r["alarms"]), *(x["ts"] for x in r.get("trace", []))]
        assert all(began - 1 <= x <= ended for x in times if x is not None), (began, ended)
        assert r["timeline"] == {"speed": 40.0, "simulated": True}
    show = subprocess.run([sys.executable, "-m", "oximon", "incidents", "show",
                           records[0]["id"], "--db", db], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert "SIMULATED, run at ×40 speed" in show.stdout
