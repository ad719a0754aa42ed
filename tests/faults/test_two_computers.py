"""Failure 6 (issue 14): two monitors with the same booth ids on one store. The second is
refused (exit 2, naming the booth and the other computer); a stale lease (the other
computer went silent, or its process here is gone) is taken over and audited; verify stays
clean. Real processes on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from sqlalchemy import create_engine, text

from oximon.store import open_store
from oximon.store.leases import LeaseConflict
from tests.faults.procs import finish, run, spawn, wait_for


def _sql(url: str, statement: str, **params: object) -> list[tuple]:
    eng = create_engine(url if "://" in url else f"sqlite:///{url}")
    with eng.begin() as conn:
        res = conn.execute(text(statement), params)
        rows = [tuple(r) for r in res] if res.returns_rows else []
    eng.dispose()
    return rows


def test_a_second_monitor_on_the_same_booth_is_refused(db_url):
    first = spawn("monitor", "--source", "sim:normal", "--db", db_url, "--json")
    try:
        wait_for(first, "streaming")
        code, _out, err = run("monitor", "--source", "sim:normal", "--db", db_url,
                              "--duration", "2")
        assert code == 2, err
        assert "sim-1 is monitored by another oximon on this computer" in err
        assert f":{first.pid}:" in err
    finally:
        first.send_signal(signal.SIGTERM)
        assert finish(first)[0] == 0
    assert _sql(db_url, "select count(*) from booth_leases") == [(0,)]  # released
    code, out, err = run("incidents", "verify", "--db", db_url)
    assert code == 0, out + err


def test_a_live_lease_of_another_computer_refuses_and_a_stale_one_is_taken_over(db_url):
    now = time.time()
    _sql(db_url, "select 1")  # nothing yet: make the store
    store = open_store(db_url, writer=False, create=True)
    store.leases.claim(["sim-1"], "pc-2:99:abc", "pc-2", "abc", now_ts=now)
    store.close()
    code, _out, err = run("monitor", "--source", "sim:normal", "--db", db_url, "--duration", "1")
    assert code == 2
    assert "sim-1 is monitored by another computer (host pc-2, last seen" in err
    # pc-2 went silent 20 s ago: its lease is stale and taken over (and audited).
    _sql(db_url, "update booth_leases set heartbeat_ts = :t", t=now - 20)
    code, _out, err = run("monitor", "--source", "sim:normal", "--db", db_url, "--duration", "1",
                          "--speed", "10")
    assert code == 0, err
    rows = _sql(db_url, "select target, detail from audit_log where action='lease.taken_over'")
    assert [r[0] for r in rows] == ["sim-1"] and json.loads(rows[0][1])["from_host"] == "pc-2"
    code, out, err = run("incidents", "verify", "--db", db_url)
    assert code == 0, out + err


def test_a_killed_monitors_lease_is_taken_over_at_once(db_url):
    first = spawn("monitor", "--source", "sim:normal", "--db", db_url)
    wait_for(first, "Streaming")
    os.kill(first.pid, signal.SIGKILL)
    finish(first)
    code, _out, err = run("monitor", "--source", "sim:normal", "--db", db_url, "--duration", "1",
                          "--speed", "10")
    assert code == 0, err
    assert _sql(db_url, "select count(*) from audit_log where action='lease.taken_over'"
                ) == [(1,)]


def test_claim_is_all_or_nothing(db_url):
    a = open_store(db_url, writer=False, create=True)
    a.leases.claim(["b2"], "pc-2:1:x", "pc-2", "x")
    with pytest.raises(LeaseConflict, match="b2 is monitored by another computer"):
        a.leases.claim(["b1", "b2"], "pc-3:1:y", "pc-3", "y")
    assert [(lease.booth, lease.owner) for lease in a.leases.holders()] == [("b2", "pc-2:1:x")]
    assert a.leases.renew("pc-2:1:x", now_ts=time.time() + 5) == 1
    a.leases.release("pc-2:1:x")
    assert a.leases.holders() == []
    a.close()
