"""Failure 5 (issue 14): SIGTERM (systemctl stop, a shutdown) and SIGINT are a clean stop:
the session ends as "stopped", the exit is 0, and the next run never calls it a crash."""

from __future__ import annotations

import signal
import sqlite3

import pytest

from tests.faults.procs import finish, run, spawn, wait_for


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_monitor_stops_cleanly_on_a_signal(tmp_path, sig):
    db = str(tmp_path / "s.db")
    proc = spawn("monitor", "--source", "sim:normal", "--db", db, "--json")
    wait_for(proc, "streaming", timeout=60)  # running
    proc.send_signal(sig)
    code, _out, err = finish(proc)
    assert code == 0, err
    con = sqlite3.connect(db)
    assert con.execute("select end_reason from sessions").fetchall() == [("stopped",)]
    detail = con.execute("select detail from audit_log where action='session_ended'").fetchone()
    assert signal.Signals(sig).name in detail[0]
    con.close()
    # The next run finds nothing crashed.
    code, _out, err = run("monitor", "--source", "sim:normal", "--db", db, "--duration", "1",
                          "--speed", "10")
    assert code == 0, err
    con = sqlite3.connect(db)
    assert con.execute("select count(*) from audit_log where action='session_crashed'"
                       ).fetchone() == (0,)
    assert con.execute("select count(*) from incident_events where data like "
                       "'%stopped unexpectedly%'").fetchone() == (0,)


def test_dashboard_stops_cleanly_on_sigterm(tmp_path):
    db = str(tmp_path / "s.db")
    proc = spawn("dashboard", "--demo", "--stations", "2", "--db", db,
                 env={"OXIMON_TEST_STARTED": "1"})
    # The dashboard prints nothing on stdout; wait until its session is in the store.
    import time
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            con = sqlite3.connect(db)
            if con.execute("select count(*) from alarm_log").fetchone()[0] or \
                    con.execute("select count(*) from readings").fetchone()[0]:
                con.close()
                break
            con.close()
        except sqlite3.Error:
            pass
        time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    code, _out, err = finish(proc)
    assert code == 0, err
    con = sqlite3.connect(db)
    assert con.execute("select end_reason from sessions").fetchall() == [("stopped",)]
