"""The SQLite file: private, durable settings, and bad files reported and left untouched."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event

from oximon.cli import main
from oximon.store import (
    StoreInputError,
    StoreUnavailable,
    default_path,
    location,
    open_store,
)
from oximon.store.purge import PurgeJob
from tests.store.storerig import Rig


def _digest(path: Path) -> tuple[str, float]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime


def test_file_is_private_wal_and_fully_synchronous(tmp_path):
    path = tmp_path / "new" / "oximon.db"
    store = open_store(str(path), writer=True)
    try:
        for p in (path, Path(f"{path}-wal")):
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        store.close()


def test_default_location_is_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_path() == tmp_path / "oximon" / "oximon.sqlite3"
    store = open_store(None, writer=True)
    store.close()
    assert default_path().exists()


def test_corrupt_file_is_reported_and_untouched(tmp_path, capsys):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is a spreadsheet, not a database" * 100)
    before = _digest(bad)
    with pytest.raises(StoreInputError, match="not a database"):
        open_store(str(bad), writer=True)
    assert main(["monitor", "--source", "sim:normal:1", "--duration", "1", "--db", str(bad)]) == 2
    assert "bad.db: not a database" in capsys.readouterr().err
    assert main(["incidents", "list", "--db", str(bad)]) == 2
    assert _digest(bad) == before and not Path(f"{bad}-wal").exists()


def test_damaged_pages_are_reported_and_untouched(tmp_path):
    path = tmp_path / "x.db"
    rig = Rig(str(path))
    rig.feed(0, 300)
    rig.close()
    data = bytearray(path.read_bytes())
    for i in range(4096 * 2, len(data) - 100, 4096):  # scribble over every page body
        data[i + 50:i + 90] = b"\xff" * 40
    path.write_bytes(bytes(data))
    before = _digest(path)
    with pytest.raises(StoreInputError, match=r"damaged|malformed|not a database"):
        open_store(str(path), writer=True)
    assert _digest(path) == before


def test_foreign_database_is_refused_and_untouched(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE customers (name TEXT)")
    con.commit()
    con.close()
    before = _digest(path)
    with pytest.raises(StoreInputError, match="other program's database"):
        open_store(str(path), writer=True)
    assert _digest(path) == before


def test_newer_schema_is_refused_and_untouched(tmp_path, capsys):
    path = tmp_path / "x.db"
    open_store(str(path), writer=True).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = '9001'")
    con.commit()
    con.close()
    before = _digest(path)
    with pytest.raises(StoreInputError, match=r"newer oximon \(schema 9001"):
        open_store(str(path), writer=True)
    assert main(["incidents", "verify", "--db", str(path)]) == 2
    assert "newer oximon" in capsys.readouterr().err
    assert _digest(path) == before


def test_locked_database_is_a_runtime_failure(tmp_path):
    path = tmp_path / "x.db"
    open_store(str(path), writer=True).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = DELETE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreUnavailable, match="locked"):
            open_store(str(path), writer=True, busy_timeout_s=0.1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_folder_or_unreadable_file_is_bad_input(tmp_path):
    with pytest.raises(StoreInputError, match="is a folder"):
        open_store(str(tmp_path), writer=True)
    with pytest.raises(StoreInputError, match="no incident store here"):
        open_store(str(tmp_path / "missing.db"), writer=False, create=False)
    if os.geteuid() == 0:
        return  # root reads any file; the permission case cannot be shown as root
    path = tmp_path / "x.db"
    open_store(str(path), writer=True).close()
    path.chmod(0)
    with pytest.raises(StoreInputError, match="cannot read"):
        open_store(str(path), writer=True)


def test_sqlite_full_disk_raises_the_alarm_then_recovers(tmp_path):
    """A real SQLITE_FULL (the database may not grow), not a simulated one."""
    rig = Rig(str(tmp_path / "x.db"))
    limit = {"pages": 1_000_000}

    @event.listens_for(rig.store.engine, "checkout")
    def _limit(dbapi_connection: sqlite3.Connection, *_: object) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {limit['pages']}")

    try:
        rig.feed(0, 5)
        with rig.store.engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
        assert isinstance(pages, int)
        limit["pages"] = pages
        rig.feed(5, 600)  # the file may not grow: writes fail, monitoring goes on
        failing_when_full = rig.store.failing  # read now: the property changes as it writes
        assert failing_when_full
        limit["pages"] = 1_000_000
        rig.feed(600, 610)
        assert not rig.store.failing
        assert len(rig.store.readings("s1")) == 610
        assert rig.records_alarm() == [True, False]
    finally:
        rig.close()


def test_the_hourly_purge_runs_on_the_writer_thread(tmp_path, monkeypatch):
    rig = Rig(str(tmp_path / "x.db"), retention_days=1.0)
    try:
        with rig.store.engine.begin() as conn:  # two days of old readings
            conn.exec_driver_sql(
                "INSERT INTO readings (station, ts, spo2, pr, pi, flags) "
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999) "
                "SELECT 's9', ? - 2 * 86400 + i, 97, 70, NULL, 0 FROM n",
                (rig.store._now_ts(),))
        rig.feed(0, 3)
        calls: list[threading.Thread] = []
        real = rig.store._purge_step

        def noted(job: PurgeJob) -> bool:
            calls.append(threading.current_thread())
            return real(job)

        monkeypatch.setattr(rig.store, "_purge_step", noted)
        rig.feed(3600, 3602)  # an hour later: the purge is handed over, not run here
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and rig.store.readings("s9"):
            time.sleep(0.01)
        assert rig.store.readings("s9") == []
        assert calls and threading.current_thread() not in calls
    finally:
        rig.close()


def test_the_full_page_check_runs_only_when_due(tmp_path, monkeypatch):
    path = tmp_path / "x.db"
    checks: list[bool] = []
    real = location._look

    def noted(con: sqlite3.Connection, p: Path, quick: bool) -> tuple[set[str], str | None]:
        checks.append(quick)
        return real(con, p, quick)

    monkeypatch.setattr(location, "_look", noted)
    open_store(str(path), writer=True).close()  # a new file: nothing to check yet
    open_store(str(path), writer=True).close()  # first run on it today: checked
    open_store(str(path), writer=True).close()  # as this program left it today: not again
    open_store(str(path)).close()  # a reader never runs it
    assert checks == [True, False, False]
    with sqlite3.connect(path) as con:  # changed by someone else
        con.execute("CREATE TABLE IF NOT EXISTS x (a)")
    open_store(str(path), writer=True).close()
    assert checks[-1] is True


def test_an_empty_or_truncated_file_is_refused_by_readers_and_left_alone(tmp_path, capsys):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    assert main(["incidents", "list", "--db", str(empty)]) == 2
    assert "not a database (the file is empty)" in capsys.readouterr().err
    assert empty.stat().st_size == 0
    good = tmp_path / "good.db"
    rig = Rig(str(good))
    rig.feed(0, 300)
    rig.close()
    cut = tmp_path / "cut.db"
    cut.write_bytes(good.read_bytes()[:5000])
    cut.chmod(0o644)
    assert main(["incidents", "list", "--db", str(cut)]) == 2
    assert "damaged" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("cut")) == ["cut.db"]
