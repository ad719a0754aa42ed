"""Failures 1 and 7 (issue 14): nothing is lost silently when the disk is full or the
server is down, and monitoring starts even then.

Real processes on a full 2 MB tmpfs: a run that ends with records unwritten exits 1 and
names the recovery journal (in another folder); the next run writes the journal, so every
announced incident is in the store and verify passes; a kill -9 during the outage loses
nothing either (the journal is written at each failed write); a run that starts with the
database unreachable (full disk, no PostgreSQL) monitors, raises "Records are not being
saved" and keeps its records."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time

import pytest

from tests.faults.disk import fill, free, small_disk
from tests.faults.procs import finish, run, spawn, wait_for

DESAT = ["--source", "sim:rapid-desat", "--source", "sim:slow-desat", "--source",
         "sim:apnea", "--speed", "50"]


def _opened(out: str) -> set[str]:
    return {e["id"] for e in map(json.loads, out.splitlines())
            if e.get("type") == "incident" and e.get("state") == "opened"}


def _records_alarm(out: str) -> list[dict]:
    return [e for e in map(json.loads, out.splitlines())
            if e.get("condition") == "records_not_saved"]


def test_a_run_that_ends_on_a_full_disk_exits_1_and_the_next_run_writes_everything(tmp_path):
    journal = tmp_path / "journal"
    env = {"OXIMON_JOURNAL_DIR": str(journal)}
    with small_disk(tmp_path / "disk") as disk:
        db = str(disk / "s.db")
        code, _out, err = run("monitor", "--source", "sim:normal", "--duration", "2", "--db",
                              db, env=env)
        assert code == 0, err
        filler = fill(disk)
        code, out, err = run("monitor", *DESAT, "--duration", "900", "--db", db, "--json",
                             env=env)
        announced = _opened(out)
        assert announced, out[-2000:]
        assert code == 1, err
        assert _records_alarm(out)[0]["state"] == "raised"
        kept = list(journal.glob("*.json"))
        assert len(kept) == 1 and str(kept[0]) in err and "records not saved" in err
        assert os.stat(kept[0]).st_mode & 0o077 == 0
        free(filler)
        code, _out, err = run("monitor", "--source", "sim:normal", "--duration", "2",
                              "--speed", "10", "--db", db, env=env)
        assert code == 0, err
        assert "wrote the records an earlier run could not save" in err
        assert not list(journal.glob("*.json"))
        con = sqlite3.connect(db)
        stored = {r[0] for r in con.execute("select id from incidents")}
        assert announced <= stored
        assert con.execute("select count(*) from audit_log where action='journal_written'"
                           ).fetchone() == (1,)
        con.close()
        code, out, err = run("incidents", "verify", "--db", db)
        assert code == 0, out + err


def test_a_kill_9_during_the_outage_loses_nothing(tmp_path):
    journal = tmp_path / "journal"
    env = {"OXIMON_JOURNAL_DIR": str(journal)}
    with small_disk(tmp_path / "disk") as disk:
        db = str(disk / "s.db")
        assert run("monitor", "--source", "sim:normal", "--duration", "2", "--db", db,
                   env=env)[0] == 0
        filler = fill(disk)
        proc = spawn("monitor", *DESAT, "--db", db, "--json", env=env)
        lines = wait_for(proc, '"opened"', timeout=90)
        announced = _opened("".join(x for x in lines if x.startswith("{")))
        time.sleep(6)  # one more retry: the journal holds the incident's events
        os.kill(proc.pid, signal.SIGKILL)
        finish(proc)
        assert list(journal.glob("*.json"))
        free(filler)
        assert run("monitor", "--source", "sim:normal", "--duration", "2", "--speed", "10",
                   "--db", db, env=env)[0] == 0
        con = sqlite3.connect(db)
        assert announced <= {r[0] for r in con.execute("select id from incidents")}
        con.close()


def test_monitoring_starts_on_a_full_disk_and_catches_up_when_it_is_freed(tmp_path):
    journal = tmp_path / "journal"
    env = {"OXIMON_JOURNAL_DIR": str(journal)}
    with small_disk(tmp_path / "disk") as disk:
        filler = fill(disk)
        db = str(disk / "s.db")  # not even created yet
        proc = spawn("monitor", *DESAT, "--db", db, "--json", env=env)
        seen = wait_for(proc, "records_not_saved", timeout=60)
        assert json.loads(seen[-1])["state"] == "raised"
        wait_for(proc, '"opened"', timeout=90)  # clinical alarms go on
        free(filler)
        seen = wait_for(proc, "records_not_saved", timeout=60)  # the store is back
        assert json.loads(seen[-1])["state"] == "cleared"
        proc.send_signal(signal.SIGTERM)
        code, _out, err = finish(proc)
        assert code == 0, err
        assert not list(journal.glob("*.json"))
        con = sqlite3.connect(db)
        assert con.execute("select count(*) from incidents").fetchone()[0] >= 1
        con.close()
        code, out, err = run("incidents", "verify", "--db", db)
        assert code == 0, out + err


def test_monitoring_starts_with_postgresql_down_and_keeps_the_records(tmp_path):
    journal = tmp_path / "journal"
    db = "postgresql://postgres@127.0.0.1:9/nowhere"  # nothing listens on port 9
    code, out, err = run("monitor", *DESAT, "--duration", "300", "--db", db, "--json",
                         env={"OXIMON_JOURNAL_DIR": str(journal)})
    assert _records_alarm(out) and _opened(out)
    assert code == 1 and "RECORDS ARE NOT BEING SAVED" in err
    kept = list(journal.glob("*.json"))
    assert len(kept) == 1 and str(kept[0]) in err
    assert {e["incident_id"] for e in json.loads(kept[0].read_text())["events"]} >= _opened(out)


@pytest.fixture(autouse=True)
def _no_leftover_mounts():
    yield
