"""The README's least-privilege roles, exactly as written there: the owner makes the tables
(`oximon site init`), then a hub process runs as the hub role and a viewer (the dashboard's
engine and incident log), `site status` and `site ack` as the viewer role — each does its
job, and the viewer can write no booth's record nor any live state directly."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import errors

from tests.sitekit import (
    ROOT,
    Viewer,
    oximon,
    rows,
    scratch_site,
    start_hub,
    stop,
    wait_for,
    while_running,
)


def readme_grants(hub_role: str, viewer_role: str) -> list[str]:
    """The README's SQL for the roles, statement by statement, with this test's role names
    (roles are the cluster's, not the database's); the owner is the test's superuser."""
    text = (ROOT / "README.md").read_text()
    block = text[text.index("Least-privilege roles"):]
    block = block[block.index("```sql") + 6:]
    block = block[:block.index("```")]
    sql = "\n".join(line.split("--")[0] for line in block.splitlines())
    out = []
    for stmt in (s.strip() for s in sql.split(";")):
        if not stmt or stmt.startswith(("CREATE ROLE", "CREATE DATABASE")):
            continue
        stmt = re.sub(r"\boximon_hub\b", hub_role, stmt)
        out.append(re.sub(r"\boximon_viewer\b", viewer_role, stmt))
    return out


@pytest.fixture
def roles(tmp_path: Path) -> Iterator[tuple[Path, Path, Path, str, str]]:
    """(owner's, hub's, viewer's site file, hub's URL, viewer's URL)."""
    with scratch_site(tmp_path) as (owner_file, url):
        tag = secrets.token_hex(3)
        names = {"hub": f"oximon_hub_{tag}", "viewer": f"oximon_viewer_{tag}"}
        with psycopg.connect(url, autocommit=True) as conn:
            for name in names.values():
                conn.execute(f"CREATE ROLE {name} LOGIN")
        try:
            made = oximon("site", "init", "--config", str(owner_file))
            assert made.returncode == 0, made.stderr
            with psycopg.connect(url, autocommit=True) as conn:
                for stmt in readme_grants(names["hub"], names["viewer"]):
                    conn.execute(stmt)
            files, urls = {}, {}
            for role, name in names.items():
                urls[role] = url.replace("postgres@", f"{name}@", 1)
                files[role] = tmp_path / f"{role}.toml"
                files[role].write_text(owner_file.read_text().replace(url, urls[role]))
                files[role].chmod(0o600)
            yield owner_file, files["hub"], files["viewer"], urls["hub"], urls["viewer"]
        finally:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                             "usename = ANY(%s)", (list(names.values()),))
                for name in names.values():
                    conn.execute(f"DROP OWNED BY {name}")
                    conn.execute(f"DROP ROLE {name}")


@pytest.mark.postgres
def test_a_hub_and_a_viewer_do_their_jobs_as_the_documented_roles(
        roles: tuple[Path, Path, Path, str, str]) -> None:
    owner_file, hub_file, viewer_file, hub_url, viewer_url = roles
    hub = start_hub(hub_file, "room-1")
    viewer = Viewer(viewer_file, viewer_url)
    engine, log = viewer.engine, viewer.services.incident_log
    seen: dict[str, object] = {}

    async def watch() -> None:
        await asyncio.to_thread(wait_for, "booth-1's alarm on the viewer", lambda: [
            a for a in engine.alarms.active_alarms() if a.station == "booth-1"])
        iid = await asyncio.to_thread(wait_for, "the hub's incident",
                                      lambda: log.current_incident("booth-1"))
        await asyncio.to_thread(log.record_action, iid, "stimulated", engine.clock.now(),
                                "Lee")
        seen["iid"] = iid
        status = await asyncio.to_thread(oximon, "site", "status", "--config",
                                         str(viewer_file), "--json")
        assert status.returncode == 0, status.stderr
        seen["status"] = {r["booth"]: r for r in map(json.loads,
                                                       status.stdout.splitlines())}
        ack = await asyncio.to_thread(oximon, "site", "ack", "booth-1", "--config",
                                      str(viewer_file), "--by", "Sam")
        assert ack.returncode == 0, ack.stderr
        await asyncio.to_thread(wait_for, "room-2 silent on the viewer", lambda: [
            a for a in engine.alarms.active_alarms() if a.condition == "hub_silent:room-2"])
        await asyncio.sleep(2.0)  # the screen's writer saves its own rows
        seen["saving"] = viewer.records.saving_ok

    try:
        while_running([engine], watch)
    finally:
        viewer.close()
        stop(hub, hub_file.parent / "room-1.log")
    assert hub.returncode == 0
    assert seen["saving"] is True  # nothing the viewer writes was refused
    status = seen["status"]
    assert isinstance(status, dict)
    assert status["booth-1"]["hub_alive"] is True and status["booth-3"]["hub_alive"] is False
    owner = "postgresql://postgres@" + viewer_url.split("@", 1)[1]
    # The hub wrote its booths' records as the hub role, the viewer's response among them.
    actions = rows(owner, "SELECT actor FROM incident_events WHERE incident_id = %s AND "
                   "kind = 'action'", seen["iid"])
    assert [a for (a,) in actions if a.startswith("Lee (at ")]
    assert rows(owner, "SELECT count(*) FROM readings WHERE station = 'booth-1'")[0][0] > 0
    assert rows(owner, "SELECT count(*) FROM audit_log WHERE action = 'site.acknowledge'"
                " AND actor = 'Sam'")[0][0] == 1
    assert not rows(owner, "SELECT 1 FROM alarm_log WHERE condition = 'records_not_saved'")
    # ...and the viewer its own alarm log (its "hub silent" alarm), as the viewer role.
    assert rows(owner, "SELECT count(*) FROM alarm_log WHERE condition = 'hub_silent:room-2'"
                )[0][0] > 0

    # The viewer can write no booth's record, publish no state, pretend to be no hub.
    forbidden = [
        ("INSERT INTO readings (station, ts) VALUES ('booth-1', 0)", "readings"),
        ("UPDATE incidents SET outcome = 'x'", "incidents"),
        ("DELETE FROM incident_events", "incident_events"),
        ("UPDATE site_booths SET state = '{}'", "site_booths"),
        ("UPDATE site_hubs SET beat_at = now()", "site_hubs"),
        ("UPDATE site_commands SET result = 'x'", "site_commands"),
        ("DELETE FROM booth_leases", "booth_leases"),
        ("CREATE TABLE x (y int)", "public"),
    ]
    for sql, what in forbidden:
        with psycopg.connect(viewer_url) as conn, pytest.raises(
                errors.InsufficientPrivilege, match=what):
            conn.execute(sql)
    with psycopg.connect(hub_url) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("CREATE TABLE x (y int)")  # a hub cannot change the schema either
    assert owner_file.exists()
